/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "hostconf/sshd-policy.h"

#define CA_LINES                                                                                            \
        "TrustedUserCAKeys /run/oslogin/trusted-ca-keys.pub\n"                                              \
        "AuthorizedPrincipalsCommand /usr/sbin/oslogin-authorized-principals %u %k\n"                       \
        "AuthorizedPrincipalsCommandUser _oslogin\n"
#define KEY_LINES                                                                                           \
        "AuthorizedKeysCommand /usr/sbin/oslogin-authorized-keys %u %f\nAuthorizedKeysCommandUser "         \
        "_oslogin\n"
#define TFA_LINES "KbdInteractiveAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive\n"
#define GROUP_MATCH "Match Group oslogin-users\n    AuthorizedKeysFile none\n"
#define SA_MATCH "Match User sa_*\n    AuthenticationMethods publickey\n"

static struct sshd_policy base(bool certs, bool cert_auth, bool sk, bool tfa)
{
        return (struct sshd_policy){
                .certificates = certs,
                .cert_authentication = cert_auth,
                .security_keys = sk,
                .two_factor = tfa,
                .keys_command = "/usr/sbin/oslogin-authorized-keys",
                .keys_command_user = "_oslogin",
                .principals_command = "/usr/sbin/oslogin-authorized-principals",
                .principals_user = "_oslogin",
                .trusted_ca_file = "/run/oslogin/trusted-ca-keys.pub",
                .users_group = "oslogin-users",
        };
}

static void expect(struct sshd_policy p, const char *want)
{
        char *s = NULL;
        assert_int_equal(sshd_policy_lines(&p, &s), 0);
        assert_string_equal(s, want);
        free(s);
}

/* The agent's table (doc/oslogin-policies.md): certificates from the
 * metadata replace the keys command unless security keys are on; the
 * configuration's cert_authentication adds certificates beside the keys;
 * security keys win over certificates. */
static void test_every_combination(void **state)
{
        (void)state;
        expect(base(true, true, false, false), CA_LINES GROUP_MATCH);
        expect(base(true, false, false, false), CA_LINES GROUP_MATCH);
        expect(base(true, true, true, false), KEY_LINES GROUP_MATCH);
        expect(base(true, false, true, false), KEY_LINES GROUP_MATCH);
        expect(base(false, true, false, false), CA_LINES KEY_LINES GROUP_MATCH);
        expect(base(false, true, true, false), KEY_LINES GROUP_MATCH);
        expect(base(false, false, false, false), KEY_LINES GROUP_MATCH);
        expect(base(false, false, true, false), KEY_LINES GROUP_MATCH);
        /* Two-factor: the methods, then the sa_ exemption as the last Match. */
        expect(base(true, true, false, true), CA_LINES TFA_LINES GROUP_MATCH SA_MATCH);
        expect(base(false, true, false, true), CA_LINES KEY_LINES TFA_LINES GROUP_MATCH SA_MATCH);
        expect(base(false, false, true, true), KEY_LINES TFA_LINES GROUP_MATCH SA_MATCH);
        struct sshd_policy p = base(false, false, false, true);
        p.users_group = NULL;
        expect(p, KEY_LINES TFA_LINES SA_MATCH);
}

static void test_refusals(void **state)
{
        struct sshd_policy p;
        char *s = NULL;
        (void)state;
        p = base(false, false, false, false);
        p.keys_command = "/usr/sbin/x y";
        assert_int_equal(sshd_policy_lines(&p, &s), -EINVAL);
        p = base(false, false, false, false);
        p.users_group = "a\nMatch All";
        assert_int_equal(sshd_policy_lines(&p, &s), -EINVAL);
        p = base(false, true, false, false);
        p.trusted_ca_file = NULL;
        assert_int_equal(sshd_policy_lines(&p, &s), -EINVAL);
        p = base(false, true, false, false);
        p.principals_user = "\"_oslogin\"";
        assert_int_equal(sshd_policy_lines(&p, &s), -EINVAL);
        /* What a combination does not use may be missing. */
        p = base(true, false, false, false);
        p.keys_command = NULL;
        assert_int_equal(sshd_policy_lines(&p, &s), 0);
        free(s);
        p = base(false, false, false, false);
        p.trusted_ca_file = NULL;
        assert_int_equal(sshd_policy_lines(&p, &s), 0);
        assert_null(strstr(s, "TrustedUserCAKeys"));
        free(s);
        assert_null(s = NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_combination),
                cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
