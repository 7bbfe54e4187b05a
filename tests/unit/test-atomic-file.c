/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/atomic-file.h"

static char dir[] = "/tmp/test-atomic.XXXXXX";
static int dfd = -1;

static int setup(void **state)
{
        (void)state;
        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dfd < 0;
}

static int teardown(void **state)
{
        char cmd[128];
        (void)state;
        close(dfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

static unsigned count_entries(void)
{
        unsigned n = 0;
        DIR *d = opendir(dir);
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_name[0] != '.' || e->d_name[1] == '#';
        closedir(d);
        return n;
}

static void test_write_and_replace(void **state)
{
        char *data = NULL;
        size_t size;
        struct stat st;
        (void)state;
        assert_int_equal(write_file_atomic(dfd, "f", "one\n", 4, 0640, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(write_file_atomic(dfd, "f", "two\n", 4, 0600, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(read_file_bounded(dfd, "f", 100, &data, &size), 0);
        assert_string_equal(data, "two\n");
        assert_int_equal(size, 4);
        free(data);
        assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(count_entries(), 1);
        assert_int_equal(read_file_bounded(dfd, "f", 3, &data, &size), -EFBIG);
        assert_int_equal(write_file_atomic(dfd, "../x", "", 0, 0600, (uid_t)-1, (gid_t)-1), -EINVAL);
        assert_int_equal(write_file_atomic(dfd, "a/b", "", 0, 0600, (uid_t)-1, (gid_t)-1), -EINVAL);
}

static void test_abort_leaves_nothing(void **state)
{
        struct atomic_file af = {};
        (void)state;
        assert_int_equal(atomic_file_begin(dfd, "g", 0644, (uid_t)-1, (gid_t)-1, &af), 0);
        fputs("partial", af.f);
        atomic_file_abort(&af);
        atomic_file_abort(&af);
        assert_int_equal(faccessat(dfd, "g", F_OK, 0), -1);
        assert_int_equal(count_entries(), 1); /* only "f" from the previous test */
}

static void test_remove_stale(void **state)
{
        static const char *const names[] = {
                ".#cache-1a2b3c", ".#cache-000000", ".#cachefile-1", ".#cacheX", "cache", ".#other-1a2b3c"};
        (void)state;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                assert_int_equal(write_file_atomic(dfd, names[i], "x", 1, 0600, (uid_t)-1, (gid_t)-1), 0);
        /* Only ".#cache-*": not another file's temps, not "cache" itself. */
        assert_int_equal(atomic_file_remove_stale(dfd, "cache"), 2);
        assert_int_equal(faccessat(dfd, ".#cache-1a2b3c", F_OK, 0), -1);
        assert_int_equal(faccessat(dfd, "cache", F_OK, 0), 0);
        assert_int_equal(faccessat(dfd, ".#cachefile-1", F_OK, 0), 0);
        assert_int_equal(faccessat(dfd, ".#other-1a2b3c", F_OK, 0), 0);
        assert_int_equal(atomic_file_remove_stale(dfd, "cache"), 0);
        for (size_t i = 2; i < sizeof(names) / sizeof(names[0]); i++)
                assert_int_equal(unlinkat(dfd, names[i], 0), 0);
}

static void test_symlinks(void **state)
{
        char *data = NULL;
        (void)state;
        assert_int_equal(symlinkat("/etc/passwd", dfd, "link"), 0);
        assert_int_equal(read_file_bounded(dfd, "link", 1 << 20, &data, NULL), -ELOOP);
        /* Replacing a symlink replaces the link itself, never its target. */
        assert_int_equal(write_file_atomic(dfd, "link", "x", 1, 0600, (uid_t)-1, (gid_t)-1), 0);
        struct stat st;
        assert_int_equal(fstatat(dfd, "link", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));

        assert_int_equal(mkdirat(dfd, "real", 0755), 0);
        assert_int_equal(symlinkat("real", dfd, "dirlink"), 0);
        int fd = open_dir_nofollow(dfd, "real", 0);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(open_dir_nofollow(dfd, "dirlink", 0), -ELOOP);
        /* A symlink in the middle of the path is refused as well. */
        assert_int_equal(mkdirat(dfd, "real/sub", 0755), 0);
        assert_int_equal(open_dir_nofollow(dfd, "dirlink/sub", 0), -ELOOP);
        fd = open_dir_nofollow(dfd, "real//sub/", 0);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(open_dir_nofollow(dfd, "real/../real", 0), -EINVAL);
        fd = open_dir_nofollow(AT_FDCWD, dir, 0);
        assert_true(fd >= 0);
        close(fd);
}

static void test_owner_and_mode(void **state)
{
        struct atomic_file af = {};
        struct stat st;
        (void)state;
        if (geteuid() != 0)
                skip();
        /* Owner and mode are set on the temp's descriptor, before any data. */
        assert_int_equal(atomic_file_begin(dfd, "owned", 0604, 65534, 65533, &af), 0);
        assert_int_equal(fstat(fileno(af.f), &st), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65533);
        assert_int_equal(st.st_mode & 07777, 0604);
        assert_true(strncmp(af.temp_name, ".#owned-", 8) == 0);
        assert_int_equal(faccessat(dfd, af.temp_name, F_OK, AT_SYMLINK_NOFOLLOW), 0);
        fputs("data\n", af.f);
        assert_int_equal(atomic_file_commit(&af), 0);
        atomic_file_abort(&af); /* safe after commit, must not unlink "owned" */
        assert_int_equal(fstatat(dfd, "owned", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65533);
        assert_int_equal(st.st_mode & 07777, 0604);
        assert_int_equal(st.st_size, 5);
        assert_int_equal(unlinkat(dfd, "owned", 0), 0);
}

static void test_early_return_unlinks_temp(void **state)
{
        char *temp = NULL;
        (void)state;
        {
                _cleanup_atomic_file_ struct atomic_file af = {};
                assert_int_equal(atomic_file_begin(dfd, "scoped", 0600, (uid_t)-1, (gid_t)-1, &af), 0);
                temp = strdup(af.temp_name);
        }
        assert_int_equal(faccessat(dfd, temp, F_OK, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(errno, ENOENT);
        free(temp);
}

static void test_fifo_and_split_commit(void **state)
{
        struct atomic_file a = {}, b = {};
        char *data = NULL;
        unsigned entries = count_entries();
        (void)state;
        /* A FIFO is refused at once instead of blocking the reader. */
        assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
        assert_int_equal(read_file_bounded(dfd, "fifo", 100, &data, NULL), -EBADFD);
        assert_int_equal(unlinkat(dfd, "fifo", 0), 0);

        /* Two files prepared, then renamed back to back. */
        assert_int_equal(atomic_file_begin(dfd, "one", 0644, (uid_t)-1, (gid_t)-1, &a), 0);
        assert_int_equal(atomic_file_begin(dfd, "two", 0644, (uid_t)-1, (gid_t)-1, &b), 0);
        fputs("1\n", a.f);
        fputs("2\n", b.f);
        assert_int_equal(atomic_file_sync(&a), 0);
        assert_int_equal(atomic_file_sync(&b), 0);
        assert_int_equal(faccessat(dfd, "one", F_OK, 0), -1);
        assert_int_equal(atomic_file_rename(&a), 0);
        assert_int_equal(atomic_file_rename(&b), 0);
        assert_int_equal(atomic_file_rename(&b), -EBADF);
        atomic_file_abort(&a);
        atomic_file_abort(&b);
        assert_int_equal(read_file_bounded(dfd, "two", 100, &data, NULL), 0);
        assert_string_equal(data, "2\n");
        free(data);
        assert_int_equal(unlinkat(dfd, "one", 0), 0);
        assert_int_equal(unlinkat(dfd, "two", 0), 0);
        assert_int_equal(count_entries(), entries); /* no temp left behind */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_write_and_replace),
                cmocka_unit_test(test_abort_leaves_nothing),
                cmocka_unit_test(test_remove_stale),
                cmocka_unit_test(test_symlinks),
                cmocka_unit_test(test_owner_and_mode),
                cmocka_unit_test(test_early_return_unlinks_temp),
                cmocka_unit_test(test_fifo_and_split_commit),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
