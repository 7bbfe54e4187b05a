/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "mds/policies.h"

/* Real keys (tests/fixtures/keys): the test CA, heidi's two security keys, a plain key. */
#define CA "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILAoyVy7DbwEJFiRByM4YeThNpn+UIf6QHfs+9J2o6Jq oslogin-test-ca"
#define SK_ED                                                                                               \
        "sk-ssh-ed25519@openssh.com "                                                                       \
        "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIN5SGxlAEv2z74RgXjKhH+lXFHitidS+"                      \
        "UvAXthAntpxdAAAABHNzaDo= heidi@yubikey"
#define SK_EC                                                                                               \
        "sk-ecdsa-sha2-nistp256@openssh.com "                                                               \
        "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBMyAhm3+FC+"               \
        "d8cgF1ETRSesXMi/E2AjRl0WDrelP3ckusoPC7CeBpY3gMfzAwzg+jrczKDiw50O+ncLlNEABdfsAAAAEc3NoOg== "        \
        "heidi@yubikey-2"
#define PLAIN                                                                                               \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN5SGxlAEv2z74RgXjKhH+lXFHitidS+UvAXthAntpxd heidi@policies"

static int certs(const char *json, struct oslogin_key_list *l)
{
        return oslogin_certificates_parse(json, strlen(json), l);
}

static int sks(const char *json, struct oslogin_key_list *l)
{
        return oslogin_security_keys_parse(json, strlen(json), l);
}

static void test_certificates(void **state)
{
        struct oslogin_key_list l = {};
        (void)state;
        assert_int_equal(certs("{\"trustedCertificateAuthorities\":[{\"publicKey\":\"" CA "\"},"
                               "{\"publicKey\":\"" PLAIN "\"}]}",
                                 &l),
                0);
        assert_int_equal(l.n_keys, 2);
        assert_string_equal(l.keys[0], CA);
        assert_string_equal(l.keys[1], PLAIN);
        assert_null(l.keys[2]);
        assert_int_equal(l.n_rejected, 0);
        oslogin_key_list_done(&l);

        /* No list, an empty list, null: no CA, which is not an error. */
        assert_int_equal(certs("{}", &l), 0);
        assert_int_equal(l.n_keys, 0);
        assert_non_null(l.keys);
        assert_null(l.keys[0]);
        oslogin_key_list_done(&l);
        assert_int_equal(certs("{\"trustedCertificateAuthorities\":null}", &l), 0);
        oslogin_key_list_done(&l);
        assert_int_equal(certs("{\"trustedCertificateAuthorities\":[]}", &l), 0);
        assert_int_equal(l.n_keys, 0);
        oslogin_key_list_done(&l);
}

static void test_certificates_hostile(void **state)
{
        struct oslogin_key_list l = {};
        (void)state;
        /* Each bad entry is dropped and counted; the good one stays. */
        assert_int_equal(certs("{\"trustedCertificateAuthorities\":["
                               "1, \"" CA "\", {}, {\"publicKey\":7},"
                               "{\"publicKey\":\"ssh-ed25519 AAAA!!!!\"},"
                               "{\"publicKey\":\"ssh-rsa "
                               "AAAAC3NzaC1lZDI1NTE5AAAAILAoyVy7DbwEJFiRByM4YeThNpn+UIf6QHfs+9J2o6Jq\"},"
                               "{\"publicKey\":\"" CA "\\nssh-ed25519 AAAA\"},"
                               "{\"publicKey\":\"from=\\\"*\\\" " CA "\"},"
                               "{\"publicKey\":\"ssh-ed25519-cert-v01@openssh.com "
                               "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t\"},"
                               "{\"publicKey\":\"" CA "\"},"
                               "{\"publicKey\":\"" CA "\"}]}",
                                 &l),
                0);
        assert_int_equal(l.n_keys, 1);
        assert_string_equal(l.keys[0], CA);
        assert_int_equal(l.n_rejected, 10);
        oslogin_key_list_done(&l);

        assert_int_equal(certs("{\"trustedCertificateAuthorities\":{}}", &l), -EBADMSG);
        assert_int_equal(certs("{\"trustedCertificateAuthorities\":\"" CA "\"}", &l), -EBADMSG);
        assert_int_equal(certs("[]", &l), -EBADMSG);
        assert_int_equal(certs("", &l), -EBADMSG);
        assert_int_equal(certs("{\"trustedCertificateAuthorities\":[]} x", &l), -EBADMSG);
}

static void test_security_keys(void **state)
{
        struct oslogin_key_list l = {};
        (void)state;
        assert_int_equal(sks("{\"loginProfiles\":[{\"name\":\"heidi@example.com\","
                             "\"sshPublicKeys\":{\"fp\":{\"key\":\"" PLAIN "\"}},"
                             "\"securityKeys\":[{\"publicKey\":\"" SK_ED "\",\"deviceNickname\":\"yk\"},"
                             "{\"publicKey\":\"" SK_EC "\",\"privateKey\":\"handle\"},"
                             "{\"publicKey\":\"" PLAIN "\"}]}]}",
                                 &l),
                0);
        assert_int_equal(l.n_keys, 2);
        assert_string_equal(l.keys[0], SK_ED);
        assert_string_equal(l.keys[1], SK_EC);
        /* A plain key in securityKeys is no security key. */
        assert_int_equal(l.n_rejected, 1);
        oslogin_key_list_done(&l);

        /* A profile without the member (no view=securityKey, or none enrolled). */
        assert_int_equal(sks("{\"loginProfiles\":[{\"name\":\"a@b\"}]}", &l), 0);
        assert_int_equal(l.n_keys, 0);
        assert_null(l.keys[0]);
        oslogin_key_list_done(&l);

        /* Only the first profile counts, as everywhere else. */
        assert_int_equal(
                sks("{\"loginProfiles\":[{},{\"securityKeys\":[{\"publicKey\":\"" SK_ED "\"}]}]}", &l), 0);
        assert_int_equal(l.n_keys, 0);
        oslogin_key_list_done(&l);

        assert_int_equal(sks("{\"loginProfiles\":[]}", &l), -EBADMSG);
        assert_int_equal(sks("{\"loginProfiles\":{}}", &l), -EBADMSG);
        assert_int_equal(sks("{}", &l), -EBADMSG);
        assert_int_equal(sks("{\"loginProfiles\":[7]}", &l), -EBADMSG);
        assert_int_equal(sks("{\"loginProfiles\":[{\"securityKeys\":{}}]}", &l), -EBADMSG);
        assert_true(ssh_key_type_is_security_key("sk-ssh-ed25519@openssh.com"));
        assert_true(ssh_key_type_is_security_key("sk-ecdsa-sha2-nistp256@openssh.com"));
        assert_false(ssh_key_type_is_security_key("ssh-ed25519"));
        assert_false(ssh_key_type_is_security_key("sk-ssh-ed25519-cert-v01@openssh.com"));
        assert_false(ssh_key_type_is_security_key(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_certificates),
                cmocka_unit_test(test_certificates_hostile),
                cmocka_unit_test(test_security_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
