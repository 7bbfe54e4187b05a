/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the parts of sysconf (nsswitch and sshd in sysconf.c, PAM in
 * sysconf-pam.c). */

#include <stdbool.h>

#include "accountsd/sysconf.h"

#define BLOCK_BEGIN "# BEGIN oslogin (managed by osloginctl; do not edit)"
#define BLOCK_END "# END oslogin"
#define MAX_CONFIG_SIZE (1024u * 1024)

/* "" for "/", else the root, to prefix absolute paths with. */
const char *sysconf_prefix(const struct sysconf_options *o);
int sysconf_open_dir(const struct sysconf_options *o, const char *dir);
/* Atomically, keeping the original's mode and owner. */
int sysconf_replace_file(int dir_fd, const char *name, const char *content);
/* TEXT without our marked block (a copy; NULL on ENOMEM). */
char *sysconf_without_block(const char *text);

int sysconf_pam_apply(const struct sysconf_options *o, bool add);
bool sysconf_pam_active(const struct sysconf_options *o);
