/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Copies a decoded record into the caller's struct and buffer, the NSS way:
 * the needed size is computed first and -ERANGE returned before anything is
 * written, so glibc can retry with a bigger buffer. */

#include <grp.h>
#include <stdbool.h>
#include <pwd.h>

#include "basic/cache-record.h"

/* pw_passwd is "*": OS Login accounts never have a password. */
int pack_passwd(const struct passwd_record *rec, struct passwd *pwd, char *buf, size_t buflen);
/* gr_passwd is "*" too (no group password, no gshadow entry); gr_mem is an
 * aligned, NULL-terminated array inside BUF, never NULL. The filtered
 * variant leaves out the members SKIP_MEMBER returns true for. */
int pack_group(const struct group_record *rec, struct group *grp, char *buf, size_t buflen);
int pack_group_filtered(const struct group_record *rec, struct group *grp, char *buf, size_t buflen,
        bool (*skip_member)(struct span member, void *userdata), void *userdata);
