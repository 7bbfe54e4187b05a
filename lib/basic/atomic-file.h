/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Files that matter are replaced atomically: a temp ".#NAME-XXXXXX" in the
 * same directory (O_EXCL|O_NOFOLLOW|O_CLOEXEC), owner and mode set on the
 * descriptor, fsync, rename over NAME, fsync of the directory. Readers see
 * the old file or the new one, never a torn one; a crash leaves at most a
 * stray temp. Paths are walked with openat() and never through a symlink. */

#include <stdio.h>
#include <sys/types.h>

#include "basic/macro.h"

struct atomic_file {
        int dir_fd; /* borrowed */
        char *name;
        char *temp_name;
        FILE *f; /* write the new content here */
};

/* UID/GID (uid_t)-1 / (gid_t)-1: leave as created. NAME is one path component. */
int atomic_file_begin(
        int dir_fd, const char *name, mode_t mode, uid_t uid, gid_t gid, struct atomic_file *ret);
int atomic_file_commit(struct atomic_file *af);
/* The two halves of commit, for replacing several files with the renames
 * back to back: atomic_file_sync() flushes and fsyncs the temp (it stays
 * open and is still removed by abort); atomic_file_rename() then only
 * renames it over NAME. The caller fsyncs the directory once afterwards. */
int atomic_file_sync(struct atomic_file *af);
int atomic_file_rename(struct atomic_file *af);
/* Unlinks the temp unless committed; safe to call twice and after commit. */
void atomic_file_abort(struct atomic_file *af);
#define _cleanup_atomic_file_ _cleanup_(atomic_file_abort)

int write_file_atomic(
        int dir_fd, const char *name, const void *data, size_t size, mode_t mode, uid_t uid, gid_t gid);

/* Opens directory PATH (relative to DIR_FD, or absolute) refusing a symlink
 * in any component. FLAGS are added to O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC. */
int open_dir_nofollow(int dir_fd, const char *path, int flags);

/* Removes the temps (".#NAME-XXXXXX") a killed writer of NAME left in
 * DIR_FD; only for a file that one process writes (a second writer's temp
 * would go too). The number removed, or -errno. */
int atomic_file_remove_stale(int dir_fd, const char *name);

/* Reads NAME (no symlink followed) if it is a regular file of at most MAX
 * bytes; the result is NUL-terminated. -EFBIG when larger, -EBADFD when not
 * a regular file (a FIFO planted there does not block the caller). */
int read_file_bounded(int dir_fd, const char *name, size_t max, char **ret_data, size_t *ret_size);
