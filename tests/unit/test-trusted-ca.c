/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostconf/trusted-ca.h"
#include "basic/atomic-file.h"

#define CA "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILAoyVy7DbwEJFiRByM4YeThNpn+UIf6QHfs+9J2o6Jq oslogin-test-ca"
#define OTHER                                                                                               \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN5SGxlAEv2z74RgXjKhH+lXFHitidS+UvAXthAntpxd heidi@policies"

static int update(int dir, const char *json, bool *changed)
{
        return trusted_ca_update(dir, "ca.pub", json, strlen(json), changed);
}

static char *content(int dir)
{
        char *s = NULL;
        assert_int_equal(read_file_bounded(dir, "ca.pub", 1 << 20, &s, NULL), 0);
        return s;
}

static void test_update(void **state)
{
        char tmpl[] = "/tmp/test-trusted-ca.XXXXXX";
        struct stat st;
        bool changed = false;
        char *s;
        (void)state;
        assert_non_null(mkdtemp(tmpl));
        int dir = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dir >= 0);

        assert_int_equal(update(dir,
                                 "{\"trustedCertificateAuthorities\":[{\"publicKey\":\"" CA "\"},"
                                 "{\"publicKey\":\"" OTHER "\"},{\"publicKey\":\"junk\"}]}",
                                 &changed),
                2);
        assert_true(changed);
        s = content(dir);
        assert_string_equal(s, CA "\n" OTHER "\n");
        free(s);
        assert_int_equal(fstatat(dir, "ca.pub", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        ino_t ino = st.st_ino;

        /* The same answer: nothing written (sshd reads it at every certificate). */
        assert_int_equal(update(dir,
                                 "{\"trustedCertificateAuthorities\":[{\"publicKey\":\"" CA "\"},"
                                 "{\"publicKey\":\"" OTHER "\"}]}",
                                 &changed),
                2);
        assert_false(changed);
        assert_int_equal(fstatat(dir, "ca.pub", &st, 0), 0);
        assert_int_equal(st.st_ino, ino);

        /* A malformed answer, an error page: the file stays. */
        assert_int_equal(update(dir, "<html>500</html>", &changed), -EBADMSG);
        assert_int_equal(update(dir, "{\"trustedCertificateAuthorities\":{}}", &changed), -EBADMSG);
        s = content(dir);
        assert_string_equal(s, CA "\n" OTHER "\n");
        free(s);

        /* A CA removed, then none: the file follows, down to empty. */
        assert_int_equal(
                update(dir, "{\"trustedCertificateAuthorities\":[{\"publicKey\":\"" OTHER "\"}]}", &changed),
                1);
        assert_true(changed);
        s = content(dir);
        assert_string_equal(s, OTHER "\n");
        free(s);
        assert_int_equal(update(dir, "{}", &changed), 0);
        assert_true(changed);
        s = content(dir);
        assert_string_equal(s, "");
        free(s);

        /* Replaced, never written through: a symlink planted there is replaced, its target untouched. */
        assert_int_equal(unlinkat(dir, "ca.pub", 0), 0);
        assert_int_equal(symlinkat("/etc/passwd", dir, "ca.pub"), 0);
        assert_int_equal(
                update(dir, "{\"trustedCertificateAuthorities\":[{\"publicKey\":\"" CA "\"}]}", &changed),
                1);
        assert_int_equal(fstatat(dir, "ca.pub", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));

        assert_int_equal(unlinkat(dir, "ca.pub", 0), 0);
        close(dir);
        assert_int_equal(rmdir(tmpl), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_update),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
