/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The host configuration OS Login needs, switched on and off as a whole:
 * - nsswitch.conf: " oslogin" appended to passwd:, group: (and
 *   initgroups: if present), other sources untouched;
 * - sshd: a drop-in /etc/ssh/sshd_config.d/00-oslogin.conf when
 *   sshd_config includes that directory (sshd takes the first value of a
 *   keyword, so the name sorts first), else a marked block at the top of
 *   sshd_config, validated with `sshd -t` and rolled back if it fails.
 * Every edit is atomic and idempotent; deactivate restores what was there
 * (the lines we appended to are recorded in /var/lib/oslogin). */

#include <stdbool.h>

struct sysconf_options {
        const char *root;      /* "/" in production */
        const char *akc_path;  /* the AuthorizedKeysCommand */
        const char *akc_user;
        const char *sshd_path; /* for `sshd -t`; NULL: skip validation */
        bool reload_sshd;
};

struct sysconf_status {
        bool nsswitch;
        bool sshd;
};

void sysconf_options_default(struct sysconf_options *o);
int sysconf_activate(const struct sysconf_options *o);
int sysconf_deactivate(const struct sysconf_options *o);
int sysconf_get_status(const struct sysconf_options *o, struct sysconf_status *ret);
