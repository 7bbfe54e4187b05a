/* SPDX-License-Identifier: Apache-2.0 */
/* bench-mds BASE_URL [THREADS] [SECONDS]
 *
 * 1. Fake server throughput: THREADS threads, each with its own keep-alive
 *    libcurl handle, GET instance/hostname for SECONDS; prints requests/s.
 * 2. Client overhead: median/p90 latency of mds_get() against raw libcurl
 *    doing the same GET on one keep-alive connection, same run. */

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mds/config.h"
#include "mds/mds-client.h"

static const char *base;
static double seconds = 3;

static size_t discard(char *p, size_t s, size_t n, void *u)
{
        (void)p;
        (void)u;
        return s * n;
}

static CURL *raw_handle(const char *url, struct curl_slist *h)
{
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
        return c;
}

static void *load(void *arg)
{
        unsigned long *count = arg;
        char url[512];
        struct curl_slist *h = curl_slist_append(NULL, "Metadata-Flavor: Google");
        snprintf(url, sizeof(url), "%sinstance/hostname", base);
        CURL *c = raw_handle(url, h);
        uint64_t end = now_monotonic_usec() + (uint64_t)(seconds * 1e6);
        while (now_monotonic_usec() < end)
                if (curl_easy_perform(c) == CURLE_OK)
                        (*count)++;
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
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
        curl_global_init(CURL_GLOBAL_DEFAULT);

        for (unsigned i = 0; i < threads; i++)
                pthread_create(&t[i], NULL, load, &counts[i]);
        for (unsigned i = 0; i < threads; i++) {
                pthread_join(t[i], NULL);
                total += counts[i];
        }
        printf("fake server throughput: %.0f requests/s (%u keep-alive clients, %.1f s)\n", total / seconds, threads,
               seconds);

        char url[512];
        struct curl_slist *h = curl_slist_append(NULL, "Metadata-Flavor: Google");
        snprintf(url, sizeof(url), "%sinstance/hostname", base);
        CURL *c = raw_handle(url, h);
        struct oslogin_config config;
        struct mds_client *m;
        config_defaults(&config);
        free(config.url);
        config.url = strdup(base);
        if (mds_client_new(&config, MDS_CLIENT_IGNORE_ENVIRONMENT, &m) < 0)
                return 1;
        for (int i = 0; i < N; i++) {
                uint64_t t0 = now_monotonic_usec();
                curl_easy_perform(c);
                uint64_t t1 = now_monotonic_usec();
                struct mds_response r = {};
                if (mds_get(m, "instance/hostname", &r) < 0)
                        return 1;
                uint64_t t2 = now_monotonic_usec();
                mds_response_done(&r);
                raw[i] = t1 - t0;
                client[i] = t2 - t1;
        }
        report("raw libcurl GET (baseline)", raw, N);
        report("mds_get() (flavor, cap, retry)", client, N);
        printf("client overhead over raw libcurl: %+.1f us per request\n", (double)client[N / 2] - (double)raw[N / 2]);
        mds_client_free(m);
        config_free(&config);
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        curl_global_cleanup();
        return 0;
}
