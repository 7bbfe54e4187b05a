/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "mds/models.h"
#include "mds/ssh-keys.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY+cssukTyN7nEORReToMY3FEli0UG3FUobp7k"
#define NOW_USEC (1790000000ull * 1000000u) /* 2026-09-21 */

static void expect_ok(const char *line, const char *user, const char *keyline, uint64_t expire)
{
        struct ssh_key_line k = {};
        const char *reason = NULL;
        assert_int_equal(ssh_key_line_parse(line, &k, &reason), 0);
        assert_string_equal(k.user, user);
        assert_string_equal(k.keyline, keyline);
        assert_true(k.expire_usec == expire);
        ssh_key_line_done(&k);
}

static void expect_rejected(const char *line)
{
        struct ssh_key_line k = {};
        const char *reason = NULL;
        assert_int_equal(ssh_key_line_parse(line, &k, &reason), -EBADMSG);
        assert_non_null(reason);
        assert_null(k.user);
}

static void test_valid_lines(void **state)
{
        (void)state;
        expect_ok("alice:" KEY " alice@laptop", "alice", KEY " alice@laptop", 0);
        expect_ok("  alice:" KEY "\r", "alice", KEY, 0);
        expect_ok("alice:from=\"10.0.0.0/8\",no-pty " KEY " c", "alice",
                "from=\"10.0.0.0/8\",no-pty " KEY " c", 0);
        expect_ok("alice:command=\"echo a b\" " KEY, "alice", "command=\"echo a b\" " KEY, 0);
        expect_ok("bob:" KEY
                  " google-ssh {\"userName\":\"bob@example.com\",\"expireOn\":\"2026-12-01T10:00:00+0000\"}",
                "bob",
                KEY
                " google-ssh {\"userName\":\"bob@example.com\",\"expireOn\":\"2026-12-01T10:00:00+0000\"}",
                1796119200ull * 1000000u);
}

static void test_rejected_lines(void **state)
{
        struct ssh_key_line k = {};
        const char *reason;
        (void)state;
        assert_int_equal(ssh_key_line_parse("   ", &k, &reason), -ENODATA);
        expect_rejected(":" KEY);
        expect_rejected("alice:");
        expect_rejected("alice " KEY);
        expect_rejected("al:ice:" KEY);
        expect_rejected("-rf:" KEY);
        expect_rejected("../etc:" KEY);
        expect_rejected("abcdefghijabcdefghijabcdefghij123:" KEY);
        expect_rejected("alice:ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAI");
        expect_rejected("alice:ssh-ed25519 not*base64");
        expect_rejected("alice:ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB"); /* blob says ssh-rsa */
        expect_rejected("alice:ssh-ed25519 AAAA");
        expect_rejected("alice:" KEY " google-ssh {\"userName\":\"a@b\"}");
        expect_rejected("alice:" KEY " google-ssh {\"expireOn\":\"tomorrow\"}");
        expect_rejected("alice:" KEY " google-ssh not-json");
        expect_rejected("alice:" KEY " google-ssh {\"expireOn\":\"2026-02-31T00:00:00Z\"}");
        expect_rejected("alice:from=\"unterminated " KEY);
        expect_rejected("alice:" KEY "\x01");
}

static void test_expire_on(void **state)
{
        uint64_t t;
        (void)state;
        assert_int_equal(parse_expire_on("2026-12-01T10:00:00Z", &t), 0);
        assert_true(t == 1796119200ull * 1000000u);
        assert_int_equal(parse_expire_on("2026-12-01T10:00:00.123456Z", &t), 0);
        assert_true(t == 1796119200ull * 1000000u);
        assert_int_equal(parse_expire_on("2026-12-01T12:00:00+02:00", &t), 0);
        assert_true(t == 1796119200ull * 1000000u);
        assert_int_equal(parse_expire_on("2026-12-01T03:00:00-0700", &t), 0);
        assert_true(t == 1796119200ull * 1000000u);
        assert_int_equal(parse_expire_on("2026-12-01 10:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_expire_on("2026-12-01T10:00:00", &t), -EINVAL);
        assert_int_equal(parse_expire_on("2026-13-01T10:00:00Z", &t), -EINVAL);
        assert_int_equal(parse_expire_on("2026-12-01T10:00:00+2500", &t), -EINVAL);
        assert_int_equal(parse_expire_on("2026-12-01T10:00:00Zjunk", &t), -EINVAL);
        assert_int_equal(parse_expire_on("", &t), -EINVAL);
        assert_int_equal(parse_expire_on(NULL, &t), -EINVAL);
}

static const char document[] =
        "{\"instance\":{\"id\":4567890123456789123,\"attributes\":{"
        "\"ssh-keys\":\"alice:" KEY " a\\nbob:" KEY
        " google-ssh {\\\"expireOn\\\":\\\"2020-01-01T00:00:00Z\\\"}\\nroot:bad\\n\","
        "\"block-project-ssh-keys\":\"%s\",\"sshKeys\":\"%s\"}},"
        "\"project\":{\"numericProjectId\":123456789012,\"attributes\":{\"ssh-keys\":\"carol:" KEY
        "\",\"enable-oslogin\":\"TRUE\"}}}";

static void test_rejection_hint(void **state)
{
        struct ssh_key_set s = {};
        (void)state;
        /* Empty lines count (an editor's numbering); bytes that could forge a
         * log line are masked; a key is cut after 8 bytes. */
        assert_int_equal(ssh_keys_parse_text("\nal\"ice:" KEY "\nbob:ssh-rsa AAAA\x01xyz\n"
                                             "carol:ssh-fake\"x AAAAB3NzaC1yc2EAAAA secret-comment\n",
                                 NOW_USEC, &s),
                0);
        assert_int_equal(s.n_rejected, 3);
        assert_null(s.rejected[0].user);
        assert_int_equal(s.rejected[0].line, 2);
        assert_string_equal(s.rejected[0].hint, "ssh-ed25519 AAAAC3Nz\u2026");
        assert_string_equal(s.rejected[1].user, "bob");
        assert_int_equal(s.rejected[1].line, 3);
        assert_string_equal(s.rejected[1].hint, "ssh-rsa AAAA?xyz");
        assert_int_equal(s.rejected[2].line, 4);
        assert_string_equal(s.rejected[2].hint, "ssh-fake?x AAAAB3Nz\u2026");
        assert_null(s.rejected[2].source);
        ssh_key_set_done(&s);
}

static void effective(const char *block, const char *legacy, struct ssh_key_set *ret)
{
        char json[4096];
        struct metadata_document *d = NULL;
        snprintf(json, sizeof(json), document, block, legacy);
        assert_int_equal(metadata_document_parse(json, strlen(json), &d), 0);
        assert_string_equal(metadata_instance_id(d), "4567890123456789123");
        assert_string_equal(metadata_project_id(d), "123456789012");
        assert_int_equal(ssh_keys_effective(d, NOW_USEC, ret), 0);
        metadata_document_free(d);
}

static void test_effective(void **state)
{
        struct ssh_key_set s = {};
        (void)state;
        effective("FALSE", "", &s);
        assert_int_equal(s.n_keys, 2); /* alice + carol; bob expired; root:bad rejected */
        assert_string_equal(s.keys[0].user, "alice");
        assert_string_equal(s.keys[1].user, "carol");
        assert_int_equal(s.n_expired, 1);
        assert_int_equal(s.n_rejected, 1);
        assert_string_equal(s.rejected[0].user, "root");
        /* Named by place and key start, for the log: never the whole line. */
        assert_string_equal(s.rejected[0].source, "instance ssh-keys");
        assert_int_equal(s.rejected[0].line, 3);
        assert_string_equal(s.rejected[0].hint, "bad");
        assert_string_equal(s.expired[0].user, "bob");
        assert_string_equal(s.expired[0].source, "instance ssh-keys");
        assert_int_equal(s.expired[0].line, 2);
        assert_string_equal(s.expired[0].hint, "ssh-ed25519 AAAAC3Nz\u2026");
        assert_string_equal(s.expired[0].reason, "expired (google-ssh expireOn)");
        ssh_key_set_done(&s);

        effective("true", "", &s);
        assert_int_equal(s.n_keys, 1);
        ssh_key_set_done(&s);

        effective("maybe", "", &s); /* unparsable: unset, project keys count */
        assert_int_equal(s.n_keys, 2);
        ssh_key_set_done(&s);

        effective("FALSE", "dave:" KEY, &s); /* instance sshKeys blocks project keys */
        assert_int_equal(s.n_keys, 2);
        assert_string_equal(s.keys[1].user, "dave");
        ssh_key_set_done(&s);
}

static void test_booleans(void **state)
{
        static const char json[] =
                "{\"instance\":{\"attributes\":{\"a\":\"TRUE\",\"b\":\"x\",\"c\":\"False\"}},"
                "\"project\":{\"attributes\":{\"a\":\"false\",\"b\":\"1\",\"c\":\"t\",\"d\":\"T\"}}}";
        struct metadata_document *d = NULL;
        (void)state;
        assert_int_equal(metadata_document_parse(json, strlen(json), &d), 0);
        assert_true(metadata_bool(d, "a", false));
        assert_true(metadata_bool(d, "b", false));
        assert_false(metadata_bool(d, "c", true));
        assert_true(metadata_bool(d, "d", false));
        assert_false(metadata_bool(d, "e", false));
        assert_true(metadata_bool(d, "e", true));
        assert_null(metadata_instance_id(d));
        metadata_document_free(d);
        assert_int_equal(metadata_document_parse("[]", 2, &d), -EBADMSG);
        assert_int_equal(metadata_document_parse("{\"instance\":{}}", 15, &d), -EBADMSG);
}

static void test_fingerprint(void **state)
{
        char *fp = NULL;
        (void)state;
        assert_int_equal(ssh_key_fingerprint(KEY " comment", &fp), 0);
        assert_string_equal(fp, "SHA256:kjhJ+iomoV3CbRqFGJ49vYDrvF0wok/Cp06b9aZEpF0");
        free(fp);
        assert_int_equal(ssh_key_fingerprint("no-pty,from=\"a b\" " KEY, &fp), 0);
        free(fp);
        assert_int_equal(ssh_key_fingerprint("garbage", &fp), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_lines),
                cmocka_unit_test(test_rejected_lines),
                cmocka_unit_test(test_expire_on),
                cmocka_unit_test(test_effective),
                cmocka_unit_test(test_rejection_hint),
                cmocka_unit_test(test_booleans),
                cmocka_unit_test(test_fingerprint),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
