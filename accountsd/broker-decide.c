/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/broker-decide.h"
#include "accountsd/broker-decide-internal.h"
#include "basic/local-db.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/strv.h"
#include "accounts/sudoers.h"
#include "basic/time-util.h"
#include "basic/valid.h"
#include "mds/models.h"
#include "mds/policies.h"
#include "mds/ssh-cert.h"
#include "mds/ssh-keys.h"

#define AUDIT_KEYS_MAX 1024

void broker_facts_init(struct broker_facts *f)
{
        *f = (struct broker_facts){.policy = {-1, -1}};
}

void broker_facts_done(struct broker_facts *f)
{
        free(f->profile);
        broker_facts_init(f);
}

void decision_reply_set(struct broker_reply *r, enum broker_status status, const char *format, ...)
{
        va_list ap;

        r->status = status;
        va_start(ap, format);
        vsnprintf(r->message, sizeof(r->message), format, ap);
        va_end(ap);
}

/* One event per decision, each kind with its MESSAGE_ID (the two-factor
 * steps name the first challenge offered or the one answered, never a
 * code), and what the audit record needs. */
void decision_audit(const struct broker_context *c, const struct broker_request *q, const char *email,
        const struct broker_reply *r, const char *keys)
{
        int level = r->status == BROKER_GRANTED || r->status == BROKER_CHALLENGE ? LOG_INFO : LOG_NOTICE;
        const char *user = valid_user_name(q->user) ? q->user : "(invalid)";
        bool two_factor = q->kind == BROKER_AUTH_START || q->kind == BROKER_AUTH_CONTINUE;
        const char *id = q->kind == BROKER_KEYS      ? MESSAGE_ID_KEY_DECISION
                         : q->kind == BROKER_ACCOUNT ? MESSAGE_ID_ACCOUNT_DECISION
                                                     : MESSAGE_ID_TWO_FACTOR_DECISION;
        const char *fp = !isempty(q->fingerprint) ? q->fingerprint : keys;
        char pid[16] = "", latency[24] = "", challenge[16] = "";

        if (c->outcome) {
                snprintf(c->outcome->email, sizeof(c->outcome->email), "%s", email ?: "");
                if (q->kind == BROKER_KEYS)
                        snprintf(c->outcome->fingerprint, sizeof(c->outcome->fingerprint), "%.*s",
                                (int)strcspn(fp ?: "", " "), fp ?: "");
        }
        if (q->kind == BROKER_AUTH_CONTINUE)
                snprintf(challenge, sizeof(challenge), "%" PRIu32, q->challenge_id);
        if (c->sshd_pid)
                snprintf(pid, sizeof(pid), "%" PRIu32, c->sshd_pid);
        if (c->received_usec)
                snprintf(latency, sizeof(latency), "%llu",
                        (unsigned long long)(now_monotonic_usec() - c->received_usec));
        log_event(level, id,
                LOG_FIELDS({"OSLOGIN_USER", user}, {"OSLOGIN_EMAIL", email},
                        {"OSLOGIN_FINGERPRINT", q->kind == BROKER_KEYS ? fp : NULL},
                        {"OSLOGIN_DECISION", broker_status_to_string(r->status)},
                        {"OSLOGIN_REASON", r->message},
                        {"OSLOGIN_REMOTE", q->kind == BROKER_ACCOUNT ? q->rhost : NULL},
                        {"OSLOGIN_SSHD_PID", pid},
                        {"OSLOGIN_TWO_FACTOR", q->kind == BROKER_AUTH_START && c->outcome &&
                                                               !isempty(c->outcome->two_factor)
                                                       ? c->outcome->two_factor
                                                       : NULL},
                        {"OSLOGIN_CHALLENGE", two_factor ? challenge : NULL},
                        {"OSLOGIN_LATENCY_USEC", latency}),
                "%s user=%s email=%s decision=%s reason=\"%s\"%s%s%s", broker_kind_to_string(q->kind), user,
                email ?: "-", broker_status_to_string(r->status), r->message, keys ? " keys=[" : "",
                keys ?: "", keys ? "]" : "");
}

/* The profile of USER, from F or from the server. -ENOENT: no such user;
 * -EBADMSG: invalid, or a profile of someone else (never shared). */
static int facts_profile(const struct broker_context *c, struct broker_facts *f, const char *user,
        struct oslogin_profile **ret)
{
        struct oslogin_profile *p = NULL;
        int r;

        if (!f->profile) {
                f->requests++;
                r = c->source->get_profile(c->source->userdata, user, &f->profile, &f->profile_size);
                if (r < 0)
                        return r;
                f->profile_learned = true;
        }
        r = oslogin_profile_parse(f->profile, f->profile_size, c->uid_floor, &p);
        /* The answer decides who gets in as USER: a profile for anyone else
         * is a broken (or hostile) server, never a near match. */
        if (r >= 0 && (!streq(p->account.username, user) || !p->email))
                r = -EBADMSG;
        if (r < 0) {
                oslogin_profile_free(p);
                free(f->profile);
                f->profile = NULL;
                f->profile_learned = false;
                return r == -ENOMEM ? r : -EBADMSG;
        }
        *ret = p;
        return 0;
}

static int facts_policy(
        const struct broker_context *c, struct broker_facts *f, const char *email, enum broker_policy p)
{
        int r;

        if (f->policy[p] >= 0)
                return f->policy[p];
        f->requests++;
        r = c->source->authorize(c->source->userdata, email, broker_policy_name(p));
        if (r == 0 || r == 1) {
                f->policy[p] = r;
                f->policy_learned[p] = true;
        }
        return r;
}

/* 1 when the name is the host's (or no name at all): *REASON says why. */
static int host_owns(const struct broker_context *c, const char *user, const char **reason)
{
        if (!valid_user_name(user))
                *reason = "not a valid user name";
        else if (streq(user, "root"))
                *reason = "root is never an OS Login user";
        else if (!c->local)
                return -EIO;
        else if (local_db_has_user(c->local, user))
                *reason = "a local account (in /etc/passwd): the host decides";
        else
                return 0;
        return 1;
}

/* What every decision does first. 1: *RET is decided; 0: *RET_PROFILE is
 * an OS Login user's, not clashing with a local account. */
int decision_prologue(const struct broker_context *c, struct broker_facts *f, const struct broker_request *q,
        struct broker_reply *ret, struct oslogin_profile **ret_profile)
{
        const char *reason = NULL;
        int r = host_owns(c, q->user, &reason);

        if (r < 0) {
                decision_reply_set(ret, BROKER_UNAVAILABLE, "cannot read the host's accounts");
                return 1;
        }
        if (r > 0) {
                decision_reply_set(ret, BROKER_NOT_OURS, "%s", reason);
                return 1;
        }
        r = facts_profile(c, f, q->user, ret_profile);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                decision_reply_set(ret, BROKER_UNKNOWN_USER, "no such OS Login user");
        else if (r == -EBADMSG)
                decision_reply_set(ret, BROKER_UNAVAILABLE,
                        "invalid profile (or one for another user) from the metadata server");
        else if (r < 0)
                decision_reply_set(
                        ret, BROKER_UNAVAILABLE, "metadata server unavailable (%s)", strerror(-r));
        if (r < 0)
                return 1;
        if (local_db_has_uid(c->local, (*ret_profile)->account.uid)) {
                log_warning("OS Login profile \"%s\" (%s) has UID %" PRIu32 ", a local account's: refused.",
                        q->user, (*ret_profile)->email, (*ret_profile)->account.uid);
                decision_reply_set(ret, BROKER_DENIED, "the profile's UID %" PRIu32 " is a local account's",
                        (*ret_profile)->account.uid);
                oslogin_profile_free(TAKE_PTR(*ret_profile));
                return 1;
        }
        return 0;
}

/* The login policy; 1 when *RET is decided (not granted). */
static int need_login(
        const struct broker_context *c, struct broker_facts *f, const char *email, struct broker_reply *ret)
{
        int r = facts_policy(c, f, email, BROKER_POLICY_LOGIN);

        if (r > 0)
                return 0;
        if (r == 0 || r == -ENOENT)
                decision_reply_set(ret, BROKER_DENIED, "the login policy is not granted");
        else
                decision_reply_set(
                        ret, BROKER_UNAVAILABLE, "cannot check the login policy (%s)", strerror(-r));
        return 1;
}

static int usable_keys(const struct oslogin_profile *p, const char *want_fp, char ***ret_lines,
        char *audit_fps, size_t audit_size)
{
        _cleanup_strv_free_ char **lines = NULL;
        uint64_t now = now_realtime_usec();
        size_t n = 0, used = 0;

        for (size_t i = 0; i < p->n_keys && n < BROKER_KEYS_MAX; i++) {
                _cleanup_free_ char *fp = NULL;
                if (!oslogin_key_usable(&p->keys[i], now) || strlen(p->keys[i].key) > BROKER_KEY_LINE_MAX ||
                        ssh_key_fingerprint(p->keys[i].key, &fp) < 0)
                        continue;
                if (!isempty(want_fp) && !streq(want_fp, fp))
                        continue;
                if (strv_extend(&lines, p->keys[i].key) < 0)
                        return -ENOMEM;
                n++;
                if (used < audit_size)
                        used += snprintf(audit_fps + used, audit_size - used, "%s%s", used ? " " : "", fp);
        }
        *ret_lines = TAKE_PTR(lines);
        return (int)n;
}

/* enable-oslogin-sk: from the watched document, else asked. 1/0, or 1
 * with *RET decided (UNAVAILABLE). */
static int security_keys_required(
        const struct broker_context *c, struct broker_facts *f, struct broker_reply *ret, bool *ret_required)
{
        int r = c->security_keys;

        if (r < 0) {
                f->requests++;
                r = c->source->metadata_bool(c->source->userdata, "enable-oslogin-sk", false);
        }
        if (r < 0) {
                decision_reply_set(
                        ret, BROKER_UNAVAILABLE, "cannot read enable-oslogin-sk (%s)", strerror(-r));
                return 1;
        }
        *ret_required = r > 0;
        return 0;
}

/* The security keys of USER (view=securityKey): the profile must still
 * name USER. -EBADMSG: invalid or someone else's; -ENOENT; -errno. */
static int security_key_lines(const struct broker_context *c, struct broker_facts *f, const char *user,
        const char *want_fp, char ***ret_lines, char *audit_fps, size_t audit_size)
{
        _cleanup_(oslogin_key_list_done) struct oslogin_key_list l = {};
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *body = NULL;
        size_t size = 0, n = 0, used = 0;
        int r;

        f->requests++;
        r = c->source->get_security_key_profile(c->source->userdata, user, &body, &size);
        if (r < 0)
                return r;
        r = oslogin_profile_parse(body, size, c->uid_floor, &p);
        if (r >= 0 && (!streq(p->account.username, user) || !p->email))
                r = -EBADMSG;
        if (r >= 0)
                r = oslogin_security_keys_parse(body, size, &l);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        for (size_t i = 0; i < l.n_keys && n < BROKER_KEYS_MAX; i++) {
                _cleanup_free_ char *fp = NULL;
                if (strlen(l.keys[i]) > BROKER_KEY_LINE_MAX || ssh_key_fingerprint(l.keys[i], &fp) < 0)
                        continue;
                if (!isempty(want_fp) && !streq(want_fp, fp))
                        continue;
                if (strv_extend(&lines, l.keys[i]) < 0)
                        return -ENOMEM;
                n++;
                if (used < audit_size)
                        used += snprintf(audit_fps + used, audit_size - used, "%s%s", used ? " " : "", fp);
        }
        *ret_lines = TAKE_PTR(lines);
        return (int)n;
}

static bool service_account(const char *user)
{
        return strncmp(user, "sa_", 3) == 0;
}

int broker_decide_keys(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        char fps[AUDIT_KEYS_MAX] = "";
        bool sk = false;
        int r;

        *ret = (struct broker_reply){};
        r = decision_prologue(c, f, q, ret, &p);
        if (r < 0)
                return r;
        if (r > 0 || need_login(c, f, p->email, ret) > 0 || security_keys_required(c, f, ret, &sk) > 0) {
                decision_audit(c, q, p ? p->email : NULL, ret, NULL);
                return 0;
        }
        if (sk && !service_account(q->user)) {
                /* Security keys required: only the profile's sk keys; a plain
                 * key's fingerprint matches none of them and is refused. */
                r = security_key_lines(c, f, q->user, q->fingerprint, &ret->lines, fps, sizeof(fps));
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT)
                        decision_reply_set(
                                ret, BROKER_UNKNOWN_USER, "no such OS Login user (security keys)");
                else if (r == -EBADMSG)
                        decision_reply_set(ret, BROKER_UNAVAILABLE,
                                "invalid security keys answer from the metadata server");
                else if (r < 0)
                        decision_reply_set(
                                ret, BROKER_UNAVAILABLE, "metadata server unavailable (%s)", strerror(-r));
                else if (r == 0 && !isempty(q->fingerprint))
                        decision_reply_set(ret, BROKER_DENIED,
                                "security keys required: not one of the user's security keys");
                else
                        decision_reply_set(ret, BROKER_GRANTED, "%s",
                                r > 0 ? "login granted (security key)" : "no security key");
                decision_audit(c, q, p->email, ret, fps);
                return 0;
        }
        r = usable_keys(p, q->fingerprint, &ret->lines, fps, sizeof(fps));
        if (r < 0)
                return r;
        decision_reply_set(ret, BROKER_GRANTED, "%s",
                r > 0                      ? "login granted"
                : !isempty(q->fingerprint) ? "no usable key with that fingerprint"
                                           : "no usable key");
        if (c->outcome)
                c->outcome->n_keys = (size_t)r;
        decision_audit(c, q, p->email, ret, fps);
        return 0;
}

int broker_decide_principals(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        _cleanup_free_ char *fp = NULL;
        char audit_fp[SSH_CERT_FINGERPRINT_MAX + 1] = "";
        int r;

        *ret = (struct broker_reply){};
        /* The certificate first: one without the extension asks nothing. */
        r = ssh_cert_fingerprint(q->certificate ?: "", &fp);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                decision_reply_set(ret, BROKER_DENIED, "%s",
                        r == -ENOENT ? "the certificate has no fingerprint@google.com extension"
                                     : "not a valid user certificate");
                decision_audit(c, q, NULL, ret, NULL);
                return 0;
        }
        snprintf(audit_fp, sizeof(audit_fp), "%s", fp);
        r = decision_prologue(c, f, q, ret, &p);
        if (r < 0)
                return r;
        if (r > 0)
                goto out;
        f->requests++;
        r = c->source->authorize_fingerprint(c->source->userdata, p->email, "login", fp);
        /* The fingerprint in the message: it names the certificate in the log. */
        if (r == 0 || r == -ENOENT)
                decision_reply_set(ret, BROKER_DENIED,
                        "the directory does not vouch for this certificate (fingerprint %s)", fp);
        else if (r < 0)
                decision_reply_set(
                        ret, BROKER_UNAVAILABLE, "cannot check the certificate (%s)", strerror(-r));
        else {
                if (strv_extend(&ret->lines, q->user) < 0)
                        return -ENOMEM;
                decision_reply_set(ret, BROKER_GRANTED, "certificate accepted (fingerprint %s)", fp);
        }
out:
        decision_audit(c, q, p ? p->email : NULL, ret, audit_fp);
        return 0;
}

/* A remembered adminLogin answer is used only while the drop-in on disk
 * agrees with it: the periodic re-check (or an administrator) may have
 * revoked the grant since, and a stale "yes" must not bring it back. */
static void check_remembered_admin(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, const struct oslogin_profile *p)
{
        uint32_t uid;
        bool granted;

        if (f->policy[BROKER_POLICY_ADMIN] < 0 || f->policy_learned[BROKER_POLICY_ADMIN])
                return;
        granted = sudoers_granted_uid(c->root, q->user, &uid) >= 0 && uid == p->account.uid;
        if (granted != (f->policy[BROKER_POLICY_ADMIN] > 0))
                f->policy[BROKER_POLICY_ADMIN] = -1;
}

/* Makes the sudo drop-in follow adminLogin; the flags for the reply. */
static uint32_t update_sudo(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, const struct oslogin_profile *p)
{
        int r;

        check_remembered_admin(c, f, q, p);
        r = facts_policy(c, f, p->email, BROKER_POLICY_ADMIN);

        if (r < 0 && r != -ENOENT) {
                /* Unchanged: the periodic re-check settles it on a definite answer. */
                log_warning("Cannot check adminLogin for \"%s\" (%s): %s; sudo rights unchanged.", q->user,
                        p->email, strerror(-r));
                return 0;
        }
        if (r > 0) {
                if ((r = sudoers_ensure_include(c->root, c->visudo)) < 0 ||
                        (r = sudoers_grant(c->root, c->visudo, q->user, p->account.uid, c->sudo_rule)) < 0)
                        log_error("Cannot grant sudo to \"%s\" (UID %" PRIu32 "): %s", q->user,
                                p->account.uid, strerror(-r));
                else if (r > 0) {
                        char uid[16];
                        snprintf(uid, sizeof(uid), "%" PRIu32, p->account.uid);
                        log_event(LOG_NOTICE, MESSAGE_ID_SUDO_GRANTED,
                                LOG_FIELDS({"OSLOGIN_USER", q->user}, {"OSLOGIN_EMAIL", p->email},
                                        {"OSLOGIN_UID", uid}),
                                "Sudo granted to \"%s\" (%s, UID %" PRIu32 "): adminLogin.", q->user,
                                p->email, p->account.uid);
                        if (c->outcome)
                                c->outcome->sudo = 1;
                }
                if (c->outcome)
                        c->outcome->admin = true;
                return BROKER_ACCOUNT_ADMIN;
        }
        if ((r = sudoers_revoke(c->root, q->user)) < 0)
                log_error("Cannot revoke sudo of \"%s\": %s", q->user, strerror(-r));
        else if (r > 0) {
                log_event(LOG_NOTICE, MESSAGE_ID_SUDO_REVOKED,
                        LOG_FIELDS({"OSLOGIN_USER", q->user}, {"OSLOGIN_EMAIL", p->email},
                                {"OSLOGIN_REASON", "no adminLogin"}),
                        "Sudo revoked for \"%s\" (%s): no adminLogin.", q->user, p->email);
                if (c->outcome)
                        c->outcome->sudo = -1;
        }
        return 0;
}

int broker_decide_account(const struct broker_context *c, struct broker_facts *f,
        const struct broker_request *q, struct broker_reply *ret)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        int r;

        *ret = (struct broker_reply){};
        r = decision_prologue(c, f, q, ret, &p);
        if (r < 0)
                return r;
        if (r == 0 && p->account.uid != q->uid) {
                /* Before any grant: sudo is written by UID, and the login
                 * would go to the UID NSS gave the asking process. */
                log_warning("\"%s\" resolves to UID %" PRIu32
                            " on this host but its OS Login profile (%s) says "
                            "%" PRIu32 ": refused, sudo untouched.",
                        q->user, q->uid, p->email, p->account.uid);
                decision_reply_set(ret, BROKER_DENIED,
                        "the profile's UID %" PRIu32 " is not the UID %" PRIu32 " NSS resolves",
                        p->account.uid, q->uid);
                r = 1;
        }
        if (r == 0 && need_login(c, f, p->email, ret) == 0) {
                ret->account_flags = update_sudo(c, f, q, p);
                ret->uid = p->account.uid;
                decision_reply_set(ret, BROKER_GRANTED, "login granted%s",
                        ret->account_flags & BROKER_ACCOUNT_ADMIN ? ", sudo by adminLogin" : "");
        }
        decision_audit(c, q, p ? p->email : NULL, ret, NULL);
        return 0;
}
