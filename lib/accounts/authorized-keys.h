/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* ~/.ssh/authorized_keys of metadata users, written as root in a directory
 * the user controls: every step is an openat() with O_NOFOLLOW from a
 * descriptor of the home directory, owner and mode are set on descriptors,
 * and a file that is not a plain regular file of the user's (a symlink, a
 * hard link to someone else's file, a FIFO) is refused, never read or
 * written through.
 *
 * The marker scheme is the reference agent's: each managed key is the line
 * after a "# Added by Google" line; the user's own lines are kept in order
 * and the managed pairs go last. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/strmap.h"

#define GOOGLE_KEY_MARKER "# Added by Google"

/* The new content for EXISTING (NULL: no file) with KEYLINES (NULL-
 * terminated, may be NULL or empty) as the managed part. */
char *authorized_keys_merge(const char *existing, char *const *keylines);

/* Makes the managed part of HOME/.ssh/authorized_keys (HOME under ROOT)
 * equal KEYLINES, creating .ssh (0700) and the file (0600) owned by
 * UID:GID. Returns 1 when the file changed, 0 when not (or nothing to
 * remove), -ELOOP when a symlink is in the way, -EMLINK for a hard link,
 * -EBADFD for something other than a regular file, -EPERM when the file
 * belongs to someone else. */
int authorized_keys_write(const char *root, const char *home, uid_t uid, gid_t gid, char *const *keylines);
/* Makes what authorized_keys_write() and home_create() wrote durable: one
 * syncfs() of the file system holding ROOT+HOME_BASE instead of two fsyncs
 * per file (1 000 new users: 2 000 fsyncs). */
int authorized_keys_sync(const char *root, const char *home_base);

/* What each authorized_keys held when we last wrote or checked it
 * (ROOT/var/lib/oslogin/keys): an unchanged reconcile then costs one lstat
 * per user instead of a walk, a read and a compare. Any change to the file
 * (content, inode, a symlink in its place) makes the stat differ and the
 * file is checked again. */
struct keys_seen {
        char *name;
        uint64_t digest;
        uint64_t ino, size, mtime_ns;
};

struct keys_cache {
        struct keys_seen *e;
        size_t n;
        struct strmap index; /* name -> position in e */
        bool changed;
};

int keys_cache_load(const char *root, struct keys_cache *ret);
int keys_cache_save(const char *root, struct keys_cache *c);
void keys_cache_done(struct keys_cache *c);
bool keys_cache_unchanged(
        struct keys_cache *c, const char *root, const char *name, const char *home, char **keylines);
/* Records the file as it is now (KEYLINES NULL or no file: forgets NAME). */
void keys_cache_remember(
        struct keys_cache *c, const char *root, const char *name, const char *home, char **keylines);
