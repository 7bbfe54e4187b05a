/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The host's own accounts: the names and ids in ROOT/etc/passwd and
 * ROOT/etc/group, read as files (never through NSS: "local" must mean what
 * the administrator wrote there, and the NSS module itself uses this).
 *
 * Every name that comes from the cloud is checked against this before it
 * means anything on the host: a directory user or group whose name or id
 * is already local is left out, and a profile named like a local account
 * is refused by the key and account decisions.
 *
 * A snapshot is immutable once loaded; names are hashed, ids bisected, so a
 * directory build of 100 000 users checks them all against one snapshot.
 * Every line with a name counts, malformed or not: when in doubt, local. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"

struct local_db;

/* Reads ROOT/etc/passwd and ROOT/etc/group ("/" in production). A missing
 * file counts as empty; an unreadable one is -errno (callers fail closed). */
int local_db_load(const char *root, struct local_db **ret);
void local_db_free(struct local_db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct local_db *, local_db_free);
#define _cleanup_local_db_ _cleanup_(local_db_freep)

bool local_db_has_user(const struct local_db *db, const char *name);
bool local_db_has_uid(const struct local_db *db, uint32_t uid);
bool local_db_has_group(const struct local_db *db, const char *name);
bool local_db_has_gid(const struct local_db *db, uint32_t gid);
/* The UID of local user NAME: 0 and *RET_UID, -ENOENT when not local,
 * -EBADMSG when its line has no readable UID (still local). */
int local_db_user_uid(const struct local_db *db, const char *name, uint32_t *ret_uid);
