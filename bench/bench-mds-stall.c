/* SPDX-License-Identifier: Apache-2.0 */
/* bench-mds-stall NAME=BASE_URL|NAME=@CONFIG...
 *
 * (@CONFIG: an oslogin.conf whose [metadata] section says how to reach the
 * server, e.g. transport = https with its credentials.)
 *
 * The latency of one mds_get() for each server, three ways in the same run:
 * - on one kept-alive connection (what accountsd does);
 * - the same with TCP_QUICKACK not re-armed (the old behaviour, kept only as
 *   a switch for this measurement): against a server that writes headers and
 *   body apart, each request waits for our delayed ACK;
 * - a new client, so a new connection, per request (the baseline that never
 *   stalls, since a fresh socket starts in quick-ACK mode). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mds/config.h"
#include "mds/mds-client.h"

static struct mds_client *client_new(const char *base)
{
        struct oslogin_config config;
        struct mds_client *m;
        if (base[0] == '@') {
                if (config_load(base + 1, CONFIG_LOAD_SKIP_OWNER_CHECK, &config) < 0)
                        abort();
        } else {
                if (config_defaults(&config) < 0)
                        abort();
                free(config.url);
                config.url = strdup(base);
                config.transport = MDS_TRANSPORT_HTTP;
        }
        if (mds_client_new(&config, MDS_CLIENT_IGNORE_ENVIRONMENT, &m) < 0)
                abort();
        config_free(&config);
        return m;
}

static void get(struct mds_client *m)
{
        struct mds_response r = {};
        if (mds_get(m, "instance/hostname", &r) < 0) {
                fprintf(stderr, "request failed\n");
                exit(1);
        }
        mds_response_done(&r);
}

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void report(const char *server, const char *what, uint64_t *v, size_t n, uint64_t connections)
{
        qsort(v, n, sizeof(*v), cmp);
        printf("%-11s %-34s median %8.1f us   p90 %8.1f us   max %8.1f us   (n=%zu, %llu connections)\n",
                server, what, (double)v[n / 2], (double)v[n * 9 / 10], (double)v[n - 1], n,
                (unsigned long long)connections);
}

/* N requests on one client (after one that connects). */
static void reused(const char *name, const char *base, bool quickack, size_t n)
{
        uint64_t *v = calloc(n, sizeof(*v));
        struct mds_client *m = client_new(base);
        mds_client_set_quickack(m, quickack);
        get(m);
        for (size_t i = 0; i < n; i++) {
                uint64_t t0 = now_monotonic_usec();
                get(m);
                v[i] = now_monotonic_usec() - t0;
        }
        report(name, quickack ? "kept-alive connection" : "kept-alive, no TCP_QUICKACK (old)", v, n,
                mds_client_connection_count(m));
        mds_client_free(m);
        free(v);
}

static void fresh(const char *name, const char *base, size_t n)
{
        uint64_t *v = calloc(n, sizeof(*v));
        for (size_t i = 0; i < n; i++) {
                uint64_t t0 = now_monotonic_usec();
                struct mds_client *m = client_new(base);
                get(m);
                mds_client_free(m);
                v[i] = now_monotonic_usec() - t0;
        }
        report(name, "new connection per request (base)", v, n, (uint64_t)n);
        free(v);
}

int main(int argc, char *argv[])
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s NAME=BASE_URL...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq)
                        return 2;
                *eq = '\0';
                fresh(argv[i], eq + 1, 1000);
                reused(argv[i], eq + 1, true, 1000);
                reused(argv[i], eq + 1, false, 25); /* 40 ms each where it stalls */
        }
        return 0;
}
