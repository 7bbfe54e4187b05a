/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Taking a host over from Google's guest environment (google-guest-agent
 * and guest-oslogin). What they leave behind is specified, with their
 * source files, in doc/guest-environment.md.
 *
 * The text filters return a copy of a configuration file without their
 * lines; our own marked block is never touched. sysconf applies them to
 * sshd_config, /etc/pam.d/sshd and nsswitch.conf inside its transaction,
 * so removing the agent's lines and adding ours is one change.
 * takeover_files() removes the rest: sudo includes and grants, per-user
 * sshd snippets, NSS caches, their lines in /etc/pam.d/su and
 * /etc/security/group.conf. Every removal is logged and backed up first
 * under ROOT/var/lib/oslogin/guest-environment/PATH (the first backup of a
 * path is kept). */

#include <stdbool.h>
#include <stddef.h>

#define TAKEOVER_BACKUP_DIR OSLOGIN_STATE_DIR "/guest-environment"

enum takeover_kind {
        TAKEOVER_SSHD,     /* sshd_config */
        TAKEOVER_PAM,      /* a PAM service file */
        TAKEOVER_NSSWITCH, /* nsswitch.conf */
        TAKEOVER_GROUP,    /* /etc/security/group.conf */
};

struct takeover_removed {
        unsigned lines;
        char first[160]; /* the first removed line that is not a marker, for the log */
};

/* TEXT without the guest environment's lines (a copy; NULL on ENOMEM). */
char *takeover_filter(enum takeover_kind kind, const char *text, struct takeover_removed *ret);

/* Copies DATA to ROOT/var/lib/oslogin/guest-environment/PATH (mode 0600),
 * unless a backup of PATH is there already. */
int takeover_backup(const char *root, const char *path, const char *data, size_t size);

/* Removes the files listed above. MANAGE_HOST_CONFIG false: PAM and
 * group.conf are left alone, the sudo grants and caches still go. The
 * number of items removed, or -errno for the first failure (the rest is
 * still tried). */
int takeover_files(const char *root, bool manage_host_config);
/* Whether anything takeover_files() or the filters would remove is there
 * (cheap: a few reads). */
bool takeover_pending(const char *root, bool manage_host_config);

/* The agent's own switch: [Daemons] accounts_daemon = false in
 * ROOT/etc/default/instance_configs.cfg, when the agent is installed. The
 * first time, the previous state goes to ROOT/var/lib/oslogin/guest-agent.restore
 * (file=existed|created, accounts_daemon=VALUE|unset) for the purge to put
 * back. 1 when changed, 0 when nothing to do, -errno. */
#define TAKEOVER_RESTORE_FILE "guest-agent.restore"
int takeover_agent_switch_off(const char *root);

/* [Accounts] of the agent's configuration (built-in defaults excluded),
 * for keys oslogin.conf leaves unset. */
struct agent_accounts {
        bool has_groups, has_deprovision_remove, has_reuse_homedir;
        char **groups;
        bool deprovision_remove, reuse_homedir;
};
int takeover_agent_accounts(const char *root, struct agent_accounts *ret);
void agent_accounts_done(struct agent_accounts *a);
