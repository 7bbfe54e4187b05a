/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The host configuration OS Login needs, switched on and off as a whole:
 * - nsswitch.conf: " oslogin" appended to passwd:, group: (and
 *   initgroups: if present), other sources untouched. A symlinked
 *   nsswitch.conf (authselect) is edited in place through the link when
 *   its target is a root-owned regular file under /etc; any other link
 *   is refused before anything changes;
 * - sshd: a drop-in /etc/ssh/sshd_config.d/00-oslogin.conf when
 *   sshd_config includes that directory (sshd takes the first value of a
 *   keyword, so the name sorts first), else a marked block at the top of
 *   sshd_config (and its Match blocks in a second one at the end: a Match
 *   runs to the end of its file). The lines are sshd_policy_lines(): the
 *   keys command, certificates (TrustedUserCAKeys and the principals
 *   command), security keys, two-factor (keyboard-interactive after the
 *   key), and `Match Group USERS_GROUP` with `AuthorizedKeysFile none`;
 * - /etc/pam.d/sshd: a marked block at the top with pam_oslogin.so for
 *   account (and auth, with `twofactor` when two_factor), written only when
 *   the module is installed: a stack naming a missing module refuses
 *   everyone, local users too.
 * The guest environment's lines in the same files go in the same step
 * (takeover.h). One transaction: every file is planned first (a refusal
 * changes nothing), then written; `sshd -t` checks the result; any
 * failure puts every file back and names the step. sshd is reloaded once,
 * at the end, and only when its configuration changed. What we appended
 * to nsswitch.conf is recorded in /var/lib/oslogin so deactivate removes
 * exactly that. */

#include <stdbool.h>
#include <stdio.h>

struct sysconf_options {
        const char *root;     /* "/" in production */
        const char *akc_path; /* the AuthorizedKeysCommand */
        const char *akc_user;
        const char *sshd_path;  /* for `sshd -t`; NULL: skip validation */
        const char *pam_module; /* as named in the stack; relative: under OSLOGIN_PAMDIR */
        bool reload_sshd;
        bool two_factor; /* enable-oslogin-2fa */
        /* The policy switches (lib/hostconf/sshd-policy.h, doc/oslogin-policies.md). */
        bool certificates;           /* enable-oslogin-certificates */
        bool cert_authentication;    /* [sshd] cert_authentication (default true) */
        bool security_keys;          /* enable-oslogin-sk */
        const char *principals_path; /* the AuthorizedPrincipalsCommand */
        const char *trusted_ca_path; /* TrustedUserCAKeys: accountsd's file in /run/oslogin */
        const char *users_group;     /* Match Group … AuthorizedKeysFile none; NULL: none */
};

struct sysconf_status {
        bool nsswitch;
        bool sshd;
        bool pam;
        bool two_factor;
};

struct sysconf_report {
        char failed_step[160]; /* "" on success */
        unsigned guest_lines;  /* lines of the guest environment removed */
        bool sshd_reloaded;
};

void sysconf_options_default(struct sysconf_options *o);
/* 0 when done; -errno with REPORT->failed_step naming the step, after
 * everything was put back. REPORT may be NULL. */
int sysconf_apply(const struct sysconf_options *o, bool activate, struct sysconf_report *report);
int sysconf_activate(const struct sysconf_options *o);
int sysconf_deactivate(const struct sysconf_options *o);
int sysconf_get_status(const struct sysconf_options *o, struct sysconf_status *ret);
/* What activate (or deactivate) would change, planned exactly as they plan
 * and written to F as removed ("-") and added ("+") lines per file; nothing
 * is changed. The number of files that would change, or -errno (the step
 * that would fail is printed). */
int sysconf_preview(const struct sysconf_options *o, bool activate, FILE *f);
/* For manage_host_config = false: the lines an administrator adds by hand. */
void sysconf_print_manual(const struct sysconf_options *o, FILE *f);
