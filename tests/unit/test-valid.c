/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "basic/parse-util.h"
#include "basic/valid.h"

static void test_user_names(void **state)
{
        (void)state;
        assert_true(valid_user_name("alice"));
        assert_true(valid_user_name("alice_example_com"));
        assert_true(valid_user_name("a.b-c_1"));
        assert_true(valid_user_name("_svc"));
        assert_true(valid_user_name("abcdefghijabcdefghijabcdefghij12")); /* 32 */

        assert_false(valid_user_name(NULL));
        assert_false(valid_user_name(""));
        assert_false(valid_user_name("abcdefghijabcdefghijabcdefghij123")); /* 33 */
        assert_false(valid_user_name("-rf"));
        assert_false(valid_user_name("a:b"));
        assert_false(valid_user_name("a,b"));
        assert_false(valid_user_name("a\nb"));
        assert_false(valid_user_name("a/b"));
        assert_false(valid_user_name(".."));
        assert_false(valid_user_name("."));
        assert_false(valid_user_name("1000"));
        assert_false(valid_user_name("a b"));
        assert_false(valid_user_name("al\x7fice"));
        assert_false(valid_user_name("\xc3\xa9t\xc3\xa9"));
}

static void test_gecos_home_shell(void **state)
{
        char big[GECOS_MAX + 2];

        (void)state;
        assert_true(valid_gecos(""));
        assert_true(valid_gecos("Alice Example,Room 1,,"));
        assert_false(valid_gecos("a:b"));
        assert_false(valid_gecos("a\nb"));
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_false(valid_gecos(big));

        assert_true(valid_home("/home/alice"));
        assert_true(valid_home("/"));
        assert_false(valid_home("home/alice"));
        assert_false(valid_home("/home/../etc"));
        assert_false(valid_home("/home/./alice"));
        assert_false(valid_home("/home//alice"));
        assert_false(valid_home("/home/alice/"));
        assert_false(valid_home("/home/a:b"));
        assert_false(valid_home("/home/a\nb"));
        assert_false(valid_home(""));

        assert_true(valid_shell("/bin/bash"));
        assert_false(valid_shell("bash"));
        assert_false(valid_shell("/bin/../bin/sh"));
        assert_false(valid_shell("/bin/sh:x"));
}

static void test_uids(void **state)
{
        (void)state;
        assert_true(valid_network_uid(1000, 1000));
        assert_true(valid_network_uid(2045119876, 1000));
        assert_false(valid_network_uid(0, 0));
        assert_false(valid_network_uid(999, 1000));
        assert_false(valid_network_uid(65534, 1000));
        assert_false(valid_network_uid(4294967295u, 1000));
        assert_false(valid_network_uid(1ull << 40, 1000));
}

static void test_numbers(void **state)
{
        uint32_t u32;
        uint64_t u64;

        (void)state;
        assert_int_equal(safe_atou32("2045119876", &u32), 0);
        assert_int_equal(u32, 2045119876u);
        assert_int_equal(safe_atou32("4294967295", &u32), 0);
        assert_int_equal(safe_atou32("4294967296", &u32), -ERANGE);
        assert_int_equal(safe_atou32("-1", &u32), -EINVAL);
        assert_int_equal(safe_atou32(" 1", &u32), -EINVAL);
        assert_int_equal(safe_atou32("1x", &u32), -EINVAL);
        assert_int_equal(safe_atou32("", &u32), -EINVAL);
        assert_int_equal(safe_atou64("18446744073709551615", &u64), 0);
        assert_int_equal(safe_atou64("18446744073709551616", &u64), -ERANGE);
}

static void test_booleans(void **state)
{
        (void)state;
        assert_int_equal(parse_metadata_boolean("TRUE"), 1);
        assert_int_equal(parse_metadata_boolean("True"), 1);
        assert_int_equal(parse_metadata_boolean("t"), 1);
        assert_int_equal(parse_metadata_boolean("1"), 1);
        assert_int_equal(parse_metadata_boolean("False"), 0);
        assert_int_equal(parse_metadata_boolean("0"), 0);
        assert_int_equal(parse_metadata_boolean("yes"), -EINVAL);
        assert_int_equal(parse_metadata_boolean("tRUE"), -EINVAL);
        assert_int_equal(parse_metadata_boolean(""), -EINVAL);
        assert_int_equal(parse_config_boolean("Yes"), 1);
        assert_int_equal(parse_config_boolean("off"), 0);
        assert_int_equal(parse_config_boolean("maybe"), -EINVAL);
}

static void test_sudo_rules(void **state)
{
        (void)state;
        assert_true(valid_sudo_rule("ALL=(ALL:ALL) NOPASSWD:ALL"));
        assert_true(valid_sudo_rule("ALL=(root) /usr/bin/systemctl restart nginx"));
        assert_false(valid_sudo_rule(""));
        assert_false(valid_sudo_rule(NULL));
        assert_false(valid_sudo_rule("ALL=(ALL) ALL\n#0 ALL=(ALL) ALL")); /* a second line */
        assert_false(valid_sudo_rule("ALL=(ALL) ALL\\"));                 /* a continuation */
        assert_false(valid_sudo_rule("ALL=(ALL)\x7f ALL"));
        char long_rule[600];
        memset(long_rule, 'A', sizeof(long_rule) - 1);
        long_rule[sizeof(long_rule) - 1] = '\0';
        assert_false(valid_sudo_rule(long_rule));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_user_names),
                cmocka_unit_test(test_gecos_home_shell),
                cmocka_unit_test(test_uids),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_booleans),
                cmocka_unit_test(test_sudo_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
