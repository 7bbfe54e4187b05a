/* SPDX-License-Identifier: Apache-2.0 */
/* bench-mds BASE_URL [THREADS] [SECONDS]
 *
 * 1. Fake server throughput: THREADS threads, each with its own keep-alive
 *    connection (lib/mds/http.c alone), GET instance/hostname for SECONDS;
 *    prints requests/s.
 * 2. Client overhead: median/p90 latency of mds_get() against the bare
 *    transport (http_exchange) doing the same GET on one keep-alive
 *    connection, same run. */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mds/config.h"
#include "mds/http.h"
#include "mds/mds-client.h"

static const char *base;
static double seconds = 3;

/* One bare GET of instance/hostname on C: 0 on a 200. */
static int raw_get(struct http_connection *c, const char *target)
{
        const struct http_request req = {.method = "GET", .target = target, .headers = "Metadata-Flavor: Google\r\n"};
        const struct http_limits l = {.connect_timeout_usec = 1000000,
                                      .deadline_usec = now_monotonic_usec() + 5000000,
                                      .max_body = 1024 * 1024};
        struct http_response r = {};
        int ret = http_exchange(c, &req, &l, &r);
        if (ret == 0 && r.status != 200)
                ret = -EIO;
        http_response_done(&r);
        return ret;
}

static struct http_connection *raw_connection(char **ret_target)
{
        struct http_connection *c = NULL;
        char *path = NULL;
        if (http_connection_new(base, &c, &path) < 0 || asprintf(ret_target, "%sinstance/hostname", path) < 0)
                abort();
        free(path);
        return c;
}

static void *load(void *arg)
{
        unsigned long *count = arg;
        char *target;
        struct http_connection *c = raw_connection(&target);
        uint64_t end = now_monotonic_usec() + (uint64_t)(seconds * 1e6);
        while (now_monotonic_usec() < end)
                if (raw_get(c, target) == 0)
                        (*count)++;
        http_connection_free(c);
        free(target);
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
        printf("%-34s median %6.1f us   p90 %6.1f us   (n=%zu)\n", what, (double)v[n / 2], (double)v[n * 9 / 10], n);
}

int main(int argc, char *argv[])
{
        enum { N = 5000 };
        static uint64_t raw[N], client[N];
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
        printf("fake server throughput: %.0f requests/s (%u keep-alive clients, %.1f s)\n", total / seconds, threads,
               seconds);

        char *target;
        struct http_connection *c = raw_connection(&target);
        struct oslogin_config config;
        struct mds_client *m;
        config_defaults(&config);
        free(config.url);
        config.url = strdup(base);
        if (mds_client_new(&config, MDS_CLIENT_IGNORE_ENVIRONMENT, &m) < 0)
                return 1;
        for (int i = 0; i < N; i++) {
                uint64_t t0 = now_monotonic_usec();
                (void)raw_get(c, target);
                uint64_t t1 = now_monotonic_usec();
                struct mds_response r = {};
                if (mds_get(m, "instance/hostname", &r) < 0)
                        return 1;
                uint64_t t2 = now_monotonic_usec();
                mds_response_done(&r);
                raw[i] = t1 - t0;
                client[i] = t2 - t1;
        }
        report("bare http_exchange() GET (baseline)", raw, N);
        report("mds_get() (flavor, cap, retry)", client, N);
        printf("client overhead over the bare transport: %+.1f us per request\n", (double)client[N / 2] - (double)raw[N / 2]);
        mds_client_free(m);
        config_free(&config);
        http_connection_free(c);
        free(target);
        return 0;
}
