/* SPDX-License-Identifier: Apache-2.0 */
/* lib/basic/local-db-watch.c: a snapshot of the host's accounts that
 * follows the files by their stat identity. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/atomic-file.h"
#include "basic/local-db-watch.h"

static char root[] = "/tmp/test-local-db-watch.XXXXXX";
static char etc[64];

static void put(const char *name, const char *content, bool in_place)
{
        int fd = open(etc, O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        if (in_place) {
                int f = openat(fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
                assert_true(f >= 0);
                assert_int_equal(write(f, content, strlen(content)), (ssize_t)strlen(content));
                close(f);
        } else
                assert_int_equal(write_file_atomic(fd, name, content, strlen(content), 0644, -1, -1), 0);
        close(fd);
}

static int setup(void **state)
{
        (void)state;
        assert_non_null(mkdtemp(root));
        snprintf(etc, sizeof(etc), "%s/etc", root);
        assert_int_equal(mkdir(etc, 0755), 0);
        return 0;
}

static int teardown(void **state)
{
        int fd = open(etc, O_DIRECTORY | O_CLOEXEC);
        (void)state;
        unlinkat(fd, "passwd", 0);
        unlinkat(fd, "group", 0);
        unlinkat(fd, "group", AT_REMOVEDIR);
        close(fd);
        rmdir(etc);
        rmdir(root);
        return 0;
}

static void test_follows_files(void **state)
{
        struct local_db_watch w = LOCAL_DB_WATCH_INIT(root, 0);
        const struct local_db *db, *again;

        (void)state;
        /* No files yet: an empty host, loaded once. */
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        assert_false(local_db_has_user(db, "deploy"));
        assert_int_equal(local_db_watch_get(&w, &again), 0);
        assert_ptr_equal(db, again);

        put("passwd", "deploy:x:1500:1500::/:/bin/sh\n", false);
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        assert_true(local_db_has_user(db, "deploy"));
        assert_int_equal(local_db_watch_get(&w, &db), 0);
        /* The same inode rewritten: size and mtime tell. */
        put("passwd", "deploy:x:1500:1500::/:/bin/sh\nsvc:x:1600:1600::/:/bin/sh\n", true);
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        assert_true(local_db_has_uid(db, 1600));
        put("group", "sudo:x:27:\n", false);
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        assert_true(local_db_has_gid(db, 27));

        /* A file that cannot be read: an error, and no snapshot until it can. */
        int fd = open(etc, O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(unlinkat(fd, "group", 0), 0);
        assert_int_equal(mkdirat(fd, "group", 0755), 0);
        assert_true(local_db_watch_get(&w, &db) < 0);
        assert_null(w.db);
        assert_int_equal(unlinkat(fd, "group", AT_REMOVEDIR), 0);
        close(fd);
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        assert_false(local_db_has_gid(db, 27));
        local_db_watch_done(&w);
        assert_null(w.db);
}

static void test_interval(void **state)
{
        struct local_db_watch w = LOCAL_DB_WATCH_INIT(root, 60000);
        const struct local_db *db;

        (void)state;
        put("passwd", "a:x:1:1::/:/bin/sh\n", false);
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        put("passwd", "a:x:1:1::/:/bin/sh\nb:x:2:2::/:/bin/sh\n", false);
        /* Within the interval: the snapshot stands, no stat. */
        assert_int_equal(local_db_watch_get(&w, &db), 0);
        assert_false(local_db_has_user(db, "b"));
        w.next_check_msec = 0; /* the interval has passed */
        assert_int_equal(local_db_watch_get(&w, &db), 1);
        assert_true(local_db_has_user(db, "b"));
        local_db_watch_done(&w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_follows_files),
                cmocka_unit_test(test_interval),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
