/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

static void copy_from_host(const char *name)
{
        char src[64], *data = calloc(1, 1 << 20);
        snprintf(src, sizeof(src), "/etc/%s", name);
        FILE *f = fopen(src, "re");
        assert_non_null(f);
        size_t n = fread(data, 1, (1 << 20) - 1, f);
        fclose(f);
        data[n] = '\0';
        put(name, data, strstr(name, "shadow") ? 0640 : 0644);
        free(data);
}

static unsigned count_temps(void)
{
        char path[256];
        unsigned n = 0;
        snprintf(path, sizeof(path), "%s/etc", root);
        DIR *d = opendir(path);
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));)
                n += strncmp(e->d_name, ".#", 2) == 0;
        closedir(d);
        return n;
}

/* This host's own (Debian) account files survive an add and a remove byte
 * for byte, and what glibc's putpwent wrote parses with fgetpwent_r. */
static void test_host_files_roundtrip(void **state)
{
        static const char *const names[] = {"passwd", "shadow", "group", "gshadow"};
        char *before[4], *after;
        struct etc_db *db = NULL;
        (void)state;
        for (int i = 0; i < 4; i++) {
                copy_from_host(names[i]);
                before[i] = get(names[i]);
        }
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_add_user(db, "zoe", 61000, 61000, "", "/home/zoe", "/bin/bash"), 0);
        assert_int_equal(etc_db_set_member(db, "users", "zoe", true), 0);
        assert_int_equal(etc_db_commit(db), 1);
        etc_db_free(db);

        char path[256], buf[1024];
        struct passwd pw, *result;
        unsigned entries = 0, zoe = 0;
        snprintf(path, sizeof(path), "%s/etc/passwd", root);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        while (fgetpwent_r(f, &pw, buf, sizeof(buf), &result) == 0) {
                entries++;
                zoe += streq(pw.pw_name, "zoe") && pw.pw_uid == 61000 && streq(pw.pw_shell, "/bin/bash");
        }
        fclose(f);
        assert_int_equal(zoe, 1);
        assert_true(entries > 10);

        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_remove_user(db, "zoe"), 0);
        assert_int_equal(etc_db_commit(db), 1);
        etc_db_free(db);
        for (int i = 0; i < 4; i++) {
                after = get(names[i]);
                assert_string_equal(after, before[i]);
                free(after);
                free(before[i]);
        }
        assert_int_equal(count_temps(), 0);
}

/* A file changed behind our back (useradd, vipw) between load and commit:
 * the commit refuses instead of undoing that change, and writes nothing. */
static void test_concurrent_change_refused(void **state)
{
        struct etc_db *db = NULL;
        (void)state;
        put("passwd", passwd, 0644);
        put("group", group, 0644);
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_add_user(db, "dave", 1001, 1001, "", "/home/dave", "/bin/bash"), 0);
        put("passwd", "root:x:0:0:root:/root:/bin/bash\nother:x:1001:1001::/:/bin/sh\n", 0644);
        assert_int_equal(etc_db_commit(db), -EAGAIN);
        etc_db_free(db);
        char *p = get("passwd"), *g = get("group");
        assert_string_equal(p, "root:x:0:0:root:/root:/bin/bash\nother:x:1001:1001::/:/bin/sh\n");
        assert_string_equal(g, group);
        free(p), free(g);
        assert_int_equal(count_temps(), 0);
        put("passwd", passwd, 0644);
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The commit waits for the shadow-utils lock held by another process. */
static void test_waits_for_lock(void **state)
{
        struct etc_db *db = NULL;
        char path[256];
        int pipefd[2];
        (void)state;
        snprintf(path, sizeof(path), "%s/etc/.pwd.lock", root);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                        _exit(1);
                if (write(pipefd[1], "x", 1) != 1)
                        _exit(1);
                usleep(400 * 1000);
                _exit(0);
        }
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);
        close(pipefd[1]);
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_add_user(db, "lock", 1010, 1010, "", "/home/lock", "/bin/bash"), 0);
        uint64_t t0 = now_ms();
        assert_int_equal(etc_db_commit(db), 1);
        assert_true(now_ms() - t0 >= 250);
        etc_db_free(db);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        char *p = get("passwd");
        assert_non_null(strstr(p, "\nlock:x:1010:1010:"));
        free(p);
        put("passwd", passwd, 0644);
        put("shadow", shadow, 0640);
        put("group", group, 0644);
        put("gshadow", gshadow, 0640);
}

/* A shadow line left without its passwd line (a userdel that died half
 * way, a hand edit, an image built with a leftover) holds an old password
 * hash: the new account of that name gets a fresh "*" line, never that
 * hash. The same for a group password (and its admins and members) left
 * in gshadow without a group line. */
static void test_stale_shadow_never_reused(void **state)
{
        struct etc_db *db = NULL;
        (void)state;
        put("shadow", "root:*:19000:0:99999:7:::\nghost:$6$salt$OLDHASH:18000:0:99999:7:::\n"
                      "bob:!:19000:0:99999:7:::\nghost:$6$salt$SECONDHASH:18000::::::\n", 0640);
        put("gshadow", "root:*::\nghost:$6$salt$GROUPHASH:mallory:mallory\nadm:*::bob\nbob:!::\n", 0640);
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_add_user(db, "ghost", 1009, 1009, "", "/home/ghost", "/bin/bash"), 0);
        assert_int_equal(etc_db_commit(db), 1);
        etc_db_free(db);
        char *s = get("shadow"), *gs = get("gshadow"), *line = NULL;
        assert_null(strstr(s, "HASH"));
        assert_null(strstr(gs, "HASH"));
        assert_null(strstr(gs, "mallory"));
        assert_non_null(line = strstr(s, "\nghost:*:"));
        assert_null(strstr(line + 1, "\nghost:")); /* exactly one line */
        assert_non_null(strstr(s, "root:*:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n"));
        assert_non_null(strstr(gs, "\nghost:!::\n"));
        assert_non_null(strstr(gs, "root:*::\nadm:*::bob\nbob:!::\n"));
        free(s), free(gs);
        put("shadow", shadow, 0640);
        put("gshadow", gshadow, 0640);
        put("passwd", passwd, 0644);
        put("group", group, 0644);
}

/* A temp left by a killed writer goes at the next load+commit, under the
 * lock, even when nothing else changes; the files themselves stay. */
static void test_stale_temps_removed(void **state)
{
        struct etc_db *db = NULL;
        (void)state;
        put(".#passwd-1a2b3c", "partial", 0600);
        put(".#gshadowXyZ123", "partial", 0600);
        put(".#unrelated", "keep", 0600);
        assert_int_equal(etc_db_load(root, &db), 0);
        assert_int_equal(etc_db_commit(db), 0);
        etc_db_free(db);
        assert_int_equal(count_temps(), 1); /* only .#unrelated */
        char *p = get("passwd"), *u = get(".#unrelated");
        assert_string_equal(p, passwd);
        assert_string_equal(u, "keep");
        free(p), free(u);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_remove_roundtrip),
                cmocka_unit_test(test_no_final_newline),
                cmocka_unit_test(test_host_files_roundtrip),
                cmocka_unit_test(test_concurrent_change_refused),
                cmocka_unit_test(test_waits_for_lock),
                cmocka_unit_test(test_stale_temps_removed),
                cmocka_unit_test(test_stale_shadow_never_reused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
