/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What every cmocka unit test includes (cmocka needs these first). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <stdbool.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNIT_HAVE_VALGRIND_H 1
#endif
#endif

/* Threads a test starts never call cmocka's assertions: a failed one
 * longjmps from the wrong thread into the main thread's stack. A thread
 * notes its first failed check with thread_check(), and the main thread
 * asserts with assert_thread_checks() after pthread_join(). */
struct thread_check {
        int line; /* of the first failed check; 0: none failed */
        const char *what;
};

static inline bool thread_check_failed(struct thread_check *tc, int line, const char *what)
{
        int none = 0;
        if (__atomic_compare_exchange_n(&tc->line, &none, line, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                tc->what = what;
        return false;
}

/* thread_check(&TC, CONDITION): CONDITION's value; notes it when false. */
#define thread_check(tc, cond) ((cond) ? true : thread_check_failed((tc), __LINE__, #cond))

#define assert_thread_checks(tc)                                                                            \
        do {                                                                                                \
                if ((tc)->line)                                                                             \
                        fail_msg("in a thread, line %d: %s", (tc)->line, (tc)->what);                       \
        } while (0)

/* Whether the test runs under valgrind, which runs one thread at a time
 * and 20-50 times slower: wall-clock upper bounds do not hold there. */
static inline bool under_valgrind(void)
{
#ifdef UNIT_HAVE_VALGRIND_H
        if (RUNNING_ON_VALGRIND)
                return true;
#endif
        const char *preload = getenv("LD_PRELOAD");
        return getenv("OSLOGIN_UNDER_VALGRIND") || (preload && strstr(preload, "vgpreload"));
}

/* A wall-clock upper bound: BOUND in the plain and ASan runs, none under
 * valgrind. Only upper bounds are relaxed: "waited at least" still holds. */
static inline uint64_t wall_bound(uint64_t bound)
{
        return under_valgrind() ? UINT64_MAX : bound;
}
