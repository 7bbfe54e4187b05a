/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-fake-metadata: command line and signals (the daemon itself: daemon.c). */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/version.h"
#include "fake.h"

static int parse_listen(const char *s, struct sockaddr_in *ret)
{
        const char *colon = strrchr(s, ':');
        char host[64];
        unsigned long port;
        char *end;

        if (!colon || (size_t)(colon - s) >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno || *end || port == 0 || port > 65535)
                return -EINVAL;
        memset(ret, 0, sizeof(*ret));
        ret->sin_family = AF_INET;
        ret->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &ret->sin_addr) != 1)
                return -EINVAL;
        return 0;
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: oslogin-fake-metadata [--listen ADDR:PORT] --data FIXTURE.json [--log FILE] "
                   "[--threads N]\n"
                   "                             [--tls-cert PEM --tls-key PEM --tls-client-ca PEM]\n"
                   "Serves FIXTURE.json as a GCE metadata server (see oslogin-fake-metadata(1)).\n"
                   "  --listen ADDR:PORT  IPv4 address and port (default 127.0.0.1:8080)\n"
                   "  --data FILE         the fixture; SIGHUP reloads it\n"
                   "  --log FILE          one line per request (default: stderr; '-' for stdout)\n"
                   "  --threads N         worker threads (default 2)\n"
                   "  --tls-cert PEM      HTTPS: the server certificate (chain)\n"
                   "  --tls-key PEM       HTTPS: its private key\n"
                   "  --tls-client-ca PEM HTTPS: the CA every client certificate must chain to;\n"
                   "                      a connection without one is refused\n"
                   "  --version           the version\n");
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"listen", required_argument, NULL, 'l'},
                {"data", required_argument, NULL, 'd'},
                {"log", required_argument, NULL, 'L'},
                {"threads", required_argument, NULL, 't'},
                {"tls-cert", required_argument, NULL, 'C'},
                {"tls-key", required_argument, NULL, 'K'},
                {"tls-client-ca", required_argument, NULL, 'A'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        const char *listen_at = "127.0.0.1:8080", *log_path = NULL;
        unsigned threads = 2;
        struct sockaddr_in addr;
        struct MHD_Daemon *d;
        const char *data_path = NULL, *tls_cert = NULL, *tls_key = NULL, *tls_client_ca = NULL;
        sigset_t signals;
        int c, r, sig;

        while ((c = getopt_long(argc, argv, "l:d:L:t:h", options, NULL)) >= 0) {
                switch (c) {
                case 'l':
                        listen_at = optarg;
                        break;
                case 'd':
                        data_path = optarg;
                        break;
                case 'L':
                        log_path = optarg;
                        break;
                case 't':
                        threads = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'C':
                        tls_cert = optarg;
                        break;
                case 'K':
                        tls_key = optarg;
                        break;
                case 'A':
                        tls_client_ca = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        version_print("oslogin-fake-metadata");
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc || !data_path || threads == 0 || threads > 64) {
                usage(stderr);
                return 2;
        }
        if ((tls_cert || tls_key || tls_client_ca) && !(tls_cert && tls_key && tls_client_ca)) {
                fprintf(stderr,
                        "oslogin-fake-metadata: HTTPS needs --tls-cert, --tls-key and --tls-client-ca\n");
                return 2;
        }
        if (tls_cert &&
                (fake_read_pem(tls_cert, &fake.tls.cert) < 0 || fake_read_pem(tls_key, &fake.tls.key) < 0 ||
                        fake_read_pem(tls_client_ca, &fake.tls.client_ca) < 0))
                return 2;
        if (parse_listen(listen_at, &addr) < 0) {
                fprintf(stderr, "oslogin-fake-metadata: --listen %s: expected IPv4ADDR:PORT\n", listen_at);
                return 2;
        }
        fake.log = !log_path ? stderr : strcmp(log_path, "-") == 0 ? stdout : fopen(log_path, "ae");
        if (!fake.log) {
                fprintf(stderr, "oslogin-fake-metadata: %s: %m\n", log_path);
                return 2;
        }
        /* Signals are taken synchronously by the main thread only: block
         * them before fake_start() creates the other threads. */
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = fake_start(data_path, &addr, threads, &d);
        if (r == -EBADMSG)
                return 2;
        if (r < 0) {
                fprintf(stderr, "oslogin-fake-metadata: cannot listen on %s: %s\n", listen_at, strerror(-r));
                return 1;
        }
        fprintf(stderr, "oslogin-fake-metadata: serving %s on %s://%s/%s\n", data_path,
                tls_cert ? "https" : "http", listen_at, tls_cert ? " (client certificates required)" : "");

        while (sigwait(&signals, &sig) == 0 && sig == SIGHUP)
                if (fake_reload() == 0)
                        fprintf(stderr, "oslogin-fake-metadata: reloaded %s\n", data_path);

        fake_stop(d);
        if (fake.log != stderr && fake.log != stdout)
                fclose(fake.log);
        return 0;
}
