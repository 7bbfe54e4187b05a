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
 * caller's to log); the daemon passes an empty set in OS Login mode and
 * with metadata_accounts = false. Per-user failures are counted in
 * ret->failed (retried at the next pass). < 0 when the pass could not
 * finish: the account files could not be committed, or the state files
 * under /var/lib could not be saved after them (accounts and keys may be
 * written already); RET is then not written, and the next pass does the
 * rest. An unchanged pass writes nothing. */
int keys_reconcile(
        const struct reconcile_options *o, const struct ssh_key_set *keys, struct reconcile_result *ret);
/* keys_reconcile() with no keys: every managed user loses its managed
 * keys, google-sudoers and the configured groups we joined it to; the
 * accounts we created are expired, or deleted with deprovision_remove.
 * (oslogin-reconcile uses it for an enable-oslogin document.) */
int keys_deprovision_all(const struct reconcile_options *o, struct reconcile_result *ret);
