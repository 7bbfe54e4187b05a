/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Home directories and ~/.ssh/authorized_keys of metadata users, written
 * as root on behalf of users who may plant symlinks: every step is an
 * openat() with O_NOFOLLOW from a directory descriptor, ownership and mode
 * are set on descriptors. */

#include <stdbool.h>
#include <sys/types.h>

#define GOOGLE_KEY_MARKER "# Added by Google"

/* Creates HOME (under ROOT) from ROOT/etc/skel if it does not exist. */
int home_create(const char *root, const char *home, uid_t uid, gid_t gid);

/* Makes the managed part of ~/.ssh/authorized_keys equal KEYLINES (NULL-
 * terminated, may be empty): lines the user wrote are kept in order, each
 * managed key follows a "# Added by Google" line and comes last. Returns 1
 * when the file changed, 0 when not, -ELOOP when a symlink is in the way. */
int home_write_authorized_keys(const char *root, const char *home, uid_t uid, gid_t gid, char *const *keylines);

/* The new content for EXISTING (NULL: no file) with KEYLINES managed. */
char *authorized_keys_merge(const char *existing, char *const *keylines);
