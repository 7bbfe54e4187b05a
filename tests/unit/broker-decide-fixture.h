/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the broker's decision tests share (test-broker-decide.c,
 * test-broker-decide-two-factor.c): a scripted metadata server (struct
 * script behind a struct broker_source), a host root with a small
 * /etc/passwd in a temporary directory, and the fixture around them.
 * Include after unit.h, broker-decide.h and local-db.h. */

#include <sys/stat.h>
#include <unistd.h>

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfnjIZY+cssukTyN7nEORReToMY3FEli0UG3FUobp7k alice@laptop"
#define KEY_FP "SHA256:kjhJ+iomoV3CbRqFGJ49vYDrvF0wok/Cp06b9aZEpF0"
#define SK_KEY                                                                                              \
        "sk-ssh-ed25519@openssh.com "                                                                       \
        "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIN5SGxlAEv2z74RgXjKhH+lXFHitidS+"                      \
        "UvAXthAntpxdAAAABHNzaDo= heidi@yubikey"
#define SK_FP "SHA256:+SxpHFwCYAXcg58tIQhpuWE1AT6Vv6weQSAbU6Lh/io"
/* tests/tools/oslogin-make-cert sign policy-ca.pem ivan.pub -n ivan_example_com
 * -f b86db4ca-09fd-429e-b121-a12799614032 -V 0:4102444800 (and without -f) */
#define CERT                                                                                                \
        "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIDj/HJCRsVOEQLzjV6G6Z5i3mUkr24F4AjmGsFAC7HH/"  \
        "AAAAIHgCyor8fJp9dTdlhtPCjEU7UHPzKsnPknYqEzo2KA+"                                                   \
        "xAAAAAAAAAAEAAAABAAAADG9zbG9naW4tdGVzdAAAABQAAAAQaXZhbl9leGFtcGxlX2NvbQAAAAAAAAAAAAAAAPSGVwAAAAAA" \
        "AAAAxQAAADtmaW5nZXJwcmludEBnb29nbGUuY29tPWI4NmRiNGNhLTA5ZmQtNDI5ZS1iMTIxLWExMjc5OTYxNDAzMgAAAAAAA" \
        "AAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcn" \
        "QtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWV" \
        "kMjU1MTkAAAAgsCjJXLsNvAQkWJEHIzhh5OE2mf5Qh/"                                                       \
        "pAd+"                                                                                              \
        "z70najomoAAABTAAAAC3NzaC1lZDI1NTE5AAAAQONYohFkorSnaGJIIHMfCiApOyubMlsaOlaqiTws1HdlHPFQoEYGh7WEE2e" \
        "uzqzVLNUUbDCHPfymFTOibOEwJQ4="
#define CERT_NO_FP                                                                                          \
        "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAILYp272uHzcR9R8sKQCydtGkPU6/"                  \
        "CPJmGfTo93LhjH07AAAAIHgCyor8fJp9dTdlhtPCjEU7UHPzKsnPknYqEzo2KA+"                                   \
        "xAAAAAAAAAAEAAAABAAAADG9zbG9naW4tdGVzdAAAABQAAAAQaXZhbl9leGFtcGxlX2NvbQAAAAAAAAAAAAAAAPSGVwAAAAAA" \
        "AAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJta" \
        "XQtcG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAA" \
        "tzc2gtZWQyNTUxOQAAACCwKMlcuw28BCRYkQcjOGHk4TaZ/"                                                   \
        "lCH+kB37PvSdqOiagAAAFMAAAALc3NoLWVkMjU1MTkAAABAwtnoQXL8IijWsH0/A90gvaAZOjeRrgf70Is8oNX6udspTD/"    \
        "195/UHd4aFpGrRGf54Wf05L8a3R+q2SFE1C8hDQ=="
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
              "localid:x:2000001500:2000001500::/home/localid:/bin/sh\n",
                p);
        fclose(p);
        assert_int_equal(local_db_load(f->root, &f->db), 0);
        f->script = (struct script){.profile = profile_of("alice", "2000001001"),
                .login = 1,
                .admin = 1,
                .email = "alice@example.com",
                .sk_profile = sk_profile_of("alice", "2000001001"),
                .cert_login = 1};
        f->source = (struct broker_source){.get_profile = s_profile,
                .authorize = s_authorize,
                .get_security_key_profile = s_sk_profile,
                .authorize_fingerprint = s_authorize_fingerprint,
                .metadata_bool = s_bool,
                .post = s_post,
                .userdata = &f->script};
        f->ctx = (struct broker_context){.root = f->root,
                .visudo = "/bin/true",
                .sudo_rule = "ALL=(ALL) ALL",
                .uid_floor = 1000,
                .local = f->db,
                .source = &f->source};
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
