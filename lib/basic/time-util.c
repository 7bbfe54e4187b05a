/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "basic/time-util.h"

static uint64_t now_usec(clockid_t clock)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_monotonic_usec(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

uint64_t now_realtime_usec(void)
{
        return now_usec(CLOCK_REALTIME);
}

uint64_t now_coarse_msec(void)
{
        return now_usec(CLOCK_MONOTONIC_COARSE) / 1000u;
}
