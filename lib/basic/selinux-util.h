/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Files we replace keep their SELinux label. A replacement is a new inode
 * (a temp renamed over the old file), which would otherwise get its
 * directory's label: /etc/shadow would become etc_t, authorized_keys
 * user_home_t. Before creating the temp, the thread's file creation
 * context is set to the label of the file being replaced (or, for a new
 * file, the policy's label for its path) and reset afterwards.
 *
 * libselinux is loaded with dlopen("libselinux.so.1") on first use, so
 * nothing links against it: where it is missing, or SELinux is disabled,
 * every call is a no-op. */

#include <stdbool.h>
#include <sys/types.h>

/* The libselinux functions used (their signatures, without its headers). */
struct selinux_ops {
        int (*is_selinux_enabled)(void);
        int (*security_getenforce)(void);
        int (*lgetfilecon)(const char *path, char **con);
        int (*setfscreatecon)(const char *con);
        void (*freecon)(char *con);
        void *(*selabel_open)(unsigned backend, const void *opts, unsigned nopts);
        int (*selabel_lookup)(void *handle, char **con, const char *key, int type);
};

/* Whether labels are handled (libselinux loaded and SELinux enabled). */
bool selinux_labels_enabled(void);

/* Before creating a file that will replace DIR_FD/NAME (MODE: S_IFREG |
 * permissions): sets this thread's file creation context. 1 when set
 * (call selinux_create_label_end() once the file is created), 0 when there
 * is nothing to do. When the label cannot be found or set: -errno if
 * SELinux is enforcing (a wrongly labelled /etc/shadow is worse than no
 * write), 0 if permissive. */
int selinux_create_label_begin(int dir_fd, const char *name, mode_t mode);
void selinux_create_label_end(void);

/* Tests: use OPS instead of libselinux (NULL: back to dlopen). */
void selinux_util_set_ops(const struct selinux_ops *ops);
