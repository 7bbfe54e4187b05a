/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "basic/macro.h"
#include "basic/path-util.h"

static void check(const char *root, const char *path, const char *expected)
{
        _cleanup_free_ char *p = NULL;
        assert_int_equal(path_join_root(root, path, &p), 0);
        assert_non_null(p);
        assert_string_equal(p, expected);
}

static void test_host_root(void **state)
{
        (void)state;
        assert_true(path_is_host_root(NULL));
        assert_true(path_is_host_root(""));
        assert_true(path_is_host_root("/"));
        assert_true(path_is_host_root("//"));
        assert_false(path_is_host_root("/tmp"));
        assert_false(path_is_host_root("."));
        assert_false(path_is_host_root("/./"));

        /* The host's own root leaves PATH alone, whatever spelling the root has. */
        check(NULL, "/etc/passwd", "/etc/passwd");
        check("", "/etc/passwd", "/etc/passwd");
        check("/", "/etc/passwd", "/etc/passwd");
        check("///", "/home/alice", "/home/alice");
}

static void test_under_root(void **state)
{
        (void)state;
        /* Exactly one '/' between ROOT and PATH, however each is spelled. */
        check("/tmp/x", "/etc/passwd", "/tmp/x/etc/passwd");
        check("/tmp/x/", "/etc/passwd", "/tmp/x/etc/passwd");
        check("/tmp/x//", "//etc", "/tmp/x/etc");
        check("/tmp/x", "etc/group", "/tmp/x/etc/group");
        check("relative", "/etc", "relative/etc");
        /* PATH "/" under a root is the root itself, with one trailing slash. */
        check("/tmp/x", "/", "/tmp/x/");
        check("/tmp/x", "", "/tmp/x/");
        /* Nothing is resolved or dropped: ".." stays for O_NOFOLLOW callers to refuse. */
        check("/tmp/x", "/home/../etc", "/tmp/x/home/../etc");
        /* Trailing slashes of PATH are kept: a caller's directory stays a directory. */
        check("/tmp/x", "/var/lib/oslogin/", "/tmp/x/var/lib/oslogin/");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_host_root),
                cmocka_unit_test(test_under_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
