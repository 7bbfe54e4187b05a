/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The host configuration OS Login needs, switched on and off as a whole:
 * - nsswitch.conf: " oslogin" appended to passwd:, group: (and
 *   initgroups: if present), other sources untouched;
 * - sshd: a drop-in /etc/ssh/sshd_config.d/00-oslogin.conf when
 *   sshd_config includes that directory (sshd takes the first value of a
 *   keyword, so the name sorts first), else a marked block at the top of
 *   sshd_config, validated with `sshd -t` and rolled back if it fails;
 *   with two_factor, keyboard-interactive after the key
 *   (AuthenticationMethods publickey,keyboard-interactive);
 * - /etc/pam.d/sshd: a marked block at the top with pam_oslogin.so for
 *   account (and auth, with `twofactor` when two_factor), written only when
 *   the module is installed: a stack naming a missing module refuses
 *   everyone, local users too.
 * Every edit is atomic and idempotent; deactivate restores what was there
 * (the lines we appended to are recorded in /var/lib/oslogin). */

#include <stdbool.h>

struct sysconf_options {
        const char *root;     /* "/" in production */
        const char *akc_path; /* the AuthorizedKeysCommand */
        const char *akc_user;
        const char *sshd_path;  /* for `sshd -t`; NULL: skip validation */
        const char *pam_module; /* as named in the stack; relative: under OSLOGIN_PAMDIR */
        bool reload_sshd;
        bool two_factor; /* enable-oslogin-2fa */
};

struct sysconf_status {
        bool nsswitch;
        bool sshd;
        bool pam;
        bool two_factor;
};

void sysconf_options_default(struct sysconf_options *o);
int sysconf_activate(const struct sysconf_options *o);
int sysconf_deactivate(const struct sysconf_options *o);
int sysconf_get_status(const struct sysconf_options *o, struct sysconf_status *ret);
