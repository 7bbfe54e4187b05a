/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's decisions against a scripted metadata server and a host
 * root in a temporary directory: classification against /etc/passwd, the
 * profile checks, login/adminLogin, sudo by UID, the shared facts, and the
 * two-factor flow. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/broker-decide.h"
#include "basic/local-db.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY+cssukTyN7nEORReToMY3FEli0UG3FUobp7k alice@laptop"
#define KEY_FP "SHA256:kjhJ+iomoV3CbRqFGJ49vYDrvF0wok/Cp06b9aZEpF0"

static const char *profile_of(const char *user, const char *uid)
{
        static char buf[1024];
        snprintf(buf, sizeof(buf),
                 "{\"loginProfiles\":[{\"name\":\"%s@example.com\",\"posixAccounts\":[{\"primary\":true,"
                 "\"username\":\"%s\",\"uid\":\"%s\",\"gid\":\"%s\",\"operatingSystemType\":\"LINUX\"}],"
                 "\"sshPublicKeys\":{\"fp\":{\"key\":\"" KEY "\"},"
                 "\"old\":{\"key\":\"" KEY "\",\"expirationTimeUsec\":\"1000\"}}}]}",
                 user, user, uid, uid);
        return buf;
}

struct script {
        const char *profile; /* NULL: 404 */
        int profile_error;   /* instead of an answer */
        int login, admin;    /* 1/0 or -errno */
        int twofa;
        const char *start_answer, *continue_answer;
        unsigned profile_calls, authorize_calls, bool_calls, post_calls;
        char last_body[512], last_path[256];
};

static int s_profile(void *u, const char *user, char **ret, size_t *size)
{
        struct script *s = u;
        (void)user;
        s->profile_calls++;
        if (s->profile_error)
                return s->profile_error;
        if (!s->profile)
                return -ENOENT;
        *ret = strdup(s->profile);
        *size = strlen(s->profile);
        return 0;
}

static int s_authorize(void *u, const char *email, const char *policy)
{
        struct script *s = u;
        assert_string_equal(email, "alice@example.com");
        s->authorize_calls++;
        return streq(policy, "login") ? s->login : s->admin;
}

static int s_bool(void *u, const char *key, bool def)
{
        struct script *s = u;
        (void)def;
        assert_string_equal(key, "enable-oslogin-2fa");
        s->bool_calls++;
        return s->twofa;
}

static int s_post(void *u, const char *path, const char *json, char **ret, size_t *size)
{
        struct script *s = u;
        const char *answer = strstr(path, "/start") ? s->start_answer : s->continue_answer;
        s->post_calls++;
        snprintf(s->last_body, sizeof(s->last_body), "%s", json);
        snprintf(s->last_path, sizeof(s->last_path), "%s", path);
        if (!answer)
                return -ENOENT;
        *ret = strdup(answer);
        *size = strlen(answer);
        return 0;
}

struct fixture {
        char root[64];
        struct local_db *db;
        struct script script;
        struct broker_source source;
        struct broker_context ctx;
        struct broker_facts facts;
        struct broker_request q;
        struct broker_reply reply;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char path[128];
        FILE *p;

        snprintf(f->root, sizeof(f->root), "/tmp/test-broker-decide.XXXXXX");
        assert_non_null(mkdtemp(f->root));
        snprintf(path, sizeof(path), "%s/etc", f->root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/etc/passwd", f->root);
        assert_non_null(p = fopen(path, "w"));
        fputs("root:x:0:0:root:/root:/bin/bash\n"
              "deploy:x:1000:1000::/home/deploy:/bin/sh\n"
              "localid:x:2000001500:2000001500::/home/localid:/bin/sh\n", p);
        fclose(p);
        assert_int_equal(local_db_load(f->root, &f->db), 0);
        f->script = (struct script){.profile = profile_of("alice", "2000001001"), .login = 1, .admin = 1};
        f->source = (struct broker_source){.get_profile = s_profile, .authorize = s_authorize,
                                           .metadata_bool = s_bool, .post = s_post, .userdata = &f->script};
        f->ctx = (struct broker_context){.root = f->root, .visudo = "/bin/true", .sudo_rule = "ALL=(ALL) ALL",
                                         .uid_floor = 1000, .local = f->db, .source = &f->source};
        broker_facts_init(&f->facts);
        f->q = (struct broker_request){.kind = BROKER_KEYS, .user = "alice"};
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];
        broker_facts_done(&f->facts);
        broker_reply_done(&f->reply);
        local_db_free(f->db);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

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

#define START_CHALLENGE                                                                                       \
        "{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"mds-session-1\",\"challenges\":["                  \
        "{\"challengeId\":1,\"challengeType\":\"TOTP\",\"status\":\"READY\"},"                                 \
        "{\"challengeId\":2,\"challengeType\":\"SECURITY_KEY\",\"status\":\"READY\"}]}"

static void test_two_factor(void **state)
{
        struct fixture *f = *state;
        char *email = NULL, *session = NULL, *next = NULL;

        f->q = (struct broker_request){.kind = BROKER_AUTH_START, .user = "alice"};
        f->script.twofa = 0;
        assert_int_equal(broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_NO_FACTOR);
        assert_int_equal(f->script.post_calls, 0);
        f->script.twofa = -EHOSTUNREACH;
        assert_int_equal(broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_UNAVAILABLE);
        f->script.twofa = 1;
        f->script.start_answer = START_CHALLENGE;
        assert_int_equal(broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_CHALLENGE);
        /* Only the types a terminal can drive. */
        assert_int_equal(f->reply.n_challenges, 1);
        assert_string_equal(f->reply.challenges[0].type, "TOTP");
        assert_string_equal(email, "alice@example.com");
        assert_string_equal(session, "mds-session-1");
        /* The server's session id is for the daemon only. */
        assert_string_equal(f->reply.session, "");

        struct broker_request c = {.kind = BROKER_AUTH_CONTINUE, .user = "alice", .challenge_id = 1,
                                   .action = BROKER_AUTH_RESPOND, .credential = "12\n34"};
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        assert_int_equal(f->script.post_calls, 1); /* a code with a newline is never sent */
        snprintf(c.credential, sizeof(c.credential), "123456");
        f->script.continue_answer = "{\"status\":\"AUTHENTICATED\"}";
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_GRANTED);
        assert_null(next);
        assert_string_equal(f->script.last_path, "oslogin/authenticate/sessions/mds-session-1/continue");
        assert_non_null(strstr(f->script.last_body, "\"credential\":\"123456\""));
        assert_non_null(strstr(f->script.last_body, "\"action\":\"RESPOND\""));
        f->script.continue_answer = "{\"status\":\"FAILED\"}";
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        /* START_ALTERNATE: no code sent, the session goes on. */
        c.action = BROKER_AUTH_START_ALTERNATE;
        f->script.continue_answer = START_CHALLENGE;
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_CHALLENGE);
        assert_string_equal(next, "mds-session-1");
        assert_non_null(strstr(f->script.last_body, "\"action\":\"START_ALTERNATE\""));
        assert_null(strstr(f->script.last_body, "credential"));
        c.challenge_id = 0;
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        free(email);
        free(session);
        free(next);
        /* A local name never reaches the two-factor flow. */
        snprintf(f->q.user, sizeof(f->q.user), "deploy");
        assert_int_equal(broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_NOT_OURS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_keys_granted_and_shared, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_host_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_profile_checks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_account, setup, teardown),
                cmocka_unit_test_setup_teardown(test_account_uid_mismatch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_factor, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
