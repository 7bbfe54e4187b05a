/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The decisions of the trust broker, run in a worker thread (they may ask
 * the metadata server). Separate from the sockets so unit tests can drive
 * them with a scripted server (struct broker_source). KEYS, PRINCIPALS
 * and ACCOUNT are in broker-decide.c, the two-factor steps (AUTH_*) in
 * broker-decide-two-factor.c.
 *
 * Every decision first classifies the name against the host (basic/local-
 * db.h, the files themselves):
 *   - not a valid user name, root, or a name in /etc/passwd: NOT_OURS for
 *     KEYS, ACCOUNT and AUTH_START. Nothing is asked of the server: a local
 *     account is the host's, and a profile named like it gets no keys,
 *     no second factor and no account decision (sshd's own files and the
 *     rest of the PAM stack decide);
 *   - otherwise the profile (shared answer) must name this user, and its
 *     UID must not be a local account's (DENIED, logged: a profile can
 *     never become a local account through its UID either);
 * then asks the policy: KEYS and ACCOUNT need `login`; with
 * enable-oslogin-sk, KEYS offers only the profile's security keys
 * (view=securityKey), except to service accounts (sa_*), which keep their
 * plain keys (doc/oslogin-policies.md); ACCOUNT then
 * grants or revokes the sudo drop-in by UID after `adminLogin`.
 * A server that cannot be asked gives UNAVAILABLE (fail closed). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accountsd/broker-answers.h"
#include "basic/broker-proto.h"

struct local_db;
struct two_factor_session;

/* How a decision asks the metadata server. Each returns -ENOENT only for a
 * definite "no such thing" (404). */
struct broker_source {
        /* users?username=USER: 0 and the body (malloc'd). */
        int (*get_profile)(void *userdata, const char *user, char **ret_body, size_t *ret_size);
        /* authorize?email=&policy=: 1 granted, 0 denied, -errno. */
        int (*authorize)(void *userdata, const char *email, const char *policy);
        /* users?username=USER&view=securityKey (the profile and its
         * securityKeys): 0 and the body (malloc'd). */
        int (*get_security_key_profile)(void *userdata, const char *user, char **ret_body, size_t *ret_size);
        /* authorize?email=&policy=&fingerprint=: 1 granted, 0 denied, -errno. */
        int (*authorize_fingerprint)(
                void *userdata, const char *email, const char *policy, const char *fingerprint);
        /* A metadata boolean (instance over project), DEFAULT when unset. */
        int (*metadata_bool)(void *userdata, const char *key, bool default_value);
        /* POST JSON to PATH: 0 and the body (malloc'd). */
        int (*post)(void *userdata, const char *path, const char *json, char **ret_body, size_t *ret_size);
        void *userdata;
};

/* The real metadata server through CLIENT (broker-source.c). */
struct mds_client;
void broker_source_mds(struct mds_client *client, struct broker_source *ret);

/* What a decision knew before it started (from the shared answers) and
 * what it learned (put back into them when done). */
struct broker_facts {
        char *profile; /* JSON; NULL: not known */
        size_t profile_size;
        int policy[_BROKER_POLICY_MAX]; /* -1: not known */
        bool profile_learned, policy_learned[_BROKER_POLICY_MAX];
        uint64_t requests; /* questions sent to the server */
};

void broker_facts_init(struct broker_facts *f);
void broker_facts_done(struct broker_facts *f);

/* What a decision tells the audit trail (accountsd/audit.h) besides its
 * reply. */
struct broker_outcome {
        char email[256];
        char fingerprint[128]; /* KEYS: the key asked for, or the first granted */
        size_t n_keys;         /* KEYS: keys granted */
        bool admin;            /* ACCOUNT granted: adminLogin */
        int sudo;              /* ACCOUNT: 1 granted now, -1 revoked now, 0 unchanged */
        char two_factor[32];   /* AUTH_START: the first challenge's type */
};

struct broker_context {
        const char *root;   /* "/" in production: /etc/passwd, sudoers */
        const char *visudo; /* NULL: /usr/sbin/visudo */
        const char *sudo_rule;
        uint32_t uid_floor;
        const struct local_db *local;
        const struct broker_source *source;
        /* enable-oslogin-sk from the watched document: 1/0, -1 when no
         * document is known yet (then the decision asks the server). */
        int security_keys;
        /* For the decision's event (OSLOGIN_SSHD_PID, OSLOGIN_LATENCY_USEC): */
        uint32_t sshd_pid;              /* 0: unknown */
        uint64_t received_usec;         /* CLOCK_MONOTONIC when the question came; 0: unknown */
        struct broker_outcome *outcome; /* NULL: not wanted */
};

/* Each fills *RET (status, message, and the kind's fields) and returns 0,
 * or -ENOMEM. */
int broker_decide_keys(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret);
/* PRINCIPALS: sshd's AuthorizedPrincipalsCommand (%u %k). The OS Login
 * fingerprint of the certificate (mds/ssh-cert.h), then the profile, then
 * authorize?email=&policy=login&fingerprint=: only a yes grants, with the
 * user name as the single principal. A certificate without the extension
 * or a malformed one: DENIED, nothing asked. */
int broker_decide_principals(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret);
int broker_decide_account(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret);

/* AUTH_START. On CHALLENGE, *RET_EMAIL and *RET_MDS_SESSION (malloc'd) are
 * what the daemon keeps behind the opaque token it gives the client (the
 * caller fills ret->session). */
int broker_decide_auth_start(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret, char **ret_email, char **ret_mds_session);
/* AUTH_CONTINUE of the session EMAIL/MDS_SESSION the token stood for. On
 * CHALLENGE, *RET_MDS_SESSION is the session to keep (the server may name
 * a new one); on any other status the session is over. */
int broker_decide_auth_continue(const struct broker_context *c, const struct broker_request *q,
        const char *email, const char *mds_session, struct broker_reply *ret, char **ret_mds_session);

/* Whether CODE may be sent as a second factor: 1..64 printable bytes. */
bool broker_valid_credential(const char *code);
