/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-mds-get: one metadata request through lib/mds, for tests, the demo
 * and administrators checking what the host sees.
 *
 *   oslogin-mds-get [--url URL] [--config FILE] [--timeout DURATION]
 *                   [--wait-for-change [--last-etag ETAG] [--timeout-sec N]]
 *                    [--query KEY=VALUE]... [--count] [--verbose] PATH
 *
 * Prints the body on stdout; with --verbose the ETag, with --count the
 * number of requests (retries included) on stderr.
 * Exit: 0 on 200, 4 on 404, 1 on any other failure. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "mds/config.h"
#include "mds/mds-client.h"

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"url", required_argument, NULL, 'u'},        {"config", required_argument, NULL, 'c'},
                {"timeout", required_argument, NULL, 't'},    {"wait-for-change", no_argument, NULL, 'w'},
                {"last-etag", required_argument, NULL, 'e'},  {"timeout-sec", required_argument, NULL, 's'},
                {"query", required_argument, NULL, 'q'},      {"count", no_argument, NULL, 'n'},        {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},             {},
        };
        _cleanup_(config_free) struct oslogin_config config = {};
        _cleanup_mds_client_ struct mds_client *client = NULL;
        _cleanup_mds_response_ struct mds_response response = {};
        _cleanup_free_ char *path = NULL;
        const char *config_path = NULL, *url = NULL, *timeout = NULL, *last_etag = NULL;
        _cleanup_strv_free_ char **queries = NULL;
        bool wait = false, count = false, verbose = false;
        unsigned timeout_sec = 60;
        int c, r;

        log_open("oslogin-mds-get", LOG_TARGET_STDERR, LOG_USER);
        while ((c = getopt_long(argc, argv, "u:c:t:we:s:q:nvh", options, NULL)) >= 0) {
                switch (c) {
                case 'u': url = optarg; break;
                case 'c': config_path = optarg; break;
                case 't': timeout = optarg; break;
                case 'w': wait = true; break;
                case 'e': last_etag = optarg; break;
                case 's': timeout_sec = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'q':
                        if (!strchr(optarg, '=') || strv_extend(&queries, optarg) < 0)
                                return log_error("--query wants KEY=VALUE"), 1;
                        break;
                case 'n': count = true; break;
                case 'v': verbose = true; break;
                case 'h':
                        printf("Usage: %s [--url URL] [--config FILE] [--timeout DURATION] [--wait-for-change "
                               "[--last-etag ETAG] [--timeout-sec N]] [--query KEY=VALUE]... [--count] [--verbose] PATH\n",
                               argv[0]);
                        return 0;
                default: return 1;
                }
        }
        if (optind != argc - 1)
                return log_error("Expected exactly one PATH (e.g. \"instance/attributes/\"), see --help."), 1;

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
        if (wait)
                r = mds_wait_for_change(client, path, last_etag, timeout_sec, &response);
        else
                r = mds_get(client, path, &response);
        if (count)
                fprintf(stderr, "requests: %llu\n", (unsigned long long)mds_client_request_count(client));
        if (r < 0) {
                log_error_errno(r, "GET %s%s: %m", mds_client_base_url(client), path);
                return r == -ENOENT ? 4 : 1;
        }
        fwrite(response.body, 1, response.size, stdout);
        if (verbose)
                fprintf(stderr, "etag: %s\n", response.etag ?: "");
        return 0;
}
