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
#define SK_KEY                                                                                                \
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIN5SGxlAEv2z74RgXjKhH+lXFHitidS+" \
        "UvAXthAntpxdAAAABHNzaDo= heidi@yubikey"
#define SK_FP "SHA256:+SxpHFwCYAXcg58tIQhpuWE1AT6Vv6weQSAbU6Lh/io"
/* tests/tools/oslogin-make-cert sign policy-ca.pem ivan.pub -n ivan_example_com
 * -f b86db4ca-09fd-429e-b121-a12799614032 -V 0:4102444800 (and without -f) */
#define CERT "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIDj/HJCRsVOEQLzjV6G6Z5i3mUkr24F4AjmGsFAC7HH/AAAAIHgCyor8fJp9dTdlhtPCjEU7UHPzKsnPknYqEzo2KA+xAAAAAAAAAAEAAAABAAAADG9zbG9naW4tdGVzdAAAABQAAAAQaXZhbl9leGFtcGxlX2NvbQAAAAAAAAAAAAAAAPSGVwAAAAAAAAAAxQAAADtmaW5nZXJwcmludEBnb29nbGUuY29tPWI4NmRiNGNhLTA5ZmQtNDI5ZS1iMTIxLWExMjc5OTYxNDAzMgAAAAAAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgsCjJXLsNvAQkWJEHIzhh5OE2mf5Qh/pAd+z70najomoAAABTAAAAC3NzaC1lZDI1NTE5AAAAQONYohFkorSnaGJIIHMfCiApOyubMlsaOlaqiTws1HdlHPFQoEYGh7WEE2euzqzVLNUUbDCHPfymFTOibOEwJQ4="
#define CERT_NO_FP "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAILYp272uHzcR9R8sKQCydtGkPU6/CPJmGfTo93LhjH07AAAAIHgCyor8fJp9dTdlhtPCjEU7UHPzKsnPknYqEzo2KA+xAAAAAAAAAAEAAAABAAAADG9zbG9naW4tdGVzdAAAABQAAAAQaXZhbl9leGFtcGxlX2NvbQAAAAAAAAAAAAAAAPSGVwAAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCwKMlcuw28BCRYkQcjOGHk4TaZ/lCH+kB37PvSdqOiagAAAFMAAAALc3NoLWVkMjU1MTkAAABAwtnoQXL8IijWsH0/A90gvaAZOjeRrgf70Is8oNX6udspTD/195/UHd4aFpGrRGf54Wf05L8a3R+q2SFE1C8hDQ=="
#define CERT_FP "b86db4ca-09fd-429e-b121-a12799614032"

/* The profile of USER with view=securityKey: the plain key and SK_KEY. */
static const char *sk_profile_of(const char *user, const char *uid)
{
        static char buf[1536];
        snprintf(buf, sizeof(buf),
                 "{\"loginProfiles\":[{\"name\":\"%s@example.com\",\"posixAccounts\":[{\"primary\":true,"
                 "\"username\":\"%s\",\"uid\":\"%s\",\"gid\":\"%s\",\"operatingSystemType\":\"LINUX\"}],"
                 "\"sshPublicKeys\":{\"fp\":{\"key\":\"" KEY "\"}},"
                 "\"securityKeys\":[{\"publicKey\":\"" SK_KEY "\",\"deviceNickname\":\"yubikey\"},"
                 "{\"publicKey\":\"" KEY "\"}]}]}",
                 user, user, uid, uid);
        return buf;
}

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
        int twofa, sk;
        const char *email;      /* the e-mail authorize must be asked for */
        const char *sk_profile; /* view=securityKey; NULL: 404 */
        int cert_login;         /* authorize with a fingerprint: 1/0/-errno */
        char last_fingerprint[300];
        unsigned sk_profile_calls, cert_calls;
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
        assert_string_equal(email, s->email);
        s->authorize_calls++;
        return streq(policy, "login") ? s->login : s->admin;
}

static int s_sk_profile(void *u, const char *user, char **ret, size_t *size)
{
        struct script *s = u;
        (void)user;
        s->sk_profile_calls++;
        if (!s->sk_profile)
                return -ENOENT;
        *ret = strdup(s->sk_profile);
        *size = strlen(s->sk_profile);
        return 0;
}

static int s_authorize_fingerprint(void *u, const char *email, const char *policy, const char *fp)
{
        struct script *s = u;
        assert_string_equal(email, s->email);
        assert_string_equal(policy, "login");
        snprintf(s->last_fingerprint, sizeof(s->last_fingerprint), "%s", fp);
        s->cert_calls++;
        return s->cert_login;
}

static int s_bool(void *u, const char *key, bool def)
{
        struct script *s = u;
        assert_false(def);
        s->bool_calls++;
        if (streq(key, "enable-oslogin-sk"))
                return s->sk;
        assert_string_equal(key, "enable-oslogin-2fa");
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
        f->script = (struct script){.profile = profile_of("alice", "2000001001"), .login = 1, .admin = 1,
                                    .email = "alice@example.com", .sk_profile = sk_profile_of("alice", "2000001001"),
                                    .cert_login = 1};
        f->source = (struct broker_source){.get_profile = s_profile, .authorize = s_authorize,
                                           .get_security_key_profile = s_sk_profile,
                                           .authorize_fingerprint = s_authorize_fingerprint,
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
        assert_int_equal(principals(f, "ivan_example_com", "AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY"), BROKER_DENIED);
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
                cmocka_unit_test_setup_teardown(test_keys_security_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keys_security_keys_asked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_principals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_account, setup, teardown),
                cmocka_unit_test_setup_teardown(test_account_uid_mismatch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_factor, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
