/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* True for the host's own root: NULL, "" or a path of slashes only ("/"). */
bool path_is_host_root(const char *root);

/* The host path PATH as seen under ROOT, where the tools work on an image or
 * a test tree (--root DIR).
 *
 *   ROOT is the host's own root (path_is_host_root()): PATH itself.
 *   Otherwise: ROOT, then PATH, with exactly one '/' where they meet
 *   ("/tmp/x/" + "/etc" and "/tmp/x" + "etc" both give "/tmp/x/etc").
 *
 * Nothing is resolved: no symlink is followed and ".." stays as written;
 * callers open the result with O_NOFOLLOW where that matters. *RET (freed by
 * the caller) is written only on success. Returns 0, or -ENOMEM. */
int path_join_root(const char *root, const char *path, char **ret);
