/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in µs: deadlines, back-off, durations. */
uint64_t now_monotonic_usec(void);
/* CLOCK_REALTIME in µs: key expiry, times shown to people. */
uint64_t now_realtime_usec(void);
