/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's decisions (broker-decide.c) against a scripted metadata
 * server and a host root in a temporary directory: classification against
 * /etc/passwd, the profile checks, login/adminLogin, sudo by UID, the
 * shared facts. The two-factor flow is in test-broker-decide-two-factor.c. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/broker-decide.h"
#include "basic/local-db.h"
#include "tests/unit/broker-decide-fixture.h"

static enum broker_status keys(struct fixture *f, const char *user, const char *fp)
{
        broker_reply_done(&f->reply);
        f->q.kind = BROKER_KEYS;
        snprintf(f->q.user, sizeof(f->q.user), "%s", user);
        snprintf(f->q.fingerprint, sizeof(f->q.fingerprint), "%s", fp);
        assert_int_equal(broker_decide_keys(&f->ctx, &f->facts, &f->q, &f->reply), 0);
        return f->reply.status;
}

static void test_keys_granted_and_shared(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(keys(f, "alice", ""), BROKER_GRANTED);
        /* The expired key is not given. */
        assert_non_null(f->reply.lines);
        assert_string_equal(f->reply.lines[0], KEY);
        assert_null(f->reply.lines[1]);
        assert_int_equal(f->facts.requests, 2);
        assert_true(f->facts.profile_learned);
        assert_true(f->facts.policy_learned[BROKER_POLICY_LOGIN]);
        assert_int_equal(f->facts.policy[BROKER_POLICY_LOGIN], 1);
        /* With what is known, the second run asks nothing. */
        assert_int_equal(keys(f, "alice", KEY_FP), BROKER_GRANTED);
        assert_string_equal(f->reply.lines[0], KEY);
        assert_int_equal(f->script.profile_calls + f->script.authorize_calls, 2);
        assert_int_equal(keys(f, "alice", "SHA256:other"), BROKER_GRANTED);
        assert_null(f->reply.lines);
        assert_string_equal(f->reply.message, "no usable key with that fingerprint");
}

static void test_keys_host_names(void **state)
{
        struct fixture *f = *state;

        /* The host's names: never asked of the server, no keys. */
        assert_int_equal(keys(f, "deploy", ""), BROKER_NOT_OURS);
        assert_int_equal(keys(f, "root", ""), BROKER_NOT_OURS);
        assert_int_equal(keys(f, "-x", ""), BROKER_NOT_OURS);
        assert_int_equal(keys(f, "a:b", ""), BROKER_NOT_OURS);
        assert_null(f->reply.lines);
        assert_int_equal(f->script.profile_calls, 0);
        /* Without the host's accounts nothing can be decided. */
        f->ctx.local = NULL;
        assert_int_equal(keys(f, "alice", ""), BROKER_UNAVAILABLE);
        assert_int_equal(f->script.profile_calls, 0);
}

static void test_keys_profile_checks(void **state)
{
        struct fixture *f = *state;

        /* A profile whose UID is a local account's. */
        f->script.profile = profile_of("alice", "2000001500");
        assert_int_equal(keys(f, "alice", ""), BROKER_DENIED);
        assert_null(f->reply.lines);
        assert_int_equal(f->script.authorize_calls, 0);
        broker_facts_done(&f->facts);
        /* A profile of another user: a broken server, not a "no" (unavailable), and never shared. */
        f->script.profile = profile_of("mallory", "2000001002");
        assert_int_equal(keys(f, "alice", ""), BROKER_UNAVAILABLE);
        assert_false(f->facts.profile_learned);
        assert_null(f->facts.profile);
        /* Garbage. */
        f->script.profile = "{\"loginProfiles\": 7}";
        assert_int_equal(keys(f, "alice", ""), BROKER_UNAVAILABLE);
        assert_false(f->facts.profile_learned);
        f->script.profile = NULL;
        assert_int_equal(keys(f, "alice", ""), BROKER_UNKNOWN_USER);
        f->script.profile_error = -EHOSTUNREACH;
        assert_int_equal(keys(f, "alice", ""), BROKER_UNAVAILABLE);
        assert_false(f->facts.profile_learned);
}

static void test_keys_policy(void **state)
{
        struct fixture *f = *state;

        f->script.login = -ETIMEDOUT;
        assert_int_equal(keys(f, "alice", ""), BROKER_UNAVAILABLE);
        /* The failure is not a fact; the profile is. */
        assert_false(f->facts.policy_learned[BROKER_POLICY_LOGIN]);
        assert_int_equal(f->facts.policy[BROKER_POLICY_LOGIN], -1);
        assert_true(f->facts.profile_learned);
        f->script.login = 0;
        assert_int_equal(keys(f, "alice", ""), BROKER_DENIED);
        assert_null(f->reply.lines);
        assert_true(f->facts.policy_learned[BROKER_POLICY_LOGIN]);
        assert_int_equal(f->script.profile_calls, 1);
}

static void test_keys_security_keys(void **state)
{
        struct fixture *f = *state;

        f->ctx.security_keys = 1;
        /* Every key sshd may try: only the security key (the plain key listed
         * under securityKeys is not of an sk type and is dropped). */
        assert_int_equal(keys(f, "alice", ""), BROKER_GRANTED);
        assert_non_null(f->reply.lines);
        assert_string_equal(f->reply.lines[0], SK_KEY);
        assert_null(f->reply.lines[1]);
        assert_int_equal(f->script.sk_profile_calls, 1);
        assert_int_equal(f->script.bool_calls, 0); /* the watched document said so */
        /* A plain key's fingerprint: refused outright. */
        assert_int_equal(keys(f, "alice", KEY_FP), BROKER_DENIED);
        assert_null(f->reply.lines);
        assert_string_equal(f->reply.message, "security keys required: not one of the user's security keys");
        assert_int_equal(keys(f, "alice", SK_FP), BROKER_GRANTED);
        assert_string_equal(f->reply.lines[0], SK_KEY);
        assert_null(f->reply.lines[1]);
        /* The login policy still decides first. */
        broker_facts_done(&f->facts);
        f->script.login = 0;
        unsigned asked = f->script.sk_profile_calls;
        assert_int_equal(keys(f, "alice", SK_FP), BROKER_DENIED);
        assert_null(f->reply.lines);
        assert_int_equal(f->script.sk_profile_calls, asked);
        f->script.login = 1;
        broker_facts_done(&f->facts);
        /* A securityKey view of someone else, garbage, or no answer: unavailable. */
        f->script.sk_profile = sk_profile_of("mallory", "2000001002");
        assert_int_equal(keys(f, "alice", SK_FP), BROKER_UNAVAILABLE);
        assert_null(f->reply.lines);
        f->script.sk_profile = "{\"loginProfiles\":[{\"securityKeys\":7}]}";
        assert_int_equal(keys(f, "alice", SK_FP), BROKER_UNAVAILABLE);
        f->script.sk_profile = NULL;
        assert_int_equal(keys(f, "alice", SK_FP), BROKER_UNKNOWN_USER);
        /* Service accounts keep their plain keys (automation has no hardware key). */
        broker_facts_done(&f->facts);
        f->script.profile = profile_of("sa_robot", "2000001003");
        f->script.email = "sa_robot@example.com";
        asked = f->script.sk_profile_calls;
        assert_int_equal(keys(f, "sa_robot", KEY_FP), BROKER_GRANTED);
        assert_string_equal(f->reply.lines[0], KEY);
        assert_null(f->reply.lines[1]);
        assert_int_equal(f->script.sk_profile_calls, asked);
}

static void test_keys_security_keys_asked(void **state)
{
        struct fixture *f = *state;

        /* No document yet: the switch is asked of the server. */
        f->ctx.security_keys = -1;
        f->script.sk = 1;
        assert_int_equal(keys(f, "alice", KEY_FP), BROKER_DENIED);
        assert_int_equal(f->script.bool_calls, 1);
        f->script.sk = 0;
        assert_int_equal(keys(f, "alice", KEY_FP), BROKER_GRANTED);
        assert_string_equal(f->reply.lines[0], KEY);
        assert_int_equal(f->script.sk_profile_calls, 1);
        f->script.sk = -EHOSTUNREACH;
        assert_int_equal(keys(f, "alice", KEY_FP), BROKER_UNAVAILABLE);
        assert_null(f->reply.lines);
}

static enum broker_status principals(struct fixture *f, const char *user, const char *cert)
{
        broker_reply_done(&f->reply);
        f->q.kind = BROKER_PRINCIPALS;
        snprintf(f->q.user, sizeof(f->q.user), "%s", user);
        f->q.certificate = (char *)cert;
        assert_int_equal(broker_decide_principals(&f->ctx, &f->facts, &f->q, &f->reply), 0);
        f->q.certificate = NULL;
        return f->reply.status;
}

static void test_principals(void **state)
{
        struct fixture *f = *state;

        f->script.profile = profile_of("ivan_example_com", "2000001004");
        f->script.email = "ivan_example_com@example.com";
        assert_int_equal(principals(f, "ivan_example_com", CERT), BROKER_GRANTED);
        assert_non_null(f->reply.lines);
        assert_string_equal(f->reply.lines[0], "ivan_example_com");
        assert_null(f->reply.lines[1]);
        assert_string_equal(f->script.last_fingerprint, CERT_FP);
        assert_int_equal(f->script.cert_calls, 1);
        /* The directory does not vouch for it: no principal. */
        f->script.cert_login = 0;
        assert_int_equal(principals(f, "ivan_example_com", CERT), BROKER_DENIED);
        assert_null(f->reply.lines);
        f->script.cert_login = -ETIMEDOUT;
        assert_int_equal(principals(f, "ivan_example_com", CERT), BROKER_UNAVAILABLE);
        assert_null(f->reply.lines);
        /* Without the extension, or not a certificate: nothing is asked. */
        unsigned asked = f->script.cert_calls + f->script.profile_calls;
        assert_int_equal(principals(f, "ivan_example_com", CERT_NO_FP), BROKER_DENIED);
        assert_string_equal(f->reply.message, "the certificate has no fingerprint@google.com extension");
        assert_int_equal(
                principals(f, "ivan_example_com", "AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY"), BROKER_DENIED);
        assert_string_equal(f->reply.message, "not a valid user certificate");
        assert_int_equal(principals(f, "ivan_example_com", ""), BROKER_DENIED);
        assert_int_equal(f->script.cert_calls + f->script.profile_calls, asked);
        /* The host's names are the host's. */
        f->script.cert_login = 1;
        assert_int_equal(principals(f, "deploy", CERT), BROKER_NOT_OURS);
        assert_null(f->reply.lines);
        assert_int_equal(f->script.cert_calls + f->script.profile_calls, asked);
        /* A profile of someone else. */
        broker_facts_done(&f->facts);
        f->script.profile = profile_of("mallory", "2000001002");
        assert_int_equal(principals(f, "ivan_example_com", CERT), BROKER_UNAVAILABLE);
        assert_null(f->reply.lines);
}

static enum broker_status account_as(struct fixture *f, const char *user, uint32_t nss_uid)
{
        f->q.kind = BROKER_ACCOUNT;
        f->q.uid = nss_uid;
        snprintf(f->q.user, sizeof(f->q.user), "%s", user);
        assert_int_equal(broker_decide_account(&f->ctx, &f->facts, &f->q, &f->reply), 0);
        return f->reply.status;
}

/* As pam_oslogin asks: with the UID NSS gives (the profile's, here). */
static enum broker_status account(struct fixture *f, const char *user)
{
        return account_as(f, user, 2000001001);
}

static char *dropin(struct fixture *f)
{
        char path[160], *content = calloc(1, 512);
        FILE *p;
        snprintf(path, sizeof(path), "%s/var/lib/oslogin/sudoers.d/alice", f->root);
        if (!(p = fopen(path, "re"))) {
                free(content);
                return NULL;
        }
        assert_true(fread(content, 1, 511, p) > 0);
        fclose(p);
        return content;
}

/* A profile whose UID is not the one NSS gave the asker (a second profile
 * for the name, a changed UID): refused before sudo is touched. */
static void test_account_uid_mismatch(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(account_as(f, "alice", 2000009999), BROKER_DENIED);
        assert_non_null(strstr(f->reply.message, "2000009999"));
        assert_null(dropin(f));
        assert_int_equal(f->script.authorize_calls, 0);
        /* The positive case in the same fixture: the matching UID is granted. */
        broker_facts_done(&f->facts);
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
}

static void test_account(void **state)
{
        struct fixture *f = *state;
        char *d;

        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_int_equal(f->reply.account_flags, BROKER_ACCOUNT_ADMIN);
        assert_int_equal(f->facts.requests, 3);
        /* By UID: no name from the network in sudoers. */
        assert_non_null(d = dropin(f));
        assert_non_null(strstr(d, "\n#2000001001 ALL=(ALL) ALL\n"));
        assert_null(strstr(d, "alice"));
        free(d);
        /* A remembered "yes" is used while the drop-in agrees... */
        broker_facts_done(&f->facts);
        f->facts.policy[BROKER_POLICY_LOGIN] = f->facts.policy[BROKER_POLICY_ADMIN] = 1;
        f->script.admin = 0; /* would revoke if asked */
        unsigned asked = f->script.authorize_calls;
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_int_equal(f->reply.account_flags, BROKER_ACCOUNT_ADMIN);
        assert_int_equal(f->script.authorize_calls, asked);
        /* ...but not once the drop-in is gone (the re-check revoked it): asked again. */
        char path[160];
        snprintf(path, sizeof(path), "%s/var/lib/oslogin/sudoers.d/alice", f->root);
        assert_int_equal(unlink(path), 0);
        broker_facts_done(&f->facts);
        f->facts.policy[BROKER_POLICY_LOGIN] = f->facts.policy[BROKER_POLICY_ADMIN] = 1;
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_int_equal(f->reply.account_flags, 0);
        assert_int_equal(f->script.authorize_calls, asked + 1);
        assert_null(dropin(f));
        /* A remembered "no" with a drop-in present: asked again too. */
        f->script.admin = 1;
        broker_facts_done(&f->facts);
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_non_null(d = dropin(f));
        free(d);
        broker_facts_done(&f->facts);
        f->facts.policy[BROKER_POLICY_LOGIN] = 1;
        f->facts.policy[BROKER_POLICY_ADMIN] = 0;
        asked = f->script.authorize_calls;
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_int_equal(f->script.authorize_calls, asked + 1);
        assert_int_equal(f->reply.account_flags, BROKER_ACCOUNT_ADMIN);
        /* adminLogin cannot be asked: the grant stays as it is. */
        broker_facts_done(&f->facts);
        f->script.admin = -ETIMEDOUT;
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_int_equal(f->reply.account_flags, 0);
        assert_non_null(d = dropin(f));
        free(d);
        /* Withdrawn: revoked. */
        broker_facts_done(&f->facts);
        f->script.admin = 0;
        assert_int_equal(account(f, "alice"), BROKER_GRANTED);
        assert_int_equal(f->reply.account_flags, 0);
        assert_null(dropin(f));
        /* No login policy: denied, adminLogin not even asked. */
        broker_facts_done(&f->facts);
        f->script.login = 0;
        unsigned before = f->script.authorize_calls;
        assert_int_equal(account(f, "alice"), BROKER_DENIED);
        assert_int_equal(f->script.authorize_calls, before + 1);
        assert_int_equal(account(f, "deploy"), BROKER_NOT_OURS);
        f->script.profile = profile_of("alice", "2000001500");
        broker_facts_done(&f->facts);
        f->script.login = 1;
        assert_int_equal(account(f, "alice"), BROKER_DENIED);
        assert_null(dropin(f));
        f->script.profile_error = -ECONNREFUSED;
        broker_facts_done(&f->facts);
        assert_int_equal(account(f, "alice"), BROKER_UNAVAILABLE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_keys_granted_and_shared, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_host_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_profile_checks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_security_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_security_keys_asked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_principals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_account, setup, teardown),
                cmocka_unit_test_setup_teardown(test_account_uid_mismatch, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
