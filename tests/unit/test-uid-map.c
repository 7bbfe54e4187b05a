/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "accounts/uid-map.h"

static char root[] = "/tmp/test-uidmap.XXXXXX";

static int setup(void **state)
{
        (void)state;
        return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[300];
        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd);
}

static void test_roundtrip_and_taken(void **state)
{
        struct uid_map *m = NULL;
        uid_t uid;
        (void)state;
        assert_int_equal(uid_map_load(root, &m), 0); /* no file yet: empty */
        assert_int_equal(uid_map_get(m, "alice", &uid), -ENOENT);
        assert_int_equal(uid_map_set(m, "alice", 1001), 0);
        assert_int_equal(uid_map_set(m, "bob", 1002), 0);
        assert_true(uid_map_taken(m, 1001, "bob"));
        assert_false(uid_map_taken(m, 1001, "alice"));
        assert_false(uid_map_taken(m, 1003, "alice"));
        assert_int_equal(uid_map_save(m), 0);
        uid_map_free(m);

        char path[300];
        struct stat st;
        snprintf(path, sizeof(path), "%s/var/lib/oslogin/uidmap", root);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);

        assert_int_equal(uid_map_load(root, &m), 0);
        assert_int_equal(uid_map_get(m, "bob", &uid), 0);
        assert_int_equal(uid, 1002);
        uid_map_free(m);
}

static void test_damaged_lines_skipped(void **state)
{
        struct uid_map *m = NULL;
        uid_t uid;
        char path[300];
        (void)state;
        snprintf(path, sizeof(path), "%s/var/lib/oslogin/uidmap", root);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        /* Torn, zero, negative, overflowing, invalid names: never trusted. */
        fputs("carol 1005\nroot 0\nbad name 7\n-x 1006\ndave -1\neve 99999999999\nfrank\ngina 1007", f);
        fclose(f);
        assert_int_equal(uid_map_load(root, &m), 0);
        assert_int_equal(uid_map_get(m, "carol", &uid), 0);
        assert_int_equal(uid, 1005);
        assert_int_equal(uid_map_get(m, "gina", &uid), 0); /* no final newline: still whole */
        assert_int_equal(uid_map_get(m, "root", &uid), -ENOENT);
        assert_int_equal(uid_map_get(m, "dave", &uid), -ENOENT);
        assert_int_equal(uid_map_get(m, "eve", &uid), -ENOENT);
        assert_int_equal(uid_map_get(m, "frank", &uid), -ENOENT);
        /* Moving carol frees 1005 and takes 1008. */
        assert_true(uid_map_taken(m, 1005, "x"));
        assert_int_equal(uid_map_set(m, "carol", 1008), 0);
        assert_false(uid_map_taken(m, 1005, "x"));
        assert_true(uid_map_taken(m, 1008, "x"));
        assert_false(uid_map_taken(m, 1008, "carol"));
        uid_map_free(m);

        /* One UID given to two names by a damaged map: taken for both. */
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("hal 1010\nivy 1010\nhal 1011\n", f);
        fclose(f);
        assert_int_equal(uid_map_load(root, &m), 0);
        assert_int_equal(uid_map_get(m, "hal", &uid), 0);
        assert_int_equal(uid, 1010); /* the first line for a name wins */
        assert_true(uid_map_taken(m, 1010, "hal"));
        assert_true(uid_map_taken(m, 1010, "ivy"));
        uid_map_free(m);
}

static void test_symlinked_state_dir_refused(void **state)
{
        struct uid_map *m = NULL;
        char path[300], target[300];
        (void)state;
        snprintf(path, sizeof(path), "%s/var/lib/oslogin", root);
        snprintf(target, sizeof(target), "%s/var/lib/elsewhere", root);
        assert_int_equal(rename(path, target), 0);
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(uid_map_load(root, &m), -ELOOP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_and_taken),
                cmocka_unit_test(test_damaged_lines_skipped),
                cmocka_unit_test(test_symlinked_state_dir_refused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
