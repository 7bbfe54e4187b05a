/* SPDX-License-Identifier: Apache-2.0 */
/* lib/hostconf/takeover*.c: the guest environment's lines recognised and
 * dropped (and nothing else), the agent's instance_configs.cfg switch and
 * its [Accounts] import. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "hostconf/takeover.h"

#define B "#### Google OS Login control. Do not edit this section. ####\n"
#define E "#### End Google OS Login control section. ####\n"
#define C "# Added by Google Compute Engine OS Login.\n"
#define OURS                                                                                                \
        "# BEGIN oslogin (managed by osloginctl; do not edit)\nAuthorizedKeysCommand /x %u %f\n# END "      \
        "oslogin\n"

static void expect_filter(enum takeover_kind kind, const char *in, const char *out, unsigned lines)
{
        struct takeover_removed r;
        char *got = takeover_filter(kind, in, &r);
        assert_non_null(got);
        assert_string_equal(got, out);
        assert_int_equal(r.lines, lines);
        free(got);
}

static void test_sshd(void **state)
{
        (void)state;
        /* Top and bottom blocks (oslogin.go updateSSHConfig). */
        expect_filter(TAKEOVER_SSHD,
                B "AuthorizedKeysCommand /usr/bin/google_authorized_keys\nAuthorizedKeysCommandUser root\n" E
                  "Port 22\n" B "Include /var/google-users.d/*\n" E,
                "Port 22\n", 7);
        /* Our block is never touched, even with a look-alike inside. */
        expect_filter(TAKEOVER_SSHD, OURS "Port 22\n", OURS "Port 22\n", 0);
        /* Stray lines outside blocks; the user line only after their command. */
        expect_filter(TAKEOVER_SSHD,
                "AuthorizedKeysCommandUser "
                "nobody\nAuthorizedKeysCommand=/usr/local/bin/google_authorized_keys_sk\n"
                "AuthorizedKeysCommandUser root\nInclude /var/google-users.d/*\n"
                "TrustedUserCAKeys /etc/ssh/oslogin_trustedca.pub\nAuthorizedKeysCommand "
                "/opt/my_google_authorized_keys\n",
                "AuthorizedKeysCommandUser nobody\nAuthorizedKeysCommand /opt/my_google_authorized_keys\n",
                4);
        /* google_oslogin_control commented the administrator's line out: restored. */
        expect_filter(TAKEOVER_SSHD, C "#PasswordAuthentication yes\nPort 22\n",
                "PasswordAuthentication yes\nPort 22\n", 2);
        /* The old agent's comment + its own line: both go. */
        expect_filter(TAKEOVER_SSHD, C "AuthorizedKeysCommand /usr/bin/google_authorized_keys\nPort 22",
                "Port 22", 2);
        /* A start marker with no end: only the marker goes, the rest is the administrator's. */
        expect_filter(TAKEOVER_SSHD, B "Port 22\nPermitRootLogin no\n", "Port 22\nPermitRootLogin no\n", 1);
        /* Nothing of theirs: byte for byte, missing final newline kept. */
        expect_filter(TAKEOVER_SSHD, "Port 22\r\n#x\n\nUsePAM yes", "Port 22\r\n#x\n\nUsePAM yes", 0);
}

static void test_pam(void **state)
{
        (void)state;
        expect_filter(TAKEOVER_PAM,
                B "auth       [default=ignore] pam_group.so\n" E "@include common-auth\n" B
                  "account    [success=ok ignore=ignore default=die] pam_oslogin_login.so\n"
                  "account    [success=ok default=ignore] pam_oslogin_admin.so\n"
                  "session    [success=ok default=ignore] pam_mkhomedir.so\n" E,
                "@include common-auth\n", 8);
        /* google_oslogin_control's style: comment, then lines in the stack; any module path. */
        expect_filter(TAKEOVER_PAM,
                "\n" C "auth       [default=ignore] pam_group.so\n"
                "auth [success=done perm_denied=die default=ignore] /lib/security/pam_oslogin_login.so\n"
                "@include common-account\n",
                "\n@include common-account\n", 3);
        /* The administrator's own pam_mkhomedir and pam_group lines stay. */
        expect_filter(TAKEOVER_PAM,
                "session optional pam_mkhomedir.so skel=/etc/skel\nauth optional pam_group.so\n",
                "session optional pam_mkhomedir.so skel=/etc/skel\nauth optional pam_group.so\n", 0);
        /* A comment naming the module is not a rule. */
        expect_filter(
                TAKEOVER_PAM, "# pam_oslogin_login.so was here\n", "# pam_oslogin_login.so was here\n", 0);
}

static void test_nsswitch(void **state)
{
        (void)state;
        expect_filter(TAKEOVER_NSSWITCH,
                "passwd:         files systemd cache_oslogin oslogin\ngroup:  files cache_oslogin oslogin\n"
                "hosts: files dns\n",
                "passwd:         files systemd\ngroup:  files\nhosts: files dns\n", 2);
        /* A lone oslogin (ours, or the administrator's) stays; cache_oslogin alone goes. */
        expect_filter(TAKEOVER_NSSWITCH, "passwd: files oslogin\ngroup: cache_oslogin files\n",
                "passwd: files oslogin\ngroup: files\n", 1);
        expect_filter(
                TAKEOVER_NSSWITCH, "hosts: cache_oslogin oslogin\n", "hosts: cache_oslogin oslogin\n", 0);
}

static void test_group_conf(void **state)
{
        (void)state;
        expect_filter(TAKEOVER_GROUP, "*;*;*;Al0000-2400;audio\n" C "sshd;*;*;Al0000-2400;video\n",
                "*;*;*;Al0000-2400;audio\n", 2);
        expect_filter(TAKEOVER_GROUP, "sshd;*;*;Al0000-2400;dip,plugdev,video\n", "", 1);
}

static char root[] = "/tmp/test-takeover.XXXXXX";

static void put(const char *path, const char *content)
{
        char p[512];
        snprintf(p, sizeof(p), "%s%s", root, path);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static char *get(const char *path)
{
        static char buf[4096];
        char p[512];
        snprintf(p, sizeof(p), "%s%s", root, path);
        FILE *f = fopen(p, "re");
        if (!f)
                return NULL;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void reset_state(void)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/var/lib/oslogin/" TAKEOVER_RESTORE_FILE, root);
        unlink(p);
}

static void test_agent_switch(void **state)
{
        char p[512];
        (void)state;
        assert_non_null(mkdtemp(root));
        for (const char *d = "/etc\0/etc/default\0/var\0/var/lib\0"; *d; d += strlen(d) + 1) {
                snprintf(p, sizeof(p), "%s%s", root, d);
                assert_int_equal(mkdir(p, 0755), 0);
        }
        /* No agent: nothing done. */
        assert_int_equal(takeover_agent_switch_off(root), 0);
        assert_null(get("/etc/default/instance_configs.cfg"));

        /* Key present (any case), other sections kept, record written once. */
        put("/etc/default/instance_configs.cfg",
                "[Accounts]\ngroups = adm\n[daemons]\nAccounts_Daemon = true\n"
                "clock_skew_daemon = true\n");
        assert_int_equal(takeover_agent_switch_off(root), 1);
        assert_string_equal(get("/etc/default/instance_configs.cfg"),
                "[Accounts]\ngroups = adm\n[daemons]\naccounts_daemon = false\nclock_skew_daemon = true\n");
        assert_string_equal(
                get("/var/lib/oslogin/" TAKEOVER_RESTORE_FILE), "file=existed\naccounts_daemon=true\n");
        assert_int_equal(takeover_agent_switch_off(root), 0); /* idempotent */

        /* Section present without the key, followed by another section. */
        put("/etc/default/instance_configs.cfg",
                "[Daemons]\nnetwork_daemon = true\n\n[Snapshots]\nenabled = false");
        assert_int_equal(takeover_agent_switch_off(root), 1);
        assert_string_equal(get("/etc/default/instance_configs.cfg"),
                "[Daemons]\nnetwork_daemon = true\n\naccounts_daemon = false\n[Snapshots]\nenabled = false");
        /* The first record is the one a purge restores. */
        assert_string_equal(
                get("/var/lib/oslogin/" TAKEOVER_RESTORE_FILE), "file=existed\naccounts_daemon=true\n");

        /* File ends inside [Daemons]; no final newline. */
        reset_state();
        put("/etc/default/instance_configs.cfg", "[Daemons]\nnetwork_daemon = true");
        assert_int_equal(takeover_agent_switch_off(root), 1);
        assert_string_equal(get("/etc/default/instance_configs.cfg"),
                "[Daemons]\nnetwork_daemon = true\naccounts_daemon = false\n");
        assert_string_equal(
                get("/var/lib/oslogin/" TAKEOVER_RESTORE_FILE), "file=existed\naccounts_daemon=unset\n");

        /* No section: appended. */
        put("/etc/default/instance_configs.cfg", "[Accounts]\ngroups = adm\n");
        assert_int_equal(takeover_agent_switch_off(root), 1);
        assert_string_equal(get("/etc/default/instance_configs.cfg"),
                "[Accounts]\ngroups = adm\n[Daemons]\naccounts_daemon = false\n");

        /* Off already, spelled otherwise: untouched, no record. */
        reset_state();
        put("/etc/default/instance_configs.cfg", "[Daemons]\naccounts_daemon: no\n");
        assert_int_equal(takeover_agent_switch_off(root), 0);
        assert_string_equal(get("/etc/default/instance_configs.cfg"), "[Daemons]\naccounts_daemon: no\n");
        assert_null(get("/var/lib/oslogin/" TAKEOVER_RESTORE_FILE));

        /* Only the .template exists (the agent is installed): the file is created. */
        snprintf(p, sizeof(p), "%s/etc/default/instance_configs.cfg", root);
        unlink(p);
        put("/etc/default/instance_configs.cfg.template", "[Accounts]\ndeprovision_remove = true\n");
        assert_int_equal(takeover_agent_switch_off(root), 1);
        assert_string_equal(
                get("/etc/default/instance_configs.cfg"), "[Daemons]\naccounts_daemon = false\n");
        assert_string_equal(
                get("/var/lib/oslogin/" TAKEOVER_RESTORE_FILE), "file=created\naccounts_daemon=unset\n");
}

static void test_agent_accounts(void **state)
{
        struct agent_accounts a;
        (void)state;
        /* Later files win: .distro, .template, then the file. */
        put("/etc/default/instance_configs.cfg.distro",
                "[Accounts]\ngroups = video\nreuse_homedir = true\n");
        put("/etc/default/instance_configs.cfg.template", "[accounts]\nDEPROVISION_REMOVE = true\n");
        put("/etc/default/instance_configs.cfg",
                "[Accounts]\ngroups = adm,dip\n[Daemons]\naccounts_daemon = false\n");
        assert_int_equal(takeover_agent_accounts(root, &a), 0);
        assert_true(a.has_groups && a.has_deprovision_remove && a.has_reuse_homedir);
        assert_string_equal(a.groups[0], "adm");
        assert_string_equal(a.groups[1], "dip");
        assert_null(a.groups[2]);
        assert_true(a.deprovision_remove);
        assert_true(a.reuse_homedir);
        agent_accounts_done(&a);
        /* An invalid group list is ignored whole; the earlier one stays. */
        put("/etc/default/instance_configs.cfg", "[Accounts]\ngroups = adm,-rf\n");
        assert_int_equal(takeover_agent_accounts(root, &a), 0);
        assert_string_equal(a.groups[0], "video");
        assert_null(a.groups[1]);
        agent_accounts_done(&a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sshd),
                cmocka_unit_test(test_pam),
                cmocka_unit_test(test_nsswitch),
                cmocka_unit_test(test_group_conf),
                cmocka_unit_test(test_agent_switch),
                cmocka_unit_test(test_agent_accounts),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (strcmp(root + strlen(root) - 6, "XXXXXX") != 0)
                (void)!system(cmd);
        return r;
}
