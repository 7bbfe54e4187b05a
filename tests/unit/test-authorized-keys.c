/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/authorized-keys.h"
#include "accounts/home.h"

static void test_merge(void **state)
{
        char *keys[] = {"ssh-ed25519 AAAA new", "expiry-time=\"20991201000000Z\" ssh-rsa BBBB x", NULL};
        char *none[] = {NULL};
        char *out;
        (void)state;

        out = authorized_keys_merge(NULL, keys);
        assert_string_equal(out, "# Added by Google\nssh-ed25519 AAAA new\n"
                                 "# Added by Google\nexpiry-time=\"20991201000000Z\" ssh-rsa BBBB x\n");
        free(out);

        /* User lines keep their order; old managed pairs are replaced, wherever they were. */
        out = authorized_keys_merge("mine-1\n# Added by Google\nssh-ed25519 OLD\nmine-2\n", keys);
        assert_string_equal(out, "mine-1\nmine-2\n# Added by Google\nssh-ed25519 AAAA new\n"
                                 "# Added by Google\nexpiry-time=\"20991201000000Z\" ssh-rsa BBBB x\n");
        free(out);

        /* Nothing managed any more: only the user's lines stay. */
        out = authorized_keys_merge("# Added by Google\nssh-ed25519 OLD\nmine\n", none);
        assert_string_equal(out, "mine\n");
        free(out);

        /* A trailing marker without a key does not eat anything else. */
        out = authorized_keys_merge("mine\n# Added by Google\n", none);
        assert_string_equal(out, "mine\n");
        free(out);

        /* Idempotent. */
        char *once = authorized_keys_merge("mine\n", keys);
        char *twice = authorized_keys_merge(once, keys);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
}

static void test_merge_keeps_user_lines_exactly(void **state)
{
        char *keys[] = {"ssh-ed25519 AAAA k", NULL};
        (void)state;
        /* Blank lines and comments of the user stay; no final newline gets one. */
        char *out = authorized_keys_merge("# mine\n\nssh-rsa X me\n\n# Added by Google\nold\nlast", keys);
        assert_string_equal(out, "# mine\n\nssh-rsa X me\n\nlast\n# Added by Google\nssh-ed25519 AAAA k\n");
        free(out);
}

static char root[] = "/tmp/test-akeys.XXXXXX";

static char *path_of(const char *rel)
{
        char *p;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        return p;
}

static void spew(const char *rel, const char *content)
{
        char *p = path_of(rel);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        free(p);
}

static char *slurp(const char *rel)
{
        char *p = path_of(rel), *buf = calloc(1, 4096);
        FILE *f = fopen(p, "re");
        assert_non_null(f);
        buf[fread(buf, 1, 4095, f)] = '\0';
        fclose(f);
        free(p);
        return buf;
}

static int setup_tree(void **state)
{
        (void)state;
        if (geteuid() != 0)
                return 0;
        assert_non_null(mkdtemp(root));
        char *skel = path_of("/etc/skel");
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/home' '%s/outside' && printf 'rc\\n' >'%s/.bashrc'",
                skel, root, root, skel);
        free(skel);
        return system(cmd);
}

static int teardown_tree(void **state)
{
        char cmd[300];
        (void)state;
        if (geteuid() != 0)
                return 0;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd);
}

static void test_write_modes_owners(void **state)
{
        char *keys[] = {"ssh-ed25519 AAAA k", NULL};
        struct stat st;
        (void)state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(home_create(root, "/home/ann", 2001, 2002), 1);
        assert_int_equal(home_create(root, "/home/ann", 2001, 2002), 0); /* exists: untouched */
        assert_int_equal(authorized_keys_write(root, "/home/ann", 2001, 2002, keys), 1);
        assert_int_equal(authorized_keys_write(root, "/home/ann", 2001, 2002, keys), 0); /* unchanged */
        char *p = path_of("/home/ann/.ssh");
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, 2001);
        assert_int_equal(st.st_gid, 2002);
        free(p);
        p = path_of("/home/ann/.ssh/authorized_keys");
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, 2001);
        free(p);
        p = path_of("/home/ann/.bashrc");
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_uid, 2001);
        free(p);
        char *c = slurp("/home/ann/.ssh/authorized_keys");
        assert_string_equal(c, "# Added by Google\nssh-ed25519 AAAA k\n");
        free(c);
}

/* Whatever the user plants in ~/.ssh, a root write never goes through it
 * and the planted thing's target is never read into the user's file. */
static void test_planted_things_refused(void **state)
{
        char *keys[] = {"ssh-ed25519 AAAA k", NULL};
        (void)state;
        if (geteuid() != 0)
                skip();
        spew("/outside/secret", "secret\n");
        char *secret = path_of("/outside/secret");
        assert_int_equal(chmod(secret, 0600), 0);

        /* ~/.ssh a symlink to a directory elsewhere. */
        assert_int_equal(home_create(root, "/home/sym", 2003, 2003), 1);
        char *ssh = path_of("/home/sym/.ssh"), *outside = path_of("/outside");
        assert_int_equal(symlink(outside, ssh), 0);
        assert_int_equal(authorized_keys_write(root, "/home/sym", 2003, 2003, keys), -ELOOP);
        char *should_not = path_of("/outside/authorized_keys");
        assert_int_equal(access(should_not, F_OK), -1);
        free(ssh), free(outside), free(should_not);

        /* authorized_keys a symlink to a root file. */
        assert_int_equal(home_create(root, "/home/lnk", 2004, 2004), 1);
        ssh = path_of("/home/lnk/.ssh");
        assert_int_equal(mkdir(ssh, 0700), 0);
        assert_int_equal(chown(ssh, 2004, 2004), 0);
        char *ak = path_of("/home/lnk/.ssh/authorized_keys");
        assert_int_equal(symlink(secret, ak), 0);
        assert_int_equal(authorized_keys_write(root, "/home/lnk", 2004, 2004, keys), -ELOOP);
        free(ak);

        /* A hard link to a root file: never read, never replaced. */
        ak = path_of("/home/lnk/.ssh/authorized_keys");
        assert_int_equal(unlink(ak), 0);
        assert_int_equal(link(secret, ak), 0);
        assert_int_equal(authorized_keys_write(root, "/home/lnk", 2004, 2004, keys), -EMLINK);
        assert_int_equal(unlink(ak), 0);

        /* A FIFO: refused at once, the daemon does not hang. */
        assert_int_equal(mkfifo(ak, 0600), 0);
        assert_int_equal(chown(ak, 2004, 2004), 0);
        assert_int_equal(authorized_keys_write(root, "/home/lnk", 2004, 2004, keys), -EBADFD);
        assert_int_equal(unlink(ak), 0);

        /* A file of someone else's. */
        spew("/home/lnk/.ssh/authorized_keys", "other\n");
        assert_int_equal(chown(ak, 2999, 2999), 0);
        assert_int_equal(authorized_keys_write(root, "/home/lnk", 2004, 2004, keys), -EPERM);
        free(ak), free(ssh);

        /* The home itself a symlink. */
        char *home = path_of("/home/hl");
        outside = path_of("/outside");
        assert_int_equal(symlink(outside, home), 0);
        assert_int_equal(authorized_keys_write(root, "/home/hl", 2005, 2005, keys), -ELOOP);
        assert_int_equal(home_create(root, "/home/hl", 2005, 2005), 0); /* something is there: left alone */
        free(home), free(outside);

        char *c = slurp("/outside/secret");
        assert_string_equal(c, "secret\n");
        free(c);
        struct stat st;
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        free(secret);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_merge_keeps_user_lines_exactly),
                cmocka_unit_test(test_write_modes_owners),
                cmocka_unit_test(test_planted_things_refused),
        };
        return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
