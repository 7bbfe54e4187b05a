/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/mkdir-util.h"

static char base[] = "/tmp/test-mkdir-util-XXXXXX";

static int setup(void **state)
{
        (void)state;
        umask(022);
        return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];
        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *rel)
{
        char p[256];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", base, rel);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        return st.st_mode & 07777;
}

/* Every missing component made, PARENT_MODE above, MODE last; the fd is the last one. */
static void test_creates_all(void **state)
{
        char p[256];
        (void)state;
        snprintf(p, sizeof(p), "%s/a/b//c/", base);
        _cleanup_close_ int fd = mkdir_p_open(AT_FDCWD, p, 0755, 0700);
        assert_true(fd >= 0);
        assert_int_equal(mode_of("a"), 0755);
        assert_int_equal(mode_of("a/b"), 0755);
        assert_int_equal(mode_of("a/b/c"), 0700);
        assert_int_equal(mkdirat(fd, "inside", 0700), 0);
        (void)mode_of("a/b/c/inside");

        /* Again: everything exists, modes stay as they are. */
        _cleanup_close_ int again = mkdir_p_open(AT_FDCWD, p, 0700, 0750);
        assert_true(again >= 0);
        assert_int_equal(mode_of("a"), 0755);
        assert_int_equal(mode_of("a/b/c"), 0700);
}

/* Relative to DIR_FD. */
static void test_relative(void **state)
{
        (void)state;
        _cleanup_close_ int dir = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dir >= 0);
        _cleanup_close_ int fd = mkdir_p_open(dir, "rel/./x", 0711, 0700);
        assert_true(fd >= 0);
        assert_int_equal(mode_of("rel"), 0711);
        assert_int_equal(mode_of("rel/x"), 0700);
}

/* A symlink anywhere on the way is refused, and nothing is made through it. */
static void test_no_symlinks(void **state)
{
        char p[256], target[256], link[256];
        struct stat st;
        (void)state;
        snprintf(target, sizeof(target), "%s/target", base);
        snprintf(link, sizeof(link), "%s/link", base);
        assert_int_equal(mkdir(target, 0755), 0);
        assert_int_equal(symlink(target, link), 0);

        snprintf(p, sizeof(p), "%s/link/sub", base);
        assert_int_equal(mkdir_p_open(AT_FDCWD, p, 0755, 0755), -ELOOP);
        snprintf(p, sizeof(p), "%s/target/sub", base);
        assert_int_equal(lstat(p, &st), -1); /* not made through the link */
        /* The link as the last component is refused too. */
        assert_int_equal(mkdir_p_open(AT_FDCWD, link, 0755, 0755), -ELOOP);

        /* A file where a directory should be. */
        snprintf(p, sizeof(p), "%s/file", base);
        int f = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(f >= 0);
        close(f);
        snprintf(p, sizeof(p), "%s/file/sub", base);
        assert_int_equal(mkdir_p_open(AT_FDCWD, p, 0755, 0755), -ELOOP);
}

static void test_invalid(void **state)
{
        char p[256];
        (void)state;
        assert_int_equal(mkdir_p_open(AT_FDCWD, "", 0755, 0755), -EINVAL);
        assert_int_equal(mkdir_p_open(AT_FDCWD, NULL, 0755, 0755), -EINVAL);
        snprintf(p, sizeof(p), "%s/up/../escape", base);
        assert_int_equal(mkdir_p_open(AT_FDCWD, p, 0755, 0755), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_creates_all),
                cmocka_unit_test(test_relative),
                cmocka_unit_test(test_no_symlinks),
                cmocka_unit_test(test_invalid),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
