/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What every edit of a host configuration file shares: the markers of our
 * block, and replacing a file in place. Below both sysconf (activation)
 * and takeover (the guest environment's lines and files), which use it. */

#define BLOCK_BEGIN "# BEGIN oslogin (managed by osloginctl; do not edit)"
#define BLOCK_END "# END oslogin"

/* NAME in DIR_FD replaced atomically by CONTENT, keeping its mode and
 * owner (0644 root:root for a new file). */
int config_file_replace(int dir_fd, const char *name, const char *content);
/* TEXT without any block of ours (sshd_config may hold a second one at
 * its end); NULL on ENOMEM. */
char *config_file_without_block(const char *text);
