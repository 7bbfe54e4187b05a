/* SPDX-License-Identifier: Apache-2.0 */
/* bench-mds BASE_URL [THREADS] [SECONDS]
 *
 * 1. Fake server throughput: THREADS threads, each with its own metadata
 *    client (one keep-alive connection), GET instance/hostname for SECONDS;
 *    prints requests/s.
 * 2. Connection reuse: median/p90 latency of mds_get() on one kept-alive
 *    connection against a new client (a fresh connection) per request, same
 *    run. bench-mds-stall measures the delayed-ACK stall on its own. */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mds/config.h"
#include "mds/mds-client.h"

static const char *base;
static double seconds = 3;

static struct mds_client *client_new(void)
{
        struct oslogin_config config;
        struct mds_client *m;
        if (config_defaults(&config) < 0)
                abort();
        free(config.url);
        config.url = strdup(base);
        config.transport = MDS_TRANSPORT_HTTP;
        if (mds_client_new(&config, MDS_CLIENT_IGNORE_ENVIRONMENT, &m) < 0)
                abort();
        config_free(&config);
        return m;
}

static int get(struct mds_client *m)
{
        struct mds_response r = {};
        int ret = mds_get(m, "instance/hostname", &r);
        mds_response_done(&r);
        return ret;
}

static void *load(void *arg)
{
        unsigned long *count = arg;
        struct mds_client *m = client_new();
        uint64_t end = now_monotonic_usec() + (uint64_t)(seconds * 1e6);
        while (now_monotonic_usec() < end)
                if (get(m) == 0)
                        (*count)++;
        mds_client_free(m);
        return NULL;
}

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp);
        printf("%-42s median %6.1f us   p90 %6.1f us   (n=%zu)\n", what, (double)v[n / 2],
                (double)v[n * 9 / 10], n);
}

int main(int argc, char *argv[])
{
        enum { N = 2000 };
        static uint64_t fresh[N], reused[N];
        unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 4;
        pthread_t t[64];
        unsigned long counts[64] = {};
        unsigned long total = 0;

        if (argc < 2 || threads == 0 || threads > 64) {
                fprintf(stderr, "usage: %s BASE_URL [THREADS] [SECONDS]\n", argv[0]);
                return 2;
        }
        base = argv[1];
        if (argc > 3)
                seconds = atof(argv[3]);

        for (unsigned i = 0; i < threads; i++)
                pthread_create(&t[i], NULL, load, &counts[i]);
        for (unsigned i = 0; i < threads; i++) {
                pthread_join(t[i], NULL);
                total += counts[i];
        }
        printf("fake server throughput: %.0f requests/s (%u keep-alive clients, %.1f s)\n", total / seconds,
                threads, seconds);

        struct mds_client *m = client_new();
        if (get(m) < 0)
                return 1;
        for (int i = 0; i < N; i++) {
                uint64_t t0 = now_monotonic_usec();
                struct mds_client *one = client_new();
                if (get(one) < 0)
                        return 1;
                mds_client_free(one);
                uint64_t t1 = now_monotonic_usec();
                if (get(m) < 0)
                        return 1;
                uint64_t t2 = now_monotonic_usec();
                fresh[i] = t1 - t0;
                reused[i] = t2 - t1;
        }
        report("mds_get(), new client + connection (baseline)", fresh, N);
        report("mds_get() on a kept-alive connection", reused, N);
        printf("connections opened by the kept-alive client: %llu for %d requests\n",
                (unsigned long long)mds_client_connection_count(m), N + 1);
        mds_client_free(m);
        return 0;
}
