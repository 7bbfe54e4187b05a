/* SPDX-License-Identifier: Apache-2.0 */
/* pam_oslogin.so: OS Login decisions for the PAM stacks of sshd (and su).
 * A thin client of accountsd (pam.sock, root only): it links libc and
 * libpam, reads no configuration and writes no file.
 *
 * account: local users (in /etc/passwd, read as a file) get PAM_IGNORE, so
 *   existing stacks keep working; UID 0 is refused; for anyone else one
 *   ACCOUNT question to accountsd, which asks the metadata server for the
 *   login policy and grants or revokes sudo from adminLogin. accountsd
 *   unreachable, busy or answering nonsense: PAM_AUTHINFO_UNAVAIL at once.
 * auth: OS Login users have no password (PAM_AUTH_ERR), except through the
 *   two-factor flow with the `twofactor` argument (AUTH_START, then
 *   AUTH_CONTINUE with what the user typed).
 *
 * No state outside the call, so sshd, su or a threaded PAM user can call
 * in concurrently. */

#include <errno.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/parse-util.h"
#include "basic/valid.h"
#include "pam_oslogin/pam-oslogin.h"

#define PASSWD_PATH OSLOGIN_SYSCONFDIR "/passwd"

enum user_kind {
        USER_LOCAL,   /* in /etc/passwd: not ours */
        USER_ROOT,    /* UID 0 from any source */
        USER_OSLOGIN, /* resolved by NSS, not in /etc/passwd */
        USER_UNKNOWN,
};

static void parse_args(pam_handle_t *pamh, int argc, const char **argv, struct pam_oslogin_args *ret)
{
        *ret = (struct pam_oslogin_args){
                .socket_path = BROKER_PAM_SOCKET_PATH, .timeout_ms = PAM_OSLOGIN_TIMEOUT_MS_DEFAULT};
        for (int i = 0; i < argc; i++) {
                uint32_t ms;

                if (streq(argv[i], "debug"))
                        ret->debug = true;
                else if (streq(argv[i], "twofactor"))
                        ret->twofactor = true;
                else if (strneq(argv[i], "socket=", 7) && argv[i][7] == '/')
                        ret->socket_path = argv[i] + 7;
                else if (strneq(argv[i], "timeout=", 8) && safe_atou32(argv[i] + 8, &ms) >= 0 && ms > 0)
                        ret->timeout_ms = ms;
                else
                        pam_syslog(pamh, LOG_WARNING, "unknown argument \"%s\", ignored", argv[i]);
        }
}

/* Looks USER up in the passwd file itself, not through NSS: "local" must
 * mean what the administrator wrote there. 1 and *UID when found. */
static int local_user_uid(const char *user, uid_t *uid)
{
        _cleanup_fclose_ FILE *f = fopen(PASSWD_PATH, "re");
        _cleanup_free_ char *line = NULL;
        size_t allocated = 0, n = strlen(user);

        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (getline(&line, &allocated, f) > 0) {
                uint32_t id;
                if (!strneq(line, user, n) || line[n] != ':')
                        continue;
                /* name:password:UID:... */
                char *uid_field = strchr(line + n + 1, ':'), *end;
                if (!uid_field || !(end = strchr(++uid_field, ':')))
                        continue;
                *end = '\0';
                if (safe_atou32(uid_field, &id) < 0)
                        continue;
                *uid = id;
                return 1;
        }
        return ferror(f) ? -EIO : 0;
}

static int classify_user(pam_handle_t *pamh, const char *user, enum user_kind *ret, uid_t *ret_uid)
{
        struct passwd pw, *result = NULL;
        char buffer[4096];
        uid_t uid = (uid_t)-1;
        int r = local_user_uid(user, &uid);

        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "cannot read %s: %s", PASSWD_PATH, strerror(-r));
                return r;
        }
        if (r > 0) {
                *ret = uid == 0 ? USER_ROOT : USER_LOCAL;
                *ret_uid = uid;
                return 0;
        }
        if (!valid_user_name(user)) {
                *ret = USER_UNKNOWN;
                return 0;
        }
        /* Through NSS: a UID 0 from another source is refused too, and the
         * UID the session will run as is compared with the profile's. */
        r = getpwnam_r(user, &pw, buffer, sizeof(buffer), &result);
        if (r != 0 && r != ENOENT && r != ESRCH) {
                pam_syslog(pamh, LOG_ERR, "cannot resolve \"%s\": %s", user, strerror(r));
                return -r;
        }
        *ret = !result ? USER_UNKNOWN : pw.pw_uid == 0 ? USER_ROOT : USER_OSLOGIN;
        *ret_uid = result ? pw.pw_uid : (uid_t)-1;
        return 0;
}

struct call {
        pam_handle_t *pamh;
        struct pam_oslogin_args args;
        const char *user;
        enum user_kind kind;
        uid_t uid;
};

/* Who is asking. A PAM code, or -1 to go on. */
static int call_begin(pam_handle_t *pamh, int argc, const char **argv, struct call *c)
{
        *c = (struct call){.pamh = pamh};
        parse_args(pamh, argc, argv, &c->args);
        if (pam_get_user(pamh, &c->user, NULL) != PAM_SUCCESS || isempty(c->user)) {
                pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
                return PAM_USER_UNKNOWN;
        }
        if (classify_user(pamh, c->user, &c->kind, &c->uid) < 0)
                return PAM_SYSTEM_ERR;
        if (c->args.debug)
                pam_syslog(pamh, LOG_DEBUG, "user \"%s\": %s", c->user,
                        c->kind == USER_LOCAL     ? "local"
                        : c->kind == USER_ROOT    ? "root"
                        : c->kind == USER_OSLOGIN ? "OS Login"
                                                  : "unknown");
        return -1;
}

/* A PAM item copied into a request field: cut to fit, control characters
 * replaced (the protocol carries none; sshd's rhost is an address anyway). */
static void copy_item(pam_handle_t *pamh, int item, char *dest, size_t size)
{
        const void *v = NULL;
        size_t i = 0;

        if (pam_get_item(pamh, item, &v) == PAM_SUCCESS && v)
                for (const char *s = v; s[i] && i < size - 1; i++)
                        dest[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        dest[i] = '\0';
}

static void request_for(const struct call *c, enum broker_kind kind, struct broker_request *q)
{
        *q = (struct broker_request){.kind = kind};
        strcpy(q->user, c->user); /* valid_user_name(): fits */
        copy_item(c->pamh, PAM_SERVICE, q->service, sizeof(q->service));
        copy_item(c->pamh, PAM_RHOST, q->rhost, sizeof(q->rhost));
}

int pam_oslogin_ask(pam_handle_t *pamh, const struct pam_oslogin_args *args, const struct broker_request *q,
        struct broker_reply *ret)
{
        int r = broker_query(args->socket_path, q, args->timeout_ms, ret);

        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "cannot ask accountsd (%s) about \"%s\": %s; refused",
                        args->socket_path, q->user, r == -EBADMSG ? "malformed reply" : strerror(-r));
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (ret->status == BROKER_UNAVAILABLE || ret->status == BROKER_REFUSED) {
                pam_syslog(pamh, LOG_ERR, "accountsd cannot decide about \"%s\" (%s): %s; refused", q->user,
                        broker_status_to_string(ret->status), ret->message);
                broker_reply_done(ret);
                return PAM_AUTHINFO_UNAVAIL;
        }
        return 0;
}

static int account_decide(const struct call *c, const struct broker_reply *reply)
{
        switch (reply->status) {
        case BROKER_GRANTED:
                if (reply->uid != c->uid) {
                        pam_syslog(c->pamh, LOG_ERR,
                                "\"%s\" resolves to UID %u but its OS Login profile says %u; refused",
                                c->user, (unsigned)c->uid, (unsigned)reply->uid);
                        return PAM_PERM_DENIED;
                }
                pam_syslog(c->pamh, LOG_INFO, "\"%s\" granted login%s", c->user,
                        reply->account_flags & BROKER_ACCOUNT_ADMIN ? " (adminLogin: sudo)" : "");
                return PAM_SUCCESS;
        case BROKER_DENIED:
                pam_syslog(c->pamh, LOG_NOTICE, "\"%s\" refused by OS Login: %s", c->user, reply->message);
                return PAM_PERM_DENIED;
        case BROKER_UNKNOWN_USER:
                pam_syslog(c->pamh, LOG_NOTICE, "\"%s\" is not an OS Login user; refused", c->user);
                return PAM_USER_UNKNOWN;
        case BROKER_NOT_OURS:
                /* We found no such line in /etc/passwd a moment ago; accountsd
                 * calls the name local. PAM_IGNORE would hand the decision to
                 * the rest of the stack (often pam_permit) for a name neither
                 * side vouches for: refuse instead. */
                pam_syslog(c->pamh, LOG_ERR,
                        "accountsd calls \"%s\" a local account, but it is not in %s; refused", c->user,
                        PASSWD_PATH);
                return PAM_PERM_DENIED;
        default:
                return PAM_AUTHINFO_UNAVAIL; /* pam_oslogin_ask() let through only the above */
        }
}

_public_ int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags _unused_, int argc, const char **argv)
{
        struct broker_request q;
        struct broker_reply reply = {};
        struct call c;
        int r = call_begin(pamh, argc, argv, &c);

        if (r >= 0)
                return r;
        switch (c.kind) {
        case USER_LOCAL:
                return PAM_IGNORE;
        case USER_ROOT:
                pam_syslog(pamh, LOG_NOTICE, "\"%s\" has UID 0: never allowed through OS Login", c.user);
                return PAM_PERM_DENIED;
        case USER_UNKNOWN:
                return PAM_USER_UNKNOWN;
        case USER_OSLOGIN:
                break;
        }
        request_for(&c, BROKER_ACCOUNT, &q);
        q.uid = c.uid; /* the daemon refuses another profile UID before it touches sudo */
        r = pam_oslogin_ask(pamh, &c.args, &q, &reply);
        if (r == 0)
                r = account_decide(&c, &reply);
        broker_reply_done(&reply);
        return r;
}

static int auth_start(const struct call *c, int flags)
{
        struct broker_request q;
        struct broker_reply reply = {};
        int r;

        request_for(c, BROKER_AUTH_START, &q);
        r = pam_oslogin_ask(c->pamh, &c->args, &q, &reply);
        if (r != 0)
                return r;
        switch (reply.status) {
        case BROKER_GRANTED: /* the server needs no challenge this time */
                pam_syslog(c->pamh, LOG_INFO, "two-factor authentication of \"%s\": no challenge needed",
                        c->user);
                return PAM_SUCCESS;
        case BROKER_CHALLENGE:
                r = pam_oslogin_two_factor(c->pamh, flags, &c->args, &q, &reply);
                pam_syslog(c->pamh, r == PAM_SUCCESS ? LOG_INFO : LOG_NOTICE,
                        "two-factor authentication of \"%s\": %s", c->user, pam_strerror(c->pamh, r));
                return r;
        case BROKER_NO_FACTOR:
                pam_syslog(c->pamh, LOG_NOTICE,
                        "no second factor for \"%s\" (%s); no other authentication here", c->user,
                        reply.message);
                return PAM_AUTH_ERR;
        case BROKER_UNKNOWN_USER:
                pam_syslog(c->pamh, LOG_NOTICE, "\"%s\" is not an OS Login user; refused", c->user);
                return PAM_USER_UNKNOWN;
        default: /* DENIED; NOT_OURS for a name /etc/passwd does not hold */
                pam_syslog(c->pamh, LOG_NOTICE, "two-factor authentication of \"%s\" refused (%s): %s",
                        c->user, broker_status_to_string(reply.status), reply.message);
                return PAM_AUTH_ERR;
        }
}

_public_ int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        struct call c;
        int r = call_begin(pamh, argc, argv, &c);

        if (r >= 0)
                return r;
        switch (c.kind) {
        case USER_LOCAL:
        case USER_ROOT: /* root is local; the account stage refuses it */
                return PAM_IGNORE;
        case USER_UNKNOWN:
                return PAM_USER_UNKNOWN;
        case USER_OSLOGIN:
                break;
        }
        if (!c.args.twofactor) {
                pam_syslog(
                        pamh, LOG_NOTICE, "\"%s\" is an OS Login user: no password authentication", c.user);
                return PAM_AUTH_ERR;
        }
        return auth_start(&c, flags);
}

_public_ int pam_sm_setcred(
        pam_handle_t *pamh _unused_, int flags _unused_, int argc _unused_, const char **argv _unused_)
{
        return PAM_SUCCESS;
}
