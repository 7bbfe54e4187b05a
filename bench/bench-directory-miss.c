/* SPDX-License-Identifier: Apache-2.0 */
/* Times NSS misses against a running oslogin-accountsd, over its socket,
 * exactly as libnss_oslogin.so.2 asks (nss_proto_query).
 *
 *   bench-directory-miss SOCKET PREFIX COUNT
 *
 * asks GETPWNAM PREFIX0 .. PREFIX<COUNT-1> once each (a negative COUNT:
 * PREFIX itself, -COUNT times) and prints the median,
 * 90th percentile and maximum latency, and how many answers were FOUND,
 * NOTFOUND and UNAVAIL. bench/bench-directory.sh drives it (fixture, fake
 * server, daemon); run without arguments it only says so, because
 * bench/run.sh calls every bench program with a URL. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/nss-proto.h"
#include "mds/mds-client.h"

static int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char *argv[])
{
        unsigned found = 0, notfound = 0, unavail = 0, failed = 0;
        uint64_t *lat;
        long count;

        if (argc != 4) {
                printf("bench-directory-miss: driven by bench/bench-directory.sh (needs a running "
                       "daemon)\n");
                return 0;
        }
        count = strtol(argv[3], NULL, 10);
        bool same_name = count < 0;
        if (same_name)
                count = -count;
        if (count <= 0 || count > 1000000 || !(lat = calloc((size_t)count, sizeof(*lat))))
                return 2;
        for (long i = 0; i < count; i++) {
                struct nss_proto_request q;
                struct nss_proto_reply reply;
                uint8_t *msg = NULL;
                size_t size;
                char name[64];

                if (same_name)
                        snprintf(name, sizeof(name), "%s", argv[2]);
                else
                        snprintf(name, sizeof(name), "%s%ld", argv[2], i);
                if (nss_proto_request_by_name(NSS_PROTO_GETPWNAM, name, &q) < 0)
                        return 2;
                uint64_t t0 = now_monotonic_usec();
                int r = nss_proto_query(argv[1], &q, 5000, &msg, &size);
                if (r >= 0)
                        r = nss_proto_reply_decode(&q, msg, size, &reply);
                lat[i] = now_monotonic_usec() - t0;
                if (r < 0)
                        failed++;
                else if (reply.status == NSS_PROTO_FOUND)
                        found++;
                else if (reply.status == NSS_PROTO_NOTFOUND)
                        notfound++;
                else
                        unavail++;
                free(msg);
        }
        qsort(lat, (size_t)count, sizeof(*lat), compare_u64);
        printf("misses=%ld median_us=%llu p90_us=%llu max_us=%llu found=%u notfound=%u unavail=%u "
               "failed=%u\n",
                count, (unsigned long long)lat[count / 2], (unsigned long long)lat[count * 9 / 10],
                (unsigned long long)lat[count - 1], found, notfound, unavail, failed);
        free(lat);
        return failed ? 1 : 0;
}
