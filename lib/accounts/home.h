/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Home directories of metadata users. */

#include <sys/types.h>

/* Creates HOME (an absolute path, under ROOT) from ROOT/etc/skel if it does
 * not exist: the tree is built in a ".#NAME.new" directory next to it,
 * owned by UID:GID, and renamed into place, so a crash never leaves a
 * half-copied or root-owned home (the next call removes the leftover; one
 * writer at a time, as the daemon is). Symlinks in skel are copied as symlinks,
 * never followed; no path component of HOME may be a symlink. 1 when
 * created, 0 when something named HOME already exists. */
int home_create(const char *root, const char *home, uid_t uid, gid_t gid);
