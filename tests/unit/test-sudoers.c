/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "accounts/sudoers.h"

static void roundtrip(const char *user, const char *file)
{
        char *f = NULL, *u = NULL;
        assert_int_equal(sudoers_file_name(user, &f), 0);
        assert_string_equal(f, file);
        assert_null(strchr(f, '.'));
        assert_int_equal(sudoers_user_from_file_name(f, &u), 0);
        assert_string_equal(u, user);
        free(f);
        free(u);
}

static void test_names(void **state)
{
        char *f = NULL;
        (void)state;
        roundtrip("alice", "alice");
        roundtrip("first.last", "first_2elast");
        roundtrip("alice_example_com", "alice__example__com");
        roundtrip("a_2e", "a__2e"); /* cannot be confused with "a." */
        roundtrip("a.", "a_2e");
        assert_int_equal(sudoers_file_name("../x", &f), -EINVAL);
        assert_int_equal(sudoers_file_name("a/b", &f), -EINVAL);
        assert_int_equal(sudoers_file_name("-x", &f), -EINVAL);
        assert_int_equal(sudoers_user_from_file_name("a_x", &f), -EINVAL);
        assert_int_equal(sudoers_user_from_file_name("README~", &f), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_names)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
