/* SPDX-License-Identifier: Apache-2.0 */
/* The two-factor decisions (AUTH_START, AUTH_CONTINUE): the metadata
 * server's authenticate/sessions flow, kept behind the daemon's opaque
 * token. The other decisions are in broker-decide.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/broker-decide.h"
#include "accountsd/broker-decide-internal.h"
#include "basic/macro.h"
#include "mds/models.h"
#include "mds/two-factor.h"

bool broker_valid_credential(const char *code)
{
        size_t n = strlen(code);

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)code[i] < ' ' || code[i] == 0x7f)
                        return false;
        return true;
}

/* Frees a server answer of the two-factor flow after wiping it. */
static void wipe_free(char *body, size_t size)
{
        if (body)
                explicit_bzero(body, size);
        free(body);
}

/* POST BODY to PATH; the answer parsed into *RET, and the server's reason
 * for a refusal (safe to show) into *RET_REASON. Decides *REPLY (1) when
 * the server refuses or cannot be asked. */
static int post_session(const struct broker_context *c, const char *path, const char *body,
        struct two_factor_session *ret, char **ret_reason, struct broker_reply *reply)
{
        char *answer = NULL;
        size_t size = 0;
        int r = c->source->post(c->source->userdata, path, body, &answer, &size);

        if (r == -ENOENT || r == -EACCES || r == -EBADMSG) {
                decision_reply_set(reply, BROKER_DENIED, "two-factor refused by the metadata server");
                return 1;
        }
        if (r < 0) {
                decision_reply_set(reply, BROKER_UNAVAILABLE, "two-factor: metadata server unavailable (%s)",
                        strerror(-r));
                return 1;
        }
        r = two_factor_start_parse(answer, size, ret);
        if (r >= 0 && ret_reason && two_factor_continue_parse_reason(answer, size, ret_reason) == -ENOMEM) {
                two_factor_session_done(ret);
                r = -ENOMEM;
        }
        wipe_free(answer, size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                decision_reply_set(
                        reply, BROKER_UNAVAILABLE, "invalid two-factor answer from the metadata server");
                return 1;
        }
        return 0;
}

/* The reply for a session the server answered with. 1 when a challenge is
 * pending (the daemon keeps the session), 0 when it is over. */
static int session_reply(const struct two_factor_session *s, const char *reason, struct broker_reply *ret)
{
        if (s->status == TWO_FACTOR_AUTHENTICATED) {
                decision_reply_set(ret, BROKER_GRANTED, "two-factor authentication succeeded");
                return 0;
        }
        /* AUTH_* messages are shown to the user (PAM_ERROR_MSG). */
        if (s->status == TWO_FACTOR_NO_AVAILABLE_CHALLENGES) {
                decision_reply_set(ret, BROKER_DENIED, "No second factor is set up for your account.");
                return 0;
        }
        if (s->status != TWO_FACTOR_CHALLENGE_REQUIRED) {
                /* The server's reason is for the user (PAM shows the message). */
                decision_reply_set(ret, BROKER_DENIED, "%s", reason ?: "two-factor authentication failed");
                return 0;
        }
        if (s->n_challenges == 0) {
                decision_reply_set(ret, BROKER_DENIED, "None of your second factors can be used here.");
                return 0;
        }
        decision_reply_set(ret, BROKER_CHALLENGE, "a second factor is needed");
        for (size_t i = 0; i < s->n_challenges && i < BROKER_CHALLENGES_MAX; i++) {
                struct broker_challenge *ch = &ret->challenges[ret->n_challenges++];
                ch->id = (uint32_t)s->challenges[i].id;
                snprintf(ch->type, sizeof(ch->type), "%s", s->challenges[i].type);
                /* PROPOSED: START_ALTERNATE first (an SMS, a call, a phone prompt). */
                snprintf(ch->status, sizeof(ch->status), "%s",
                        two_factor_needs_start(&s->challenges[i]) ? "PROPOSED" : "READY");
        }
        return 1;
}

int broker_decide_auth_start(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret, char **ret_email, char **ret_mds_session)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        _cleanup_(two_factor_session_done) struct two_factor_session s = {};
        _cleanup_free_ char *body = NULL;
        int r;

        *ret = (struct broker_reply){};
        r = decision_prologue(c, f, q, ret, &p);
        if (r < 0)
                return r;
        if (r > 0)
                goto out;
        f->requests++;
        r = c->source->metadata_bool(c->source->userdata, "enable-oslogin-2fa", false);
        if (r <= 0) {
                if (r < 0)
                        decision_reply_set(ret, BROKER_UNAVAILABLE, "cannot read enable-oslogin-2fa (%s)",
                                strerror(-r));
                else
                        decision_reply_set(ret, BROKER_NO_FACTOR, "two-factor is not enabled");
                goto out;
        }
        if (two_factor_exempt_user(q->user)) {
                /* sshd's `Match User sa_*` asks them for the key alone; a
                 * keyboard-interactive attempt has no factor to check, and
                 * GRANTED would make it a login without one. */
                decision_reply_set(ret, BROKER_DENIED,
                        "Service accounts log in with their key alone: no second factor.");
                goto out;
        }
        if (two_factor_start_request(p->email, &body) < 0)
                return -ENOMEM;
        f->requests++;
        r = post_session(c, "oslogin/authenticate/sessions/start", body, &s, NULL, ret);
        if (r < 0)
                return r;
        if (r == 0 && session_reply(&s, NULL, ret) > 0) {
                if (c->outcome && ret->n_challenges > 0)
                        snprintf(c->outcome->two_factor, sizeof(c->outcome->two_factor), "%.31s",
                                ret->challenges[0].type);
                char *email = strdup(p->email), *session = strdup(s.session_id);
                if (!email || !session) {
                        free(email);
                        free(session);
                        return -ENOMEM;
                }
                *ret_email = email;
                *ret_mds_session = session;
        }
out:
        decision_audit(c, q, p ? p->email : NULL, ret, NULL);
        return 0;
}

int broker_decide_auth_continue(const struct broker_context *c, const struct broker_request *q,
        const char *email, const char *mds_session, struct broker_reply *ret, char **ret_mds_session)
{
        _cleanup_(two_factor_session_done) struct two_factor_session s = {};
        _cleanup_free_ char *path = NULL, *reason = NULL;
        char *body = NULL;
        int r;

        *ret = (struct broker_reply){};
        if (q->challenge_id == 0 || q->challenge_id > INT32_MAX) {
                decision_reply_set(ret, BROKER_DENIED, "no such challenge");
                goto out;
        }
        if (q->action == BROKER_AUTH_RESPOND) {
                if (!broker_valid_credential(q->credential)) {
                        decision_reply_set(ret, BROKER_DENIED, "not a valid code");
                        goto out;
                }
                r = two_factor_continue_request(email, (int)q->challenge_id, q->credential, &body);
        } else if (q->action == BROKER_AUTH_START_ALTERNATE)
                r = two_factor_alternate_request(email, (int)q->challenge_id, &body);
        else {
                decision_reply_set(ret, BROKER_DENIED, "unknown two-factor action");
                goto out;
        }
        if (r < 0 || asprintf(&path, "oslogin/authenticate/sessions/%s/continue", mds_session) < 0) {
                if (body)
                        explicit_bzero(body, strlen(body));
                free(body);
                return -ENOMEM;
        }
        r = post_session(c, path, body, &s, &reason, ret);
        explicit_bzero(body, strlen(body));
        free(body);
        if (r < 0)
                return r;
        if (r == 0 && session_reply(&s, reason, ret) > 0) {
                /* The server may go on under a new session id. */
                char *session = strdup(s.session_id ?: mds_session);
                if (!session)
                        return -ENOMEM;
                *ret_mds_session = session;
        }
out:
        decision_audit(c, q, email, ret, NULL);
        return 0;
}
