/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accountsd/audit.h"

#define T0 (1790000000ull * 1000000u)

/* The ring as parsed JSON objects, oldest first. */
static size_t dump(struct audit_log *a, json_object **ret, size_t max)
{
        char *text = NULL, *save = NULL;
        size_t size = 0, n = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        assert_int_equal(audit_log_dump(a, f), 0);
        fclose(f);
        for (char *line = strtok_r(text, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
                ret[n] = json_tokener_parse(line);
                assert_non_null(ret[n]);
                n++;
        }
        free(text);
        return n;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static void note(struct audit_log *a, enum broker_kind kind, enum broker_status status, const char *user,
        uint32_t pid, uint64_t t, const char *message)
{
        struct audit_note n = {
                .kind = kind,
                .status = status,
                .user = user,
                .email = "alice@example.com",
                .fingerprint = kind == BROKER_KEYS ? "SHA256:abc" : NULL,
                .remote = kind == BROKER_ACCOUNT ? "192.0.2.7" : NULL,
                .message = message,
                .sshd_pid = pid,
                .n_keys = status == BROKER_GRANTED && !strstr(message, "no usable") ? 1 : 0,
                .admin = true,
                .sudo = 1,
                .now_usec = t,
                .latency_usec = 100,
        };
        audit_log_note(a, &n);
}

static void put_all(json_object **o, size_t n)
{
        for (size_t i = 0; i < n; i++)
                json_object_put(o[i]);
}

/* KEYS (the helper, joined by its parent: the sshd session) and ACCOUNT
 * (PAM in that session) make one record, written to the file; a login in
 * another session of the same user is another record. */
static void test_join_by_sshd_pid(void **state)
{
        char dir[] = "/tmp/test-audit-XXXXXX", path[64], *line = NULL;
        struct audit_log *a = NULL;
        json_object *o[4];
        size_t cap = 0;
        (void)state;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(audit_log_new(dir, &a), 0);
        note(a, BROKER_KEYS, BROKER_GRANTED, "alice", 100, T0, "login granted");
        note(a, BROKER_KEYS, BROKER_DENIED, "alice", 200, T0 + 1000, "the login policy is not granted");
        note(a, BROKER_ACCOUNT, BROKER_GRANTED, "alice", 100, T0 + 5000,
                "login granted, sudo by adminLogin");
        assert_int_equal(dump(a, o, 4), 2);
        assert_string_equal(str(o[0], "user"), "alice");
        assert_string_equal(str(o[0], "key"), "granted");
        assert_string_equal(str(o[0], "login"), "granted");
        assert_string_equal(str(o[0], "fingerprint"), "SHA256:abc");
        assert_string_equal(str(o[0], "remote"), "192.0.2.7");
        assert_string_equal(str(o[0], "sudo"), "granted");
        assert_string_equal(str(o[0], "admin"), "true");
        assert_string_equal(str(o[0], "refused"), "false");
        assert_string_equal(str(o[0], "duration_usec"), "5000");
        assert_string_equal(str(o[0], "latency_usec"), "200");
        assert_string_equal(str(o[0], "open"), "false");
        assert_string_equal(str(o[1], "key"), "denied");
        assert_null(str(o[1], "login"));
        assert_string_equal(str(o[1], "open"), "true");
        put_all(o, 2);

        /* Closed records only in the file, one JSON line each. */
        snprintf(path, sizeof(path), "%s/" AUDIT_FILE_NAME, dir);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        assert_true(getline(&line, &cap, f) > 0);
        assert_non_null(strstr(line, "\"login\":\"granted\""));
        assert_true(getline(&line, &cap, f) < 0);
        fclose(f);

        /* The refused key with no account question closes after the join window. */
        audit_log_expire(a, T0 + AUDIT_JOIN_USEC + 2000);
        assert_int_equal(dump(a, o, 4), 2);
        assert_string_equal(str(o[1], "open"), "false");
        assert_string_equal(str(o[1], "refused"), "true");
        assert_string_equal(str(o[1], "refused_by"), "key");
        assert_string_equal(str(o[1], "reason"), "the login policy is not granted");
        put_all(o, 2);
        audit_log_free(a);
        free(line);
        unlink(path);
        rmdir(dir);
}

/* Keyboard-interactive PAM runs in a child of the sshd session: its
 * questions join the key's record through the parent. */
static void test_join_by_parent(void **state)
{
        struct audit_log *a = NULL;
        json_object *o[4];
        (void)state;

        assert_int_equal(audit_log_new(NULL, &a), 0);
        note(a, BROKER_KEYS, BROKER_GRANTED, "bob", 500, T0, "login granted");
        struct audit_note n = {.kind = BROKER_AUTH_START,
                .status = BROKER_CHALLENGE,
                .user = "bob",
                .sshd_pid = 504,
                .parent_pid = 500,
                .two_factor = "TOTP",
                .now_usec = T0 + 10};
        audit_log_note(a, &n);
        n = (struct audit_note){.kind = BROKER_AUTH_CONTINUE,
                .status = BROKER_GRANTED,
                .user = "bob",
                .sshd_pid = 504,
                .parent_pid = 500,
                .now_usec = T0 + 20};
        audit_log_note(a, &n);
        n = (struct audit_note){.kind = BROKER_ACCOUNT,
                .status = BROKER_GRANTED,
                .user = "bob",
                .sshd_pid = 504,
                .parent_pid = 500,
                .now_usec = T0 + 30,
                .sudo = 0};
        audit_log_note(a, &n);
        assert_int_equal(dump(a, o, 4), 1);
        assert_string_equal(str(o[0], "key"), "granted");
        assert_string_equal(str(o[0], "two_factor"), "TOTP");
        assert_string_equal(str(o[0], "two_factor_result"), "granted");
        assert_string_equal(str(o[0], "login"), "granted");
        assert_string_equal(str(o[0], "refused"), "false");
        put_all(o, 1);
        audit_log_free(a);
}

/* A key refused before another is granted does not refuse the login; an
 * account refusal does, with its reason; local accounts leave no record. */
static void test_verdicts(void **state)
{
        struct audit_log *a = NULL;
        json_object *o[4];
        (void)state;

        assert_int_equal(audit_log_new(NULL, &a), 0);
        note(a, BROKER_KEYS, BROKER_GRANTED, "bob", 0, T0, "no usable key with that fingerprint");
        struct audit_note n = {.kind = BROKER_KEYS,
                .status = BROKER_GRANTED,
                .user = "bob",
                .n_keys = 1,
                .fingerprint = "SHA256:good",
                .now_usec = T0 + 10};
        audit_log_note(a, &n);
        note(a, BROKER_KEYS, BROKER_GRANTED, "bob", 0, T0 + 20, "no usable key with that fingerprint");
        note(a, BROKER_ACCOUNT, BROKER_DENIED, "bob", 0, T0 + 30, "the login policy is not granted");
        note(a, BROKER_KEYS, BROKER_NOT_OURS, "root", 0, T0 + 40, "root is never an OS Login user");
        assert_int_equal(dump(a, o, 4), 1);
        assert_string_equal(str(o[0], "fingerprint"), "SHA256:good");
        assert_string_equal(str(o[0], "key"), "granted");
        assert_string_equal(str(o[0], "login"), "denied");
        assert_string_equal(str(o[0], "refused"), "true");
        assert_string_equal(str(o[0], "refused_by"), "account");
        assert_string_equal(str(o[0], "reason"), "the login policy is not granted");
        assert_null(str(o[0], "admin"));
        put_all(o, 1);
        audit_log_free(a);
}

/* The ring is bounded: the oldest record goes (after being written). */
static void test_ring_bounded(void **state)
{
        struct audit_log *a = NULL;
        json_object *o[AUDIT_RING_SIZE + 1];
        char user[16];
        (void)state;

        assert_int_equal(audit_log_new(NULL, &a), 0);
        for (unsigned i = 0; i < AUDIT_RING_SIZE + 5; i++) {
                snprintf(user, sizeof(user), "u%u", i);
                note(a, BROKER_ACCOUNT, BROKER_GRANTED, user, i + 1, T0 + i, "login granted");
        }
        assert_int_equal(dump(a, o, AUDIT_RING_SIZE + 1), AUDIT_RING_SIZE);
        assert_string_equal(str(o[0], "user"), "u5");
        put_all(o, AUDIT_RING_SIZE);
        audit_log_free(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_join_by_sshd_pid),
                cmocka_unit_test(test_join_by_parent),
                cmocka_unit_test(test_verdicts),
                cmocka_unit_test(test_ring_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
