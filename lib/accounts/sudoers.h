/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Sudo rights for OS Login admins: one drop-in per admin in
 * ROOT/var/lib/oslogin/sudoers.d/, included from ROOT/etc/sudoers.d/oslogin
 * by #includedir. Each file is validated with `visudo -cf` before it is
 * renamed into place, so a bad rule or a full disk never leaves an empty,
 * half-written or invalid sudoers file. sudo ignores #includedir files whose
 * names contain '.' or end in '~', so names are encoded (sudoers_file_name).
 * The rule inside names the admin by UID ("#200004 ALL=..."): no name from
 * the network ever appears in a sudoers line. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUDOERS_DROPIN_DIR OSLOGIN_STATE_DIR "/sudoers.d"
#define SUDOERS_DEFAULT_RULE "ALL=(ALL:ALL) NOPASSWD:ALL"

/* "first.last" → "first_2elast"; '_' itself becomes "__" so the mapping is
 * injective. -EINVAL for an invalid user name. */
int sudoers_file_name(const char *user, char **ret);
int sudoers_user_from_file_name(const char *file, char **ret);

/* ROOT: "/" in production. VISUDO: path of visudo (NULL: /usr/sbin/visudo).
 * Returns 1 when written, 0 when already so, -errno on failure. */
int sudoers_grant(const char *root, const char *visudo, const char *user, uint32_t uid, const char *rule);
/* The UID USER's drop-in grants: 0 and *RET_UID, -ENOENT when there is no
 * drop-in, -EBADMSG when it is not one of ours. */
int sudoers_granted_uid(const char *root, const char *user, uint32_t *ret_uid);
/* 1 when removed, 0 when there was nothing. */
int sudoers_revoke(const char *root, const char *user);
/* The users holding a drop-in, NULL-terminated. */
int sudoers_list(const char *root, char ***ret);
int sudoers_ensure_include(const char *root, const char *visudo);
