/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Metadata ssh-keys → local accounts: one pass that makes the host match
 * the effective key list. */

#include <stdbool.h>
#include <stdint.h>

#include "mds/ssh-keys.h"

#define GOOGLE_SUDOERS_GROUP "google-sudoers"

struct reconcile_options {
        const char *root;        /* "/" in production */
        char **extra_groups;     /* joined when they exist */
        bool deprovision_remove; /* delete accounts we created when their keys go */
        bool ignore_home_owner;  /* reuse_homedir = false: a surviving home's owner is not reused */
        uint32_t uid_min, uid_max;
        const char *home_base;
        const char *shell;
};

struct reconcile_result {
        unsigned created, removed, keys_written, failed, refused;
        uint64_t next_expiry_usec; /* earliest key expiry, 0: none */
};

/* KEYS: what ssh_keys_effective() produced (rejected lines are the
 * caller's to log). Per-user failures are counted in ret->failed (retry
 * later); < 0 only when nothing could be applied. An unchanged pass writes
 * nothing. */
int keys_reconcile(const struct reconcile_options *o, const struct ssh_key_set *keys,
                   struct reconcile_result *ret);
/* The switch to OS Login: every managed user loses its keys and sudo (and
 * with deprovision_remove, the accounts we created go). */
int keys_deprovision_all(const struct reconcile_options *o, struct reconcile_result *ret);
