/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "basic/local-db.h"

static char root[] = "/tmp/test-local-db.XXXXXX";

static void write_etc(const char *name, const char *content)
{
        char path[300];
        snprintf(path, sizeof(path), "%s/etc", root);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/etc/%s", root, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

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

static void test_names_and_ids(void **state)
{
        struct local_db *db = NULL;
        uint32_t uid = 0;
        (void)state;

        write_etc("passwd", "root:x:0:0:root:/root:/bin/bash\n"
                            "deploy:x:1000:1000::/home/deploy:/bin/sh\n"
                            "broken-no-fields\n"
                            "baduid:x:12ab:0::/:/bin/sh\n"
                            "+\n"
                            "-nisuser\n"
                            "deploy:x:4242:4242::/:/bin/sh\n"
                            "last:x:65534:65534::/:/bin/sh"); /* no final newline */
        write_etc("group", "root:x:0:\nsudo:x:27:deploy\ndocker:x:998:\n");
        assert_int_equal(local_db_load(root, &db), 0);

        assert_true(local_db_has_user(db, "root"));
        assert_true(local_db_has_user(db, "deploy"));
        assert_true(local_db_has_user(db, "broken-no-fields")); /* when in doubt, local */
        assert_true(local_db_has_user(db, "baduid"));
        assert_true(local_db_has_user(db, "last"));
        assert_false(local_db_has_user(db, "nisuser"));
        assert_false(local_db_has_user(db, "+"));
        assert_false(local_db_has_user(db, "alice_example_com"));
        assert_false(local_db_has_user(db, "deplo"));

        assert_true(local_db_has_uid(db, 0));
        assert_true(local_db_has_uid(db, 1000));
        assert_true(local_db_has_uid(db, 4242)); /* a later duplicate's UID is taken too */
        assert_true(local_db_has_uid(db, 65534));
        assert_false(local_db_has_uid(db, 1001));

        assert_int_equal(local_db_user_uid(db, "deploy", &uid), 0);
        assert_int_equal(uid, 1000); /* the first line wins, as in glibc */
        assert_int_equal(local_db_user_uid(db, "baduid", &uid), -EBADMSG);
        assert_int_equal(local_db_user_uid(db, "nobody-here", &uid), -ENOENT);

        assert_true(local_db_has_group(db, "sudo"));
        assert_true(local_db_has_group(db, "docker"));
        assert_false(local_db_has_group(db, "deploy"));
        assert_true(local_db_has_gid(db, 27));
        assert_true(local_db_has_gid(db, 998));
        assert_false(local_db_has_gid(db, 1000));
        local_db_free(db);
}

static void test_missing_files_are_empty(void **state)
{
        struct local_db *db = NULL;
        char path[300];
        (void)state;

        snprintf(path, sizeof(path), "%s/etc/passwd", root);
        unlink(path);
        snprintf(path, sizeof(path), "%s/etc/group", root);
        unlink(path);
        assert_int_equal(local_db_load(root, &db), 0);
        assert_false(local_db_has_user(db, "root"));
        assert_false(local_db_has_gid(db, 0));
        local_db_free(db);
}

static void test_unreadable_file_fails(void **state)
{
        struct local_db *db = NULL;
        char path[300];
        (void)state;

        /* A directory where the file should be: reading it fails (EISDIR),
         * and the caller must fail closed rather than see "no local users". */
        snprintf(path, sizeof(path), "%s/etc/passwd", root);
        unlink(path);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_true(local_db_load(root, &db) < 0);
        assert_null(db);
        rmdir(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_and_ids),
                cmocka_unit_test(test_missing_files_are_empty),
                cmocka_unit_test(test_unreadable_file_fails),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
