/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <time.h>

#include "basic/time-util.h"

/* The one set of clock readers: units and clocks as their names say. */
static void test_clocks(void **state)
{
        (void)state;
        uint64_t mono = now_monotonic_usec(), coarse = now_coarse_msec(), real = now_realtime_usec();
        time_t t = time(NULL);

        /* Realtime in µs since the epoch: the same second as time() (±1 for a tick in between). */
        assert_true(real / 1000000u + 1 >= (uint64_t)t && real / 1000000u <= (uint64_t)t + 1);
        /* The coarse clock is the monotonic one in ms, a few ticks behind at most
         * (a second of slack: the reads are back to back, valgrind or not). */
        assert_true(coarse <= mono / 1000u + 1);
        assert_true(coarse + 1000 >= mono / 1000u);
        /* Monotonic never goes back. */
        for (int i = 0; i < 1000; i++) {
                uint64_t next = now_monotonic_usec();
                assert_true(next >= mono);
                mono = next;
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clocks),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
