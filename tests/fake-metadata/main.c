/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-fake-metadata: command line, signals, the waker thread. */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake.h"

struct fake_state fake = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static void *waker(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&fake.lock);
        while (!fake.stopping) {
                uint64_t next = fake_wake_waiters(false);
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
                uint64_t until = next && next > now ? next : now + 1000000u;
                if (next && next <= now)
                        continue;
                ts.tv_sec = (time_t)(until / 1000000u);
                ts.tv_nsec = (long)(until % 1000000u) * 1000;
                pthread_cond_timedwait(&fake.changed, &fake.lock, &ts);
        }
        fake_wake_waiters(true);
        pthread_mutex_unlock(&fake.lock);
        return NULL;
}

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
                   "Serves FIXTURE.json as a GCE metadata server (see oslogin-fake-metadata(1)).\n"
                   "  --listen ADDR:PORT  IPv4 address and port (default 127.0.0.1:8080)\n"
                   "  --data FILE         the fixture; SIGHUP reloads it\n"
                   "  --log FILE          one line per request (default: stderr; '-' for stdout)\n"
                   "  --threads N         worker threads (default 2)\n");
}

static int reload(void)
{
        json_object *o;
        int r = fake_load_fixture_file(fake.data_path, &o);
        if (r < 0)
                return r;
        pthread_mutex_lock(&fake.lock);
        r = fake_set_data(o);
        pthread_mutex_unlock(&fake.lock);
        return r;
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"listen", required_argument, NULL, 'l'},
                {"data", required_argument, NULL, 'd'},
                {"log", required_argument, NULL, 'L'},
                {"threads", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *listen_at = "127.0.0.1:8080", *log_path = NULL;
        unsigned threads = 2;
        struct sockaddr_in addr;
        pthread_condattr_t cattr;
        pthread_t waker_thread;
        sigset_t signals;
        int c, sig;

        while ((c = getopt_long(argc, argv, "l:d:L:t:h", options, NULL)) >= 0) {
                switch (c) {
                case 'l':
                        listen_at = optarg;
                        break;
                case 'd':
                        fake.data_path = optarg;
                        break;
                case 'L':
                        log_path = optarg;
                        break;
                case 't':
                        threads = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc || !fake.data_path || threads == 0 || threads > 64) {
                usage(stderr);
                return 2;
        }
        if (parse_listen(listen_at, &addr) < 0) {
                fprintf(stderr, "oslogin-fake-metadata: --listen %s: expected IPv4ADDR:PORT\n", listen_at);
                return 2;
        }
        fake.log = !log_path ? stderr : strcmp(log_path, "-") == 0 ? stdout : fopen(log_path, "ae");
        if (!fake.log) {
                fprintf(stderr, "oslogin-fake-metadata: %s: %m\n", log_path);
                return 2;
        }
        pthread_condattr_init(&cattr);
        pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
        pthread_cond_init(&fake.changed, &cattr);
        fake.path_counts = json_object_new_object();
        srand48((long)time(NULL));
        if (reload() < 0)
                return 2;

        /* Signals are taken synchronously by the main thread only. */
        sigemptyset(&signals);
        sigaddset(&signals, SIGTERM);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &signals, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                                        MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                0, NULL, NULL, fake_handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 4096u,
                MHD_OPTION_CONNECTION_TIMEOUT, 600u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                MHD_OPTION_NOTIFY_COMPLETED, fake_request_completed, NULL, MHD_OPTION_END);
        if (!d) {
                fprintf(stderr, "oslogin-fake-metadata: cannot listen on %s: %m\n", listen_at);
                return 1;
        }
        pthread_create(&waker_thread, NULL, waker, NULL);
        fprintf(stderr, "oslogin-fake-metadata: serving %s on http://%s/\n", fake.data_path, listen_at);

        while (sigwait(&signals, &sig) == 0 && sig == SIGHUP)
                if (reload() == 0)
                        fprintf(stderr, "oslogin-fake-metadata: reloaded %s\n", fake.data_path);

        pthread_mutex_lock(&fake.lock);
        fake.stopping = true;
        pthread_cond_broadcast(&fake.changed);
        pthread_mutex_unlock(&fake.lock);
        pthread_join(waker_thread, NULL);
        /* The waker resumed every waiting connection; with fake.stopping set
         * none is suspended again (a keep-alive client such as accountsd's
         * long-poll asks again at once), since libmicrohttpd aborts when
         * stopped with a suspended connection. */
        MHD_stop_daemon(d);
        fake_directory_free(&fake.dir);
        json_object_put(fake.tree);
        json_object_put(fake.fixture);
        json_object_put(fake.path_counts);
        if (fake.log != stderr && fake.log != stdout)
                fclose(fake.log);
        return 0;
}
