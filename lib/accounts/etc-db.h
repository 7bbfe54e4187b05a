/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* /etc/passwd, shadow, group and gshadow as one transaction.
 *
 * Reading: the four files are loaded as lines and indexed by entry name;
 * lines we do not touch are written back byte for byte, comments and odd
 * entries included. (glibc's fgetpwent_r() and friends would skip those
 * lines, and a rewrite would silently drop them, so they are used to check
 * our output in the tests instead.) Writing: entries we add are formatted
 * by glibc's putpwent/putspent/putgrent/putsgent; a membership change
 * edits only the member field of its line.
 *
 * Commit (etc-db-commit.c) takes the shadow-utils lock (ROOT/etc/.pwd.lock,
 * an OFD lock that excludes lckpwdf() users both ways without lckpwdf()'s
 * process-wide alarm(); at most 15 s, then -ETIMEDOUT, logged), returns
 * -EAGAIN if any file changed since load (the caller starts over),
 * removes temps of a killed writer, writes a "NAME-" backup and a synced
 * temp (owner and mode of the original) for each changed file, then renames
 * them back to back, group files before passwd files. A kill -9 at any
 * moment leaves each file old or new, never torn; nothing is written when
 * nothing changed. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/macro.h"

enum etc_file { ETC_PASSWD, ETC_SHADOW, ETC_GROUP, ETC_GSHADOW, _ETC_FILE_MAX };

struct etc_db;

/* ROOT: "" or "/" for the real system, else a directory holding etc/. */
int etc_db_load(const char *root, struct etc_db **ret);
void etc_db_free(struct etc_db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct etc_db *, etc_db_free);
bool etc_db_changed(const struct etc_db *db);
/* Writes the changed files; 0 when nothing changed. */
int etc_db_commit(struct etc_db *db);

/* Lookups: 0 and the ids, or -ENOENT. */
int etc_db_get_user(
        const struct etc_db *db, const char *name, uid_t *ret_uid, gid_t *ret_gid, char **ret_home);
int etc_db_get_group(const struct etc_db *db, const char *name, gid_t *ret_gid);
bool etc_db_uid_used(const struct etc_db *db, uid_t uid);
bool etc_db_gid_used(const struct etc_db *db, gid_t gid);

/* Adds NAME with a private group of the same name (GID = GID), password
 * "*" (locked for passwords, keys still work). A shadow line of NAME left
 * without its passwd line (and a gshadow line without its group line) is
 * replaced, never reused: it holds someone's old password hash. */
int etc_db_add_user(struct etc_db *db, const char *name, uid_t uid, gid_t gid, const char *gecos,
        const char *home, const char *shell);
/* Removes the user, its private group (if it has no other member) and its
 * membership everywhere. */
int etc_db_remove_user(struct etc_db *db, const char *name);
int etc_db_add_group(struct etc_db *db, const char *name, gid_t gid);
/* The account expiry of NAME's shadow entry, in days since the epoch (-1:
 * none); sshd's account check (pam_unix, or its own) refuses an account
 * past it whatever key opens it. -ENOENT without a shadow line. Set returns
 * 1 when the line changed (rewritten by putspent), 0 when it already was so. */
int etc_db_get_expire(const struct etc_db *db, const char *name, long *ret_days);
int etc_db_set_expire(struct etc_db *db, const char *name, long days);
/* Adds or removes USER in GROUP's member list (group and gshadow). */
int etc_db_set_member(struct etc_db *db, const char *group, const char *user, bool member);
bool etc_db_is_member(const struct etc_db *db, const char *group, const char *user);
