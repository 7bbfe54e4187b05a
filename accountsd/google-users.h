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
 * lists users it added with useradd), so it counts as created. */

#include <stdbool.h>

#include "basic/strmap.h"

struct managed_users {
        char **names;   /* in file order, then in order of adding */
        char **created; /* the subset of names we (or the reference agent) created */
        size_t n_names, n_created; /* lengths, so adding is not a scan */
        struct strmap names_index, created_index;
        bool changed;
};

int managed_users_load(const char *root, struct managed_users *ret);
void managed_users_done(struct managed_users *m);
bool managed_users_has(const struct managed_users *m, const char *name);
bool managed_users_created(const struct managed_users *m, const char *name);
int managed_users_add(struct managed_users *m, const char *name, bool created);
void managed_users_remove(struct managed_users *m, const char *name);
/* Writes both files when something changed since load or the last save. */
int managed_users_save(const char *root, struct managed_users *m);

/* Small state files under ROOT+DIR (created with parents, no symlink
 * followed at the end): one string a line. Missing file: empty list. */
int state_read_lines(const char *root, const char *dir, const char *file, char ***ret);
int state_write_lines(const char *root, const char *dir, const char *file, char **lines);
