/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The module's second layer: never answer a name or id the host already
 * has. accountsd leaves such directory entries out of the cache and of its
 * answers (accountsd/directory-local.h); the module checks again, so a
 * stale cache, one written behind the daemon's back or a daemon bug never
 * makes getgrgid() answer "sudo" for a directory GID, nor gives a local
 * UID a second name.
 *
 * The host's accounts are ROOT/etc/passwd and ROOT/etc/group read as files,
 * never through NSS (basic/local-db-watch.h): loaded on the first answer a
 * process gives; then, as for the cache file, at most every
 * CACHE_CHECK_INTERVAL_MS one stat() per file, and a reload when either
 * changed. So a name made local less than that long ago may still be
 * answered once by a process that looked just before (the cache file has
 * the same delay).
 * Thread-safe: one mutex, taken inside an enumeration's and never around
 * another lock; fork() takes it last (lookup_register_inner_lock()). */

#include <grp.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/cache-reader.h"
#include "basic/nss-proto.h"

/* Whether a user (NAME or UID) or group (NAME or GID) found in the cache or
 * answered by accountsd is the host's own: 1 local (answer NOTFOUND), 0
 * not, -errno when the host's files cannot be read (answer UNAVAIL: the
 * module cannot vouch for it). */
int local_check_user(struct span name, uint32_t uid);
int local_check_group(struct span name, uint32_t gid);
/* Whether NAME is a local user's (the same answers): its directory
 * memberships are not answered, they were meant for a directory user. */
int local_check_user_name(const char *name);

/* pack_group() without the members that are local users' names (a
 * directory membership must not match sudo's %group rules for a local
 * account): 0, -ERANGE, or -errno when the host's files cannot be read. */
int local_pack_group(const struct group_record *rec, struct group *grp, char *buf, size_t buflen);

/* Removes from GIDS (N entries) every GID that is a local group's, or
 * whose group in MAP (may be NULL) has a local group's name. The new
 * count, or -errno. */
int local_filter_gids(const struct cache_map *map, uint32_t *gids, size_t n);
