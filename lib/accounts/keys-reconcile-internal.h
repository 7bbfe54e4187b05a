/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Between the reconcile pass (keys-reconcile.c) and one user's account
 * (keys-reconcile-provision.c). */

#include "accounts/etc-db.h"
#include "accounts/keys-reconcile.h"
#include "accounts/managed-users.h"
#include "accounts/uid-map.h"

/* A user the effective keys name, with its authorized_keys lines. */
struct wanted_user {
        const char *name;
        char **keylines;
};

/* Owners of the homes under home_base, scanned on the first UID allocation
 * of a pass (*HOMES NULL until then). */
struct home_owner;
void reconcile_free_homes(struct home_owner *h);

/* W gets its account (existing: kept and managed; else created), its UID in
 * MAP, google-sudoers and the configured groups. 0 also when W is refused
 * (counted in RES). Expiry records to forget after the commit go to
 * *FORGET_EXPIRED. */
int reconcile_provision(const struct reconcile_options *o, struct etc_db *db, struct uid_map *map,
        struct home_owner **homes, struct managed_users *m, const struct wanted_user *w,
        char ***forget_expired, struct reconcile_result *res);
/* NAME's keys left metadata: the memberships we gave go, and an account we
 * created is expired (or removed, with deprovision_remove). */
int reconcile_deprovision(const struct reconcile_options *o, struct etc_db *db, struct managed_users *m,
        const char *name, struct reconcile_result *res);
/* Deletes NAME's account (logged, counted in RES). */
int reconcile_remove_account(struct etc_db *db, const char *name, struct reconcile_result *res);
/* ROOT/etc/sudoers.d/google_sudoers, the rule for google-sudoers, when missing. */
int reconcile_ensure_sudoers_file(const char *root);
