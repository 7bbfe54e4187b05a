/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <grp.h>
#include <shadow.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/keys-reconcile.h"
#include "mds/ssh-keys.h"

#define NOW_USEC 1893456000000000ull /* 2030-01-01 */
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY+cssukTyN7nEORReToMY3FEli0UG3FUobp7k"

static char root[] = "/tmp/test-reconcile.XXXXXX";

static void sh(const char *fmt, const char *arg)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "cd '%s' && ", root);
        snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), fmt, arg);
        assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
        (void)state;
        if (geteuid() != 0)
                return 0;
        assert_non_null(mkdtemp(root));
        sh("mkdir -p etc/skel home var/lib%s && printf "
           "'root:x:0:0::/root:/bin/sh\\ndaemon:x:1:1::/:/bin/false\\n' >etc/passwd",
                "");
        sh("printf 'root:*:1::::::\\ndaemon:*:1::::::\\n' >etc/shadow && chmod 640 etc/shadow%s", "");
        sh("printf 'root:x:0:\\ndaemon:x:1:\\nstaff:x:50:\\n' >etc/group%s", "");
        sh("printf 'root:*::\\ndaemon:*::\\nstaff:*::\\n' >etc/gshadow && chmod 640 etc/gshadow%s", "");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (geteuid() != 0)
                return 0;
        sh("cd / && rm -rf '%s'", root);
        return 0;
}

/* The configured groups of the next apply() ([accounts] groups). */
static char **groups;

static int apply(const char *text, bool remove, struct reconcile_result *res)
{
        struct reconcile_options o = {.root = root,
                .extra_groups = groups,
                .deprovision_remove = remove,
                .uid_min = 1000,
                .uid_max = 1999,
                .home_base = "/home",
                .shell = "/bin/bash"};
        struct ssh_key_set keys = {};
        assert_int_equal(ssh_keys_parse_text(text, NOW_USEC, &keys), 0);
        int r = keys_reconcile(&o, &keys, res);
        ssh_key_set_done(&keys);
        return r;
}

static long uid_of(const char *name)
{
        char path[300], line[512];
        long uid = -1;
        size_t n = strlen(name);
        snprintf(path, sizeof(path), "%s/etc/passwd", root);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, name, n) == 0 && line[n] == ':')
                        uid = strtol(strchr(line + n + 1, ':') + 1, NULL, 10);
        fclose(f);
        return uid;
}

static void test_uids_follow_homes_and_never_steal(void **state)
{
        struct reconcile_result res;
        (void)state;
        if (geteuid() != 0)
                skip();
        /* A surviving home keeps its owner's UID; a home owned by 1000
         * (someone not in passwd, not in the map) makes 1000 untouchable. */
        sh("mkdir home/alice home/zoe && chown 1500:1500 home/alice && chown 1000:1000 home/zoe%s", "");
        assert_int_equal(apply("bob:" KEY " b\nalice:" KEY " a\n", false, &res), 0);
        assert_int_equal(res.created, 2);
        assert_int_equal(uid_of("alice"), 1500);
        assert_int_equal(uid_of("bob"), 1001);
        sh("test \"$(stat -c %%u home/bob/.ssh/authorized_keys)\" = 1001%s", "");
        sh("grep -q '^# Added by Google$' home/alice/.ssh/authorized_keys%s", "");

        /* Stateless reboot: /etc back to the image, the map brings the UIDs
         * back even though a newcomer asks first. */
        sh("grep -v -e '^alice:' -e '^bob:' etc/passwd >p && mv p etc/passwd && grep -v -e '^alice:' -e "
           "'^bob:' etc/shadow >s && mv s etc/shadow%s",
                "");
        sh("grep -v -e '^alice:' -e '^bob:' -e google-sudoers etc/group >g && mv g etc/group && grep -v -e "
           "'^alice:' -e '^bob:' -e google-sudoers etc/gshadow >g && mv g etc/gshadow%s",
                "");
        assert_int_equal(apply("carl:" KEY " c\nbob:" KEY " b\nalice:" KEY " a\n", false, &res), 0);
        assert_int_equal(uid_of("bob"), 1001);
        assert_int_equal(uid_of("alice"), 1500);
        assert_int_equal(uid_of("carl"), 1002);
}

static void test_refusals(void **state)
{
        struct reconcile_result res;
        (void)state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(apply("root:" KEY " r\ndaemon:" KEY " d\nstaff:" KEY " s\n", false, &res), 0);
        assert_int_equal(res.refused, 3);
        assert_int_equal(res.created, 0);
        assert_int_equal(uid_of("staff"), -1);
        sh("test ! -e root/.ssh && ! grep -q daemon var/lib/oslogin/users%s", "");
}

/* The account files cannot be written (the lock file is a directory): the
 * state under var/lib was saved first, so the user we were creating is
 * known as ours; the next pass creates it with the recorded UID, and with
 * deprovision_remove it can be deleted later. */
static void test_state_saved_before_accounts(void **state)
{
        struct reconcile_result res;
        (void)state;
        if (geteuid() != 0)
                skip();
        sh("rm -f etc/.pwd.lock && mkdir etc/.pwd.lock%s", "");
        assert_true(apply("dora:" KEY " d\n", false, &res) < 0);
        assert_int_equal(uid_of("dora"), -1);
        sh("grep -qx 'dora created' var/lib/oslogin/users && grep -q '^dora ' var/lib/oslogin/uidmap%s", "");
        sh("rmdir etc/.pwd.lock%s", "");
        assert_int_equal(apply("dora:" KEY " d\n", false, &res), 0);
        assert_int_equal(res.created, 1);
        long uid = uid_of("dora");
        assert_true(uid >= 1000);
        assert_int_equal(apply("", true, &res), 0);
        assert_int_equal(uid_of("dora"), -1);
        sh("test -d home/dora && ! grep -q 'Added by Google' home/dora/.ssh/authorized_keys%s", "");
}

static void test_expiry_reported(void **state)
{
        struct reconcile_result res;
        (void)state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(
                apply("eli:" KEY
                      " google-ssh {\"userName\":\"e@x\",\"expireOn\":\"2031-01-01T00:00:00+0000\"}\n"
                      "eli:" KEY
                      " google-ssh {\"userName\":\"e@x\",\"expireOn\":\"2030-06-01T00:00:00+0000\"}\n",
                        false, &res),
                0);
        assert_int_equal(res.next_expiry_usec, 1906502400000000ull); /* 2030-06-01 */
        sh("grep -q '^expiry-time=\"20300601000000Z\" ssh-ed25519' home/eli/.ssh/authorized_keys%s", "");
        /* Unchanged: nothing written at all. */
        assert_int_equal(
                apply("eli:" KEY
                      " google-ssh {\"userName\":\"e@x\",\"expireOn\":\"2031-01-01T00:00:00+0000\"}\n"
                      "eli:" KEY
                      " google-ssh {\"userName\":\"e@x\",\"expireOn\":\"2030-06-01T00:00:00+0000\"}\n",
                        false, &res),
                0);
        assert_int_equal(res.created + res.keys_written + res.removed, 0);
}

/* The shadow expiry of NAME as glibc reads it (-1: none), -2: no entry. */
static long expiry_of(const char *name)
{
        char path[300], buf[1024];
        struct spwd sp, *result;
        long days = -2;
        snprintf(path, sizeof(path), "%s/etc/shadow", root);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        while (fgetspent_r(f, &sp, buf, sizeof(buf), &result) == 0)
                if (streq(sp.sp_namp, name))
                        days = sp.sp_expire;
        fclose(f);
        return days;
}

static bool in_group(const char *group, const char *user)
{
        char path[300], buf[4096];
        struct group gr, *result;
        bool found = false;
        snprintf(path, sizeof(path), "%s/etc/group", root);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        while (fgetgrent_r(f, &gr, buf, sizeof(buf), &result) == 0)
                if (streq(gr.gr_name, group))
                        for (char **m = gr.gr_mem; *m; m++)
                                found = found || streq(*m, user);
        fclose(f);
        return found;
}

/* Deprovisioning takes back every membership we gave (google-sudoers and
 * the configured groups, not the ones a local account already had) and
 * expires the account we created, so a key the user added itself no longer
 * opens it; the account and its home stay. On return: groups back, expiry
 * as before. With deprovision_remove set later, the expired account goes. */
static void test_deprovision_takes_back_groups_and_expires(void **state)
{
        static char *configured[] = {(char *)"adm", (char *)"docker", NULL};
        struct reconcile_result res;
        (void)state;
        if (geteuid() != 0)
                skip();
        groups = configured;
        sh("printf 'lena:x:1200:1200::/home/lena:/bin/sh\\n' >>etc/passwd && printf "
           "'lena:$6$x$y:19000:0:99999:7:::\\n' >>etc/shadow%s",
                "");
        sh("printf 'adm:x:4:lena\\ndocker:x:120:\\nlena:x:1200:\\n' >>etc/group && printf "
           "'adm:*::lena\\ndocker:!::\\nlena:!::\\n' >>etc/gshadow%s",
                "");
        assert_int_equal(apply("bob:" KEY " b\nlena:" KEY " l\n", false, &res), 0);
        assert_true(
                in_group("adm", "bob") && in_group("docker", "bob") && in_group("google-sudoers", "bob"));
        assert_true(
                in_group("adm", "lena") && in_group("docker", "lena") && in_group("google-sudoers", "lena"));
        sh("echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBobsOwnKey bob-own' "
           ">>home/bob/.ssh/authorized_keys%s",
                "");

        assert_int_equal(apply("", false, &res), 0);
        assert_false(
                in_group("adm", "bob") || in_group("docker", "bob") || in_group("google-sudoers", "bob"));
        assert_int_equal(expiry_of("bob"), 1); /* sshd's account check refuses bob-own too */
        assert_true(uid_of("bob") >= 1000);
        sh("test -d home/bob && grep -q bob-own home/bob/.ssh/authorized_keys%s", "");
        /* lena was local: only what we gave goes, and she is never expired. */
        assert_true(in_group("adm", "lena"));
        assert_false(in_group("docker", "lena") || in_group("google-sudoers", "lena"));
        assert_int_equal(expiry_of("lena"), -1);
        /* An unchanged pass changes nothing. */
        assert_int_equal(apply("", false, &res), 0);
        assert_int_equal(expiry_of("bob"), 1);

        assert_int_equal(apply("bob:" KEY " b\n", false, &res), 0);
        assert_int_equal(res.created, 0);
        assert_int_equal(expiry_of("bob"), -1);
        assert_true(
                in_group("adm", "bob") && in_group("docker", "bob") && in_group("google-sudoers", "bob"));
        sh("grep -qx 'bob created' var/lib/oslogin/users && ! grep -q bob var/lib/oslogin/expired%s", "");

        /* Expired, then deprovision_remove is set: the account goes. */
        assert_int_equal(apply("", false, &res), 0);
        assert_int_equal(expiry_of("bob"), 1);
        assert_int_equal(apply("", true, &res), 0);
        assert_true(res.removed >= 1); /* eli of an earlier test, expired here too */
        assert_int_equal(uid_of("bob"), -1);
        assert_int_equal(expiry_of("bob"), -2);
        sh("test -d home/bob && ! grep -q bob var/lib/oslogin/expired%s", "");
        groups = NULL;
}

/* An expiry set by an admin before we expired the account comes back; one
 * changed while the user was away is left as the admin set it. */
static void test_return_keeps_admin_expiry(void **state)
{
        struct reconcile_result res;
        (void)state;
        if (geteuid() != 0)
                skip();
        groups = NULL;
        assert_int_equal(apply("cleo:" KEY " c\ndan:" KEY " d\n", false, &res), 0);
        sh("sed -i -e 's/^cleo:\\([^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*\\):[^:]*:/cleo:\\1:40000:/' "
           "etc/shadow%s",
                "");
        assert_int_equal(expiry_of("cleo"), 40000);
        assert_int_equal(apply("", false, &res), 0);
        assert_int_equal(expiry_of("cleo"), 1);
        assert_int_equal(expiry_of("dan"), 1);
        sh("sed -i -e 's/^dan:\\([^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*\\):[^:]*:/dan:\\1:30000:/' "
           "etc/shadow%s",
                "");
        assert_int_equal(apply("cleo:" KEY " c\ndan:" KEY " d\n", false, &res), 0);
        assert_int_equal(expiry_of("cleo"), 40000);
        assert_int_equal(expiry_of("dan"), 30000);

        /* Expired, then deleted by an admin: the new account of that name
         * owes nothing to the old one's record. */
        assert_int_equal(apply("dan:" KEY " d\n", false, &res), 0);
        assert_int_equal(expiry_of("cleo"), 1);
        sh("for f in passwd shadow group gshadow; do grep -v '^cleo:' etc/$f >t && cat t >etc/$f; done; rm "
           "t%s",
                "");
        assert_int_equal(apply("cleo:" KEY " c\ndan:" KEY " d\n", false, &res), 0);
        assert_int_equal(res.created, 1);
        assert_int_equal(apply("dan:" KEY " d\n", false, &res), 0);
        assert_int_equal(expiry_of("cleo"), 1);
        assert_int_equal(apply("cleo:" KEY " c\ndan:" KEY " d\n", false, &res), 0);
        assert_int_equal(expiry_of("cleo"), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_uids_follow_homes_and_never_steal),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_state_saved_before_accounts),
                cmocka_unit_test(test_expiry_reported),
                cmocka_unit_test(test_deprovision_takes_back_groups_and_expires),
                cmocka_unit_test(test_return_keeps_admin_expiry),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
