/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts/etc-db-internal.h"
#include "accounts/etc-db.h"

static char root[] = "/tmp/test-etc-db.XXXXXX";

static const char passwd[] =
        "root:x:0:0:root:/root:/bin/bash\n# a comment stays\nbob:x:1000:1000::/home/bob:/bin/sh\n";
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

        char *p = get("passwd"), *g = get("group"), *gs = get("gshadow"), *s = get("shadow"),
             *b = get("passwd-");
        assert_string_equal(p,
                "root:x:0:0:root:/root:/bin/bash\n# a comment stays\nbob:x:1000:1000::/home/bob:/bin/sh\n"
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
        put("shadow",
                "root:*:19000:0:99999:7:::\nghost:$6$salt$OLDHASH:18000:0:99999:7:::\n"
                "bob:!:19000:0:99999:7:::\nghost:$6$salt$SECONDHASH:18000::::::\n",
                0640);
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

static int wait_child(pid_t pid)
{
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* Starts FN in a child with a private mount namespace whose /etc is
 * ROOT/etc, so the real-root code path ("/") and glibc's lckpwdf() work on
 * the test files. CLOSE_FD: a descriptor the child must not keep (a lock
 * the parent holds). Exit status 77: no namespace here. */
static pid_t start_in_private_etc(int (*fn)(void), int close_fd)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char etc[256];
                if (close_fd >= 0)
                        close(close_fd);
                snprintf(etc, sizeof(etc), "%s/etc", root);
                if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
                        mount(etc, "/etc", "none", MS_BIND, NULL) < 0)
                        _exit(77);
                _exit(fn());
        }
        return pid;
}

static int in_private_etc(int (*fn)(void))
{
        return wait_child(start_in_private_etc(fn, -1));
}

static int commit_keeps_alarm(void)
{
        struct etc_db *db = NULL;
        alarm(100);
        if (etc_db_load("/", &db) < 0 ||
                etc_db_add_user(db, "alarm", 1011, 1011, "", "/home/alarm", "/bin/sh") < 0 ||
                etc_db_commit(db) != 1)
                return 1;
        etc_db_free(db);
        unsigned left = alarm(0);
        return left >= 90 ? 0 : 2;
}

/* The daemon is threaded: taking the lock must not touch process-wide
 * state. lckpwdf() arms alarm(15) and installs its own SIGALRM handler,
 * then cancels the alarm: a timer the process had set is lost. */
static void test_lock_leaves_process_alarm_alone(void **state)
{
        (void)state;
        int r = in_private_etc(commit_keeps_alarm);
        if (r == 77)
                skip();
        assert_int_equal(r, 0);
        char *p = get("passwd");
        assert_non_null(strstr(p, "\nalarm:x:1011:1011:"));
        free(p);
        put("passwd", passwd, 0644);
        put("shadow", shadow, 0640);
        put("group", group, 0644);
        put("gshadow", gshadow, 0640);
}

static int lckpwdf_waits(void)
{
        uint64_t t0 = now_ms();
        if (lckpwdf() < 0)
                return 1;
        uint64_t waited = now_ms() - t0;
        ulckpwdf();
        return waited >= 250 ? 0 : 2;
}

static int pipe_out = -1;

static int lckpwdf_holds(void)
{
        if (lckpwdf() < 0 || write(pipe_out, "x", 1) != 1)
                return 1;
        usleep(1500 * 1000);
        return 0;
}

/* Our lock and lckpwdf() (useradd, passwd, chpasswd) exclude each other
 * both ways; our wait is bounded and says who holds the lock. */
static void test_lock_excludes_lckpwdf_both_ways(void **state)
{
        _cleanup_close_ int etc_fd = -EBADF, fd = -EBADF;
        char path[256];
        int pipefd[2];
        (void)state;
        snprintf(path, sizeof(path), "%s/etc", root);
        etc_fd = open(path, O_DIRECTORY | O_CLOEXEC);
        assert_true(etc_fd >= 0);

        /* We hold it: lckpwdf() in another process waits until we let go. */
        assert_int_equal(etc_lock_take(etc_fd, 1000000, &fd), 0);
        pid_t pid = start_in_private_etc(lckpwdf_waits, fd);
        usleep(400 * 1000);
        fd = safe_close(fd);
        int r = wait_child(pid);
        if (r == 77)
                skip();
        assert_int_equal(r, 0);

        /* lckpwdf() holds it: we wait at most the bound, then -ETIMEDOUT
         * and one error line naming the holder. */
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pipe_out = pipefd[1];
        pid = start_in_private_etc(lckpwdf_holds, -1);
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);
        close(pipefd[1]);
        FILE *log = tmpfile();
        assert_non_null(log);
        int saved_stderr = dup(STDERR_FILENO);
        dup2(fileno(log), STDERR_FILENO);
        uint64_t t0 = now_ms();
        r = etc_lock_take(etc_fd, 300000, &fd);
        uint64_t waited = now_ms() - t0;
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        assert_int_equal(r, -ETIMEDOUT);
        assert_true(waited >= 300 && waited < wall_bound(1000));
        char text[512] = "", expect[64];
        rewind(log);
        size_t n = fread(text, 1, sizeof(text) - 1, log);
        text[n] = '\0';
        fclose(log);
        char comm[32] = ""; /* the child's name is ours (under valgrind not "test-etc-db") */
        FILE *cf = fopen("/proc/self/comm", "re");
        assert_non_null(cf);
        assert_non_null(fgets(comm, sizeof(comm), cf));
        fclose(cf);
        comm[strcspn(comm, "\n")] = '\0';
        snprintf(expect, sizeof(expect), "held by PID %d \"%s\"", (int)pid, comm);
        assert_non_null(strstr(text, "Gave up waiting for the account files' lock"));
        assert_non_null(strstr(text, expect));
        assert_int_equal(wait_child(pid), 0);
        assert_int_equal(etc_lock_take(etc_fd, 1000000, &fd), 0); /* free again */
}

struct lock_try {
        int etc_fd, r;
};

static void *lock_in_thread(void *p)
{
        struct lock_try *t = p;
        int fd = -EBADF;
        t->r = etc_lock_take(t->etc_fd, 200000, &fd);
        safe_close(fd);
        return NULL;
}

/* Two threads of the daemon exclude each other: a classic POSIX lock
 * (what lckpwdf() and the old code took) belongs to the process, so a
 * second thread would "get" it too. */
static void test_lock_excludes_threads(void **state)
{
        _cleanup_close_ int fd = -EBADF;
        char path[256];
        pthread_t thread;
        (void)state;
        snprintf(path, sizeof(path), "%s/etc", root);
        struct lock_try t = {.etc_fd = open(path, O_DIRECTORY | O_CLOEXEC)};
        assert_true(t.etc_fd >= 0);
        assert_int_equal(etc_lock_take(t.etc_fd, 1000000, &fd), 0);
        assert_int_equal(pthread_create(&thread, NULL, lock_in_thread, &t), 0);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_int_equal(t.r, -ETIMEDOUT);
        fd = safe_close(fd);
        assert_int_equal(pthread_create(&thread, NULL, lock_in_thread, &t), 0);
        assert_int_equal(pthread_join(thread, NULL), 0);
        assert_int_equal(t.r, 0);
        close(t.etc_fd);
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
                cmocka_unit_test(test_lock_leaves_process_alarm_alone),
                cmocka_unit_test(test_lock_excludes_lckpwdf_both_ways),
                cmocka_unit_test(test_lock_excludes_threads),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
