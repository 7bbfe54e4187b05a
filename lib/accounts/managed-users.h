/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Which local accounts the metadata keys manage, and which of them we
 * created (only those may ever be deleted):
 *   ROOT/var/lib/oslogin/users        "NAME created" or "NAME existing"
 *   ROOT/var/lib/google/google_users  one NAME a line: the reference agent's
 *                                     file, read so an existing VM migrates
 *                                     losslessly and written back so it can
 *                                     migrate back.
 * A name only in google_users was created by the reference agent (it only
 * lists users it added with useradd), so it counts as created.
 *
 * What deprovisioning must undo, kept after the name leaves the lists above:
 *   ROOT/var/lib/oslogin/groups       "NAME GROUP": a membership we gave
 *                                     (google-sudoers is not listed: every
 *                                     membership of it is ours)
 *   ROOT/var/lib/oslogin/expired      "NAME DAYS": an account we expired at
 *                                     deprovisioning and the expiry it had
 *                                     before (-1: none), put back when the
 *                                     user returns */

#include <stdbool.h>

#include "basic/strmap.h"

/* Lines of a small state file by key: index value = position + 1. A
 * forgotten line becomes "" (strmap has no removal) and is not saved. */
struct state_records {
        char **lines;
        size_t n;
        struct strmap index;
};

struct managed_users {
        char **names;              /* in file order, then in order of adding */
        char **created;            /* the subset of names we (or the reference agent) created */
        size_t n_names, n_created; /* lengths, so adding is not a scan */
        struct strmap names_index, created_index;
        struct state_records given, expired;
        bool changed;
};

int managed_users_load(const char *root, struct managed_users *ret);
void managed_users_done(struct managed_users *m);
bool managed_users_has(const struct managed_users *m, const char *name);
bool managed_users_created(const struct managed_users *m, const char *name);
int managed_users_add(struct managed_users *m, const char *name, bool created);
void managed_users_remove(struct managed_users *m, const char *name);
/* Records a membership we gave (removed again at deprovisioning). */
int managed_users_give(struct managed_users *m, const char *name, const char *group);
/* The groups we gave NAME (a new strv). Forgotten only once the account
 * files no longer hold them (after the commit): a failed commit retries. */
int managed_users_list_given(const struct managed_users *m, const char *name, char ***ret);
void managed_users_forget_given(struct managed_users *m, const char *name);
/* Accounts we expired: true and the expiry they had before (-1: none). */
bool managed_users_expired(const struct managed_users *m, const char *name, long *ret_previous);
int managed_users_set_expired(struct managed_users *m, const char *name, long previous);
void managed_users_forget_expired(struct managed_users *m, const char *name);
/* The names of the accounts we expired (a new strv). */
int managed_users_list_expired(const struct managed_users *m, char ***ret);
/* Writes the files when something changed since load or the last save. */
int managed_users_save(const char *root, struct managed_users *m);

/* Small state files under ROOT+DIR (created with parents, no symlink
 * followed at the end): one string a line. Missing file: empty list. */
int state_read_lines(const char *root, const char *dir, const char *file, char ***ret);
int state_write_lines(const char *root, const char *dir, const char *file, char **lines);
