/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Validators for every string that can reach a passwd/group line, a path or
 * a file name. Input from the network, metadata or a socket must pass these
 * before it is used. libc only: the NSS module uses them too. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define USER_NAME_MAX 32
#define GECOS_MAX 256
#define OSLOGIN_UID_FLOOR_DEFAULT 1000u

/* [A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}; not ".", "..", nor all digits (a
 * numeric name would be read back as a UID by chown, id and friends). */
bool valid_user_name(const char *name);
/* Same rules as user names. */
bool valid_group_name(const char *name);
/* No ':', no control characters (newline included), at most GECOS_MAX bytes.
 * Commas are allowed: they separate GECOS subfields. */
bool valid_gecos(const char *gecos);
/* Absolute, normalised (no "//", ".", ".." components, no trailing '/'
 * except "/" itself), no ':' or control characters, below PATH_MAX. */
bool valid_home(const char *path);
/* An absolute path with the same character rules as valid_home(). */
bool valid_shell(const char *path);
/* A UID or GID from outside: not 0, not below FLOOR, not the overflow id
 * 65534 (nobody) nor (uid_t)-1. */
bool valid_network_uid(uint64_t uid, uint32_t floor);
/* An e-mail address as OS Login uses them: printable ASCII, one '@', no
 * whitespace, at most 254 bytes. */
bool valid_email(const char *email);
/* A sudo rule for the oslogin.conf key sudo_rule: one line of printable
 * text without '\\' (no continuation line), what may follow "#UID " in a
 * sudoers drop-in. visudo still checks the whole file. */
bool valid_sudo_rule(const char *rule);
