/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/etc-db.h"

static char root[] = "/tmp/test-etc-db.XXXXXX";

static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n# a comment stays\nbob:x:1000:1000::/home/bob:/bin/sh\n";
static const char shadow[] = "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n";
static const char group[] = "root:x:0:\nadm:x:4:bob\nbob:x:1000:\n";
static const char gshadow[] = "root:*::\nadm:*::bob\nbob:!::\n";

static void put(const char *name, const char *content, mode_t mode)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/etc/%s", root, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        close(fd);
}

static char *get(const char *name)
{
        char path[256], *buf = calloc(1, 65536);
        snprintf(path, sizeof(path), "%s/etc/%s", root, name);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static int setup(void **state)
{
        char path[256];
        (void)state;
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/etc", root);
        mkdir(path, 0755);
        put("passwd", passwd, 0644);
        put("shadow", shadow, 0640);
        put("group", group, 0644);
        put("gshadow", gshadow, 0640);
        return 0;
}

static int teardown(void **state)
{
        char cmd[300];
        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd);
}

static void test_add_remove_roundtrip(void **state)
{
        struct etc_db *db = NULL;
        uid_t uid;
        gid_t gid;
        (void)state;

        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_commit(db), 0); /* nothing changed: nothing written */
        assert_int_equal(etc_db_get_user(db, "bob", &uid, &gid, NULL), 0);
        assert_int_equal(uid, 1000);
        assert_true(etc_db_uid_used(db, 1000));
        assert_false(etc_db_uid_used(db, 1001));
        assert_int_equal(etc_db_add_user(db, "dave", 1001, 1001, "", "/home/dave", "/bin/bash"), 0);
        assert_int_equal(etc_db_add_user(db, "dave", 1001, 1001, "", "/home/dave", "/bin/bash"), -EEXIST);
        assert_int_equal(etc_db_set_member(db, "adm", "dave", true), 0);
        assert_int_equal(etc_db_set_member(db, "adm", "dave", true), 0);
        assert_true(etc_db_is_member(db, "adm", "dave"));
        assert_int_equal(etc_db_set_member(db, "nope", "dave", true), -ENOENT);
        assert_int_equal(etc_db_commit(db), 1);
        etc_db_free(db);

        char *p = get("passwd"), *g = get("group"), *gs = get("gshadow"), *s = get("shadow"), *b = get("passwd-");
        assert_string_equal(p, "root:x:0:0:root:/root:/bin/bash\n# a comment stays\nbob:x:1000:1000::/home/bob:/bin/sh\n"
                               "dave:x:1001:1001::/home/dave:/bin/bash\n");
        assert_string_equal(g, "root:x:0:\nadm:x:4:bob,dave\nbob:x:1000:\ndave:x:1001:\n");
        assert_string_equal(gs, "root:*::\nadm:*::bob,dave\nbob:!::\ndave:!::\n");
        assert_non_null(strstr(s, "\ndave:*:"));
        assert_string_equal(b, passwd); /* backup of the previous version */
        free(p), free(g), free(gs), free(s), free(b);

        struct stat st;
        char path[256];
        snprintf(path, sizeof(path), "%s/etc/shadow", root);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640); /* mode kept */

        /* Removing restores the original files byte for byte. */
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_remove_user(db, "dave"), 0);
        assert_int_equal(etc_db_commit(db), 1);
        etc_db_free(db);
        p = get("passwd"), g = get("group"), gs = get("gshadow");
        assert_string_equal(p, passwd);
        assert_string_equal(g, group);
        assert_string_equal(gs, gshadow);
        free(p), free(g), free(gs);
}

static void test_no_final_newline(void **state)
{
        struct etc_db *db = NULL;
        (void)state;
        put("passwd", "root:x:0:0:root:/root:/bin/bash", 0644);
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_add_user(db, "eve", 1005, 1005, "", "/home/eve", "/bin/bash"), 0);
        assert_int_equal(etc_db_commit(db), 1);
        etc_db_free(db);
        char *p = get("passwd");
        assert_string_equal(p, "root:x:0:0:root:/root:/bin/bash\neve:x:1005:1005::/home/eve:/bin/bash\n");
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_remove_roundtrip),
                cmocka_unit_test(test_no_final_newline),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
