/* SPDX-License-Identifier: Apache-2.0 */
/* lib/mds/oslogin-api.c: the page walk every OS Login list shares. */
#include "tests/unit/unit.h"

#include "basic/macro.h"
#include "mds/oslogin-api.h"

/* Walks a server whose page I (from 0) answers TOKENS[I]; the number of
 * pages fetched goes to *RET_PAGES, the walk's end to the return value. */
static int walk(const char *const *tokens, size_t n_tokens, unsigned max_pages, unsigned *ret_pages)
{
        _cleanup_(oslogin_pager_done) struct oslogin_pager pager = {.max_pages = max_pages};
        unsigned fetched = 0;
        int r;

        while ((r = oslogin_pager_more(&pager)) > 0) {
                /* The request carries the token the previous page gave. */
                if (fetched == 0)
                        assert_null(pager.token);
                else
                        assert_string_equal(pager.token, tokens[fetched - 1]);
                assert_true(fetched < n_tokens);
                const char *next = tokens[fetched++];
                oslogin_pager_next(&pager, next ? strdup(next) : NULL);
        }
        *ret_pages = fetched;
        return r;
}

static void test_pages_end(void **state)
{
        static const char *const zero[] = {"p2", "p3", "0"}, *const null[] = {"p2", NULL},
                                 *const empty[] = {""}, *const one[] = {"0"};
        unsigned pages;

        (void)state;
        assert_int_equal(walk(zero, ELEMENTSOF(zero), 100, &pages), 0);
        assert_int_equal(pages, 3);
        assert_int_equal(walk(null, ELEMENTSOF(null), 100, &pages), 0);
        assert_int_equal(pages, 2);
        assert_int_equal(walk(empty, ELEMENTSOF(empty), 100, &pages), 0);
        assert_int_equal(pages, 1);
        assert_int_equal(walk(one, ELEMENTSOF(one), 100, &pages), 0);
        assert_int_equal(pages, 1);
}

/* MAX_PAGES fetched and the server still has more: an error, never a
 * silently short list. Exactly MAX_PAGES ending on the last page is fine. */
static void test_too_many_pages(void **state)
{
        static const char *const tokens[] = {"a", "b", "c", "d", "e", "0"};
        unsigned pages;

        (void)state;
        assert_int_equal(walk(tokens, ELEMENTSOF(tokens), 3, &pages), -E2BIG);
        assert_int_equal(pages, 3);
        assert_int_equal(walk(tokens, ELEMENTSOF(tokens), 6, &pages), 0);
        assert_int_equal(pages, 6);
}

/* Tokens that come round again: caught, wherever the loop starts and however long it is. */
static void test_loops(void **state)
{
        static const char *const self[] = {"a", "a", "a", "a"};
        static const char *const late[] = {"a", "b", "c", "d", "e", "f", "g", "x", "y", "z", "x", "y", "z",
                "x", "y", "z", "x", "y", "z", "x", "y", "z", "x", "y", "z"};
        unsigned pages;

        (void)state;
        assert_int_equal(walk(self, ELEMENTSOF(self), 100, &pages), -ELOOP);
        assert_int_equal(pages, 2);
        assert_int_equal(walk(late, ELEMENTSOF(late), 100, &pages), -ELOOP);
        /* Within about twice the cycle plus where it starts (7 + 3). */
        assert_true(pages <= 2 * (7 + 3));
        /* Distinct tokens are never a loop. */
        static const char *const distinct[] = {"a", "b", "c", "d", "e", "f", "g", "h", "0"};
        assert_int_equal(walk(distinct, ELEMENTSOF(distinct), 100, &pages), 0);
        assert_int_equal(pages, 9);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pages_end),
                cmocka_unit_test(test_too_many_pages),
                cmocka_unit_test(test_loops),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
