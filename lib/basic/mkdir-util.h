/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/* mkdir -p PATH, then open it, following no symlink on the way: each
 * component is created (MODE for the last, PARENT_MODE for those above it;
 * the umask applies) or found, then opened with O_NOFOLLOW relative to the
 * one before, so nothing is ever created through a symlink. An absolute PATH
 * starts at "/", a relative one at DIR_FD (AT_FDCWD or a directory). Existing
 * directories keep their modes and owners.
 *
 * Returns an O_DIRECTORY|O_CLOEXEC descriptor, or -errno: -ELOOP where a
 * component is a symlink or not a directory (as open_dir_nofollow()),
 * -EINVAL for an empty PATH or a ".." component. On failure the components
 * already made stay. */
int mkdir_p_open(int dir_fd, const char *path, mode_t parent_mode, mode_t mode);
