/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-mds-get: one metadata request through lib/mds, for tests, the demo
 * and administrators checking what the host sees.
 *
 *   oslogin-mds-get [--url URL] [--config FILE] [--timeout DURATION]
 *                   [--wait-for-change [--last-etag ETAG] [--timeout-sec N]]
 *                    [--query KEY=VALUE]... [--count] [--verbose]
 *                    [--repeat N [--interval MS]] PATH
 *
 * Prints the body on stdout; with --verbose the ETag and the transport
 * ("via: https" or "via: http"), with --count the number of requests
 * (retries included) on stderr. --repeat asks N times with the same client,
 * MS apart (default 100), and reports each call on stderr ("call I: via
 * https: OK" or the error): a long-lived client such as accountsd's.
 * Exit (of the last call): 0 on 200, 4 on 404, 1 on any other failure. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "mds/config.h"
#include "mds/mds-client.h"

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"url", required_argument, NULL, 'u'},
                {"config", required_argument, NULL, 'c'},
                {"timeout", required_argument, NULL, 't'},
                {"wait-for-change", no_argument, NULL, 'w'},
                {"last-etag", required_argument, NULL, 'e'},
                {"timeout-sec", required_argument, NULL, 's'},
                {"query", required_argument, NULL, 'q'},
                {"count", no_argument, NULL, 'n'},
                {"verbose", no_argument, NULL, 'v'},
                {"repeat", required_argument, NULL, 'r'},
                {"interval", required_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(config_free) struct oslogin_config config = {};
        _cleanup_mds_client_ struct mds_client *client = NULL;
        _cleanup_mds_response_ struct mds_response response = {};
        _cleanup_free_ char *path = NULL;
        const char *config_path = NULL, *url = NULL, *timeout = NULL, *last_etag = NULL;
        _cleanup_strv_free_ char **queries = NULL;
        bool wait = false, count = false, verbose = false;
        unsigned timeout_sec = 60, repeat = 1, interval_ms = 100;
        int c, r;

        log_open("oslogin-mds-get", LOG_TARGET_STDERR, LOG_USER);
        while ((c = getopt_long(argc, argv, "u:c:t:we:s:q:nvr:i:h", options, NULL)) >= 0) {
                switch (c) {
                case 'u':
                        url = optarg;
                        break;
                case 'c':
                        config_path = optarg;
                        break;
                case 't':
                        timeout = optarg;
                        break;
                case 'w':
                        wait = true;
                        break;
                case 'e':
                        last_etag = optarg;
                        break;
                case 's':
                        timeout_sec = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'q':
                        if (!strchr(optarg, '=') || strv_extend(&queries, optarg) < 0)
                                return log_error("--query wants KEY=VALUE"), 1;
                        break;
                case 'n':
                        count = true;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'r':
                        repeat = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'i':
                        interval_ms = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'h':
                        printf("Usage: %s [--url URL] [--config FILE] [--timeout DURATION] "
                               "[--wait-for-change "
                               "[--last-etag ETAG] [--timeout-sec N]] [--query KEY=VALUE]... [--count] "
                               "[--verbose] "
                               "[--repeat N [--interval MS]] PATH\n",
                                argv[0]);
                        return 0;
                default:
                        return 1;
                }
        }
        if (optind != argc - 1)
                return log_error("Expected exactly one PATH (e.g. \"instance/attributes/\"), see --help."),
                       1;

        r = config_load(config_path, 0, &config);
        if (r < 0)
                return 1;
        if (url) {
                free(config.url);
                config.url = strdup(url);
        }
        if (timeout && parse_duration(timeout, &config.timeout_usec) < 0)
                return log_error("Invalid --timeout \"%s\".", timeout), 1;
        r = mds_client_new(&config, 0, &client);
        if (r < 0)
                return log_error_errno(r, "Cannot create metadata client: %m"), 1;
        path = strdup(argv[optind]);
        for (char **q = queries; q && *q && path; q++) {
                char *eq = strchr(*q, '=');
                *eq = '\0';
                if (mds_query_append(&path, *q, eq + 1) < 0)
                        return 1;
        }
        if (!path)
                return 1;
        for (unsigned i = 1; i <= MAX(repeat, 1u); i++) {
                if (i > 1) {
                        struct timespec ts = {.tv_sec = interval_ms / 1000,
                                .tv_nsec = (long)(interval_ms % 1000) * 1000000};
                        nanosleep(&ts, NULL);
                        mds_response_done(&response);
                }
                bool https = mds_client_uses_https(client);
                if (wait)
                        r = mds_wait_for_change(client, path, last_etag, timeout_sec, &response);
                else
                        r = mds_get(client, path, &response);
                if (repeat > 1)
                        fprintf(stderr, "call %u: via %s: %s\n", i, https ? "https" : "http",
                                r < 0 ? strerror(-r) : "OK");
        }
        if (count)
                fprintf(stderr, "requests: %llu\n", (unsigned long long)mds_client_request_count(client));
        if (r < 0) {
                log_error_errno(r, "GET %s%s: %m", mds_client_base_url(client), path);
                return r == -ENOENT ? 4 : 1;
        }
        fwrite(response.body, 1, response.size, stdout);
        if (verbose)
                fprintf(stderr, "etag: %s\nvia: %s\n", response.etag ?: "",
                        mds_client_uses_https(client) ? "https" : "http");
        return 0;
}
