/* SPDX-License-Identifier: Apache-2.0 */
/* pam_oslogin.so: OS Login decisions for the PAM stacks of sshd (and su).
 *
 * account: local users (in /etc/passwd) get PAM_IGNORE, so existing stacks
 *   keep working; root is refused; an OS Login user (resolved through NSS,
 *   i.e. the oslogin source) must hold policy=login, asked of the metadata
 *   server now, not of a cache; policy=adminLogin then grants or revokes
 *   the user's sudoers drop-in. A server that cannot be asked fails closed
 *   (PAM_AUTHINFO_UNAVAIL).
 * auth: OS Login users have no password (PAM_AUTH_ERR), except through the
 *   two-factor flow with the `twofactor` argument when the metadata sets
 *   enable-oslogin-2fa.
 *
 * No state outside the call: every handle gets its own config and client,
 * so sshd, su or a threaded PAM user can call in concurrently. */

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/log.h"
#include "basic/parse-util.h"
#include "basic/sudoers.h"
#include "basic/valid.h"
#include "mds/config.h"
#include "mds/oslogin-api.h"
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
        *ret = (struct pam_oslogin_args){};
        for (int i = 0; i < argc; i++) {
                if (streq(argv[i], "debug"))
                        ret->debug = true;
                else if (streq(argv[i], "twofactor"))
                        ret->twofactor = true;
                else if (strneq(argv[i], "config=", 7) && argv[i][7] == '/')
                        ret->config_path = argv[i] + 7;
                else
                        pam_syslog(pamh, LOG_WARNING, "unknown argument \"%s\", ignored", argv[i]);
        }
}

/* The library code (config, client) logs through lib/basic/log: route it to
 * syslog without openlog(), which would rename the host process's log. */
static void log_setup_once(void)
{
        log_open("pam_oslogin", LOG_TARGET_SYSLOG_SHARED, LOG_AUTHPRIV);
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
        r = getpwnam_r(user, &pw, buffer, sizeof(buffer), &result);
        if (r != 0 && r != ENOENT && r != ESRCH) {
                pam_syslog(pamh, LOG_ERR, "cannot resolve \"%s\": %s", user, strerror(r));
                return -r;
        }
        *ret = !result ? USER_UNKNOWN : pw.pw_uid == 0 ? USER_ROOT : USER_OSLOGIN;
        *ret_uid = result ? pw.pw_uid : (uid_t)-1;
        return 0;
}

struct request {
        pam_handle_t *pamh;
        struct pam_oslogin_args args;
        const char *user;
        enum user_kind kind;
        uid_t uid;
        struct oslogin_config config;
        struct mds_client *client;
        struct oslogin_profile *profile;
};

static void request_done(struct request *q)
{
        oslogin_profile_free(q->profile);
        mds_client_free(q->client);
        config_free(&q->config);
}

/* Who is asking, and, for an OS Login user, what the metadata server says
 * they are. A PAM code, or -1 to go on. */
static int request_begin(pam_handle_t *pamh, int argc, const char **argv, struct request *q)
{
        static pthread_once_t log_once = PTHREAD_ONCE_INIT;

        pthread_once(&log_once, log_setup_once);
        *q = (struct request){.pamh = pamh};
        parse_args(pamh, argc, argv, &q->args);
        if (pam_get_user(pamh, &q->user, NULL) != PAM_SUCCESS || isempty(q->user)) {
                pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
                return PAM_USER_UNKNOWN;
        }
        if (classify_user(pamh, q->user, &q->kind, &q->uid) < 0)
                return PAM_SYSTEM_ERR;
        if (q->args.debug)
                pam_syslog(pamh, LOG_DEBUG, "user \"%s\": %s", q->user,
                        q->kind == USER_LOCAL     ? "local"
                        : q->kind == USER_ROOT    ? "root"
                        : q->kind == USER_OSLOGIN ? "OS Login"
                                                  : "unknown");
        return -1;
}

/* Loads the config, makes the client, fetches the profile. */
static int request_profile(struct request *q)
{
        int r;

        if (config_load(q->args.config_path, 0, &q->config) < 0) {
                pam_syslog(q->pamh, LOG_ERR, "cannot load the configuration; refusing \"%s\"", q->user);
                return PAM_AUTHINFO_UNAVAIL;
        }
        /* The environment belongs to whoever runs su or sudo. */
        if ((r = mds_client_new(&q->config, MDS_CLIENT_IGNORE_ENVIRONMENT, &q->client)) < 0) {
                pam_syslog(q->pamh, LOG_ERR, "cannot create the metadata client: %s", strerror(-r));
                return PAM_AUTHINFO_UNAVAIL;
        }
        r = oslogin_fetch_profile(q->client, q->user, q->config.uid_floor, &q->profile);
        if (r == -ENOENT) {
                pam_syslog(q->pamh, LOG_NOTICE, "\"%s\" is not an OS Login user; refused", q->user);
                return PAM_USER_UNKNOWN;
        }
        if (r < 0) {
                pam_syslog(q->pamh, LOG_ERR, "cannot get the OS Login profile of \"%s\" (%s); refused",
                        q->user, strerror(-r));
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (q->profile->account.uid != q->uid) {
                pam_syslog(q->pamh, LOG_ERR,
                        "\"%s\" resolves to UID %u but its OS Login profile says %u; refused", q->user,
                        (unsigned)q->uid, (unsigned)q->profile->account.uid);
                return PAM_PERM_DENIED;
        }
        return -1;
}

static void update_sudo(struct request *q)
{
        const char *email = q->profile->email;
        int r = oslogin_authorize(q->client, email, "adminLogin");

        if (r < 0) {
                /* Unchanged: accountsd's re-check settles it on a definite answer. */
                pam_syslog(q->pamh, LOG_WARNING,
                        "cannot check adminLogin for \"%s\" (%s); sudo rights unchanged", q->user,
                        strerror(-r));
                return;
        }
        if (r > 0) {
                if ((r = sudoers_ensure_include("/", NULL)) < 0 ||
                        (r = sudoers_grant("/", NULL, q->user, q->profile->account.uid, q->config.sudo_rule)) < 0)
                        pam_syslog(
                                q->pamh, LOG_ERR, "cannot grant sudo to \"%s\": %s", q->user, strerror(-r));
                else if (r > 0)
                        pam_syslog(q->pamh, LOG_NOTICE, "sudo granted to \"%s\" (%s): adminLogin", q->user,
                                email);
        } else if ((r = sudoers_revoke("/", q->user)) < 0)
                pam_syslog(q->pamh, LOG_ERR, "cannot revoke sudo of \"%s\": %s", q->user, strerror(-r));
        else if (r > 0)
                pam_syslog(
                        q->pamh, LOG_NOTICE, "sudo revoked for \"%s\" (%s): no adminLogin", q->user, email);
}

_public_ int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags _unused_, int argc, const char **argv)
{
        _cleanup_(request_done) struct request q = {};
        int r = request_begin(pamh, argc, argv, &q);

        if (r >= 0)
                return r;
        switch (q.kind) {
        case USER_LOCAL:
                return PAM_IGNORE;
        case USER_ROOT:
                pam_syslog(pamh, LOG_NOTICE, "\"%s\" has UID 0: never allowed through OS Login", q.user);
                return PAM_PERM_DENIED;
        case USER_UNKNOWN:
                return PAM_USER_UNKNOWN;
        case USER_OSLOGIN:
                break;
        }
        if ((r = request_profile(&q)) >= 0)
                return r;
        r = oslogin_authorize(q.client, q.profile->email, "login");
        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "cannot check the login policy of \"%s\" (%s): %s; refused",
                        q.user, q.profile->email, strerror(-r));
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (r == 0) {
                pam_syslog(pamh, LOG_NOTICE, "\"%s\" (%s) lacks the login policy; refused", q.user,
                        q.profile->email);
                return PAM_PERM_DENIED;
        }
        update_sudo(&q);
        pam_syslog(pamh, LOG_INFO, "\"%s\" (%s) granted login", q.user, q.profile->email);
        return PAM_SUCCESS;
}

_public_ int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_(request_done) struct request q = {};
        int r = request_begin(pamh, argc, argv, &q);

        if (r >= 0)
                return r;
        switch (q.kind) {
        case USER_LOCAL:
        case USER_ROOT: /* root is local; the account stage refuses it */
                return PAM_IGNORE;
        case USER_UNKNOWN:
                return PAM_USER_UNKNOWN;
        case USER_OSLOGIN:
                break;
        }
        if (!q.args.twofactor) {
                pam_syslog(
                        pamh, LOG_NOTICE, "\"%s\" is an OS Login user: no password authentication", q.user);
                return PAM_AUTH_ERR;
        }
        if ((r = request_profile(&q)) >= 0)
                return r;
        r = metadata_fetch_bool(q.client, "enable-oslogin-2fa", false);
        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "cannot read enable-oslogin-2fa (%s); refusing \"%s\"",
                        strerror(-r), q.user);
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (r == 0) {
                pam_syslog(pamh, LOG_NOTICE,
                        "two-factor is not enabled; \"%s\" has no other authentication here", q.user);
                return PAM_AUTH_ERR;
        }
        r = pam_oslogin_two_factor(pamh, flags, &q.args, q.client, q.profile->email);
        pam_syslog(pamh, r == PAM_SUCCESS ? LOG_INFO : LOG_NOTICE,
                "two-factor authentication of \"%s\" (%s): %s", q.user, q.profile->email,
                pam_strerror(pamh, r));
        return r;
}

_public_ int pam_sm_setcred(
        pam_handle_t *pamh _unused_, int flags _unused_, int argc _unused_, const char **argv _unused_)
{
        return PAM_SUCCESS;
}
