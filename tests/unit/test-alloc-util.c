/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "basic/alloc-util.h"
#include "basic/macro.h"

struct item {
        uint64_t a, b;
};

/* Appending one at a time: amortised doubling, contents kept, capacity reported. */
static void test_grow_append(void **state)
{
        _cleanup_free_ struct item *v = NULL;
        size_t allocated = 0, reallocs = 0;

        (void)state;
        for (size_t n = 0; n < 1000; n++) {
                size_t before = allocated;
                assert_int_equal(GROW_ARRAY(v, &allocated, n + 1), 0);
                assert_true(allocated >= n + 1);
                if (allocated != before) {
                        reallocs++;
                        assert_true(allocated >= 8);
                        assert_true(allocated >= 2 * before);
                }
                v[n] = (struct item){.a = n, .b = ~n};
        }
        for (size_t n = 0; n < 1000; n++)
                assert_true(v[n].a == n && v[n].b == ~n);
        assert_true(reallocs <= 10); /* 8, 16, ... 1024 */

        /* Needing less than the capacity changes nothing. */
        struct item *same = v;
        size_t cap = allocated;
        assert_int_equal(GROW_ARRAY(v, &allocated, 3), 0);
        assert_ptr_equal(v, same);
        assert_int_equal(allocated, cap);
}

/* Without a capacity the array is exactly NEED long (ASan sees one more byte). */
static void test_grow_exact(void **state)
{
        _cleanup_free_ char *s = NULL;

        (void)state;
        assert_int_equal(GROW_ARRAY(s, NULL, 3), 0);
        memcpy(s, "ab", 3);
        assert_int_equal(GROW_ARRAY(s, NULL, 6), 0);
        assert_string_equal(s, "ab");
        memcpy(s, "abcde", 6);
        assert_string_equal(s, "abcde");
        /* Nothing needed: nothing allocated, nothing freed. */
        char *t = NULL;
        assert_int_equal(GROW_ARRAY(t, NULL, 0), 0);
        assert_null(t);
}

/* Overflow of NEED * SIZE fails without touching the array or its capacity. */
static void test_grow_overflow(void **state)
{
        _cleanup_free_ struct item *v = NULL;
        size_t allocated = 0;

        (void)state;
        assert_int_equal(GROW_ARRAY(v, &allocated, 4), 0);
        v[3].a = 42;
        struct item *before = v;
        size_t cap = allocated;
        assert_int_equal(GROW_ARRAY(v, &allocated, SIZE_MAX / sizeof(struct item) + 1), -ENOMEM);
        assert_int_equal(GROW_ARRAY(v, NULL, SIZE_MAX / 2), -ENOMEM);
        assert_ptr_equal(v, before);
        assert_int_equal(allocated, cap);
        assert_true(v[3].a == 42);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_grow_append),
                cmocka_unit_test(test_grow_exact),
                cmocka_unit_test(test_grow_overflow),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
