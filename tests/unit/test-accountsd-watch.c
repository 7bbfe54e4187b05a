/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "accountsd/watch.h"

/* The back-off must never allow a busy loop: every delay is at least half
 * its nominal value, grows with failures, and stops at the cap. */
static void test_backoff_bounds(void **state)
{
        (void)state;
        for (unsigned failures = 1; failures < 40; failures++) {
                uint64_t nominal = WATCH_BACKOFF_MIN_USEC << (failures - 1 < 16 ? failures - 1 : 16);
                if (nominal > WATCH_BACKOFF_MAX_USEC)
                        nominal = WATCH_BACKOFF_MAX_USEC;
                uint64_t lo = watch_backoff_usec(failures, 0), hi = watch_backoff_usec(failures, UINT64_MAX - 1);
                assert_true(lo >= nominal / 2);
                assert_true(hi <= nominal);
                for (uint64_t rnd = 1; rnd < 1000000; rnd = rnd * 7 + 3) {
                        uint64_t d = watch_backoff_usec(failures, rnd);
                        assert_true(d >= nominal / 2 && d <= nominal);
                }
        }
}

static void test_backoff_schedule(void **state)
{
        (void)state;
        /* The first retry comes quickly; after four failures at least 2 s
         * pass between requests; the cap is 30 s. */
        assert_true(watch_backoff_usec(1, 12345) <= 500000);
        assert_true(watch_backoff_usec(5, 0) >= 2000000);
        assert_int_equal(watch_backoff_usec(100, UINT64_MAX - 1) <= WATCH_BACKOFF_MAX_USEC, 1);
        assert_true(watch_backoff_usec(100, 0) >= WATCH_BACKOFF_MAX_USEC / 2);
        /* Total requests in the first minute of an outage stay small. */
        uint64_t t = 0;
        unsigned n = 0;
        while (t < 60000000ull) {
                n++;
                t += watch_backoff_usec(n, 0); /* the shortest delays jitter allows */
        }
        assert_true(n <= 15);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_bounds),
                cmocka_unit_test(test_backoff_schedule),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
