/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in µs: deadlines, back-off, durations. */
uint64_t now_monotonic_usec(void);
/* CLOCK_REALTIME in µs: key expiry, times shown to people. */
uint64_t now_realtime_usec(void);
/* CLOCK_MONOTONIC_COARSE in ms (a tick's precision, no system call on the
 * vDSO): the NSS module's and the readers' "is it time to look again?". */
uint64_t now_coarse_msec(void);
