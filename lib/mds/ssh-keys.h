/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Metadata `ssh-keys` lines ("USER:KEYLINE") and the effective key list.
 * Fail closed: a line is used only when the user name is valid, the key
 * type is known, the blob is valid base64 holding that same type, and a
 * `google-ssh {...}` comment (if any) carries a valid `expireOn`. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "mds/models.h"

struct ssh_key_line {
        char *user;
        char *keyline; /* options (if any), type, blob, comment: a complete authorized_keys line */
        char *type;
        uint64_t expire_usec; /* 0: never; microseconds since the epoch */
};

/* A line that gives no key, described so an administrator finds it:
 * never the whole line (it may hold anything), only its place and the
 * start of the key. */
struct ssh_key_rejection {
        char *user;         /* may be NULL when the line has no valid user part */
        const char *reason; /* static string */
        const char *source; /* "instance ssh-keys"... (static); NULL from ssh_keys_parse_text() */
        unsigned line;      /* 1-based, in its source */
        char *hint;         /* "TYPE AAAAC3Nz…": the key type and 8 bytes of the key, printable only */
};

struct ssh_key_set {
        struct ssh_key_line *keys;
        size_t n_keys;
        struct ssh_key_rejection *rejected;
        size_t n_rejected;
        struct ssh_key_rejection *expired; /* reason "expired": dropped, but logged by the caller */
        size_t n_expired;
};

/* Parses one line. 0: *ret filled; -ENODATA: blank line (skip quietly);
 * -EBADMSG: rejected, *ret_reason says why. */
int ssh_key_line_parse(const char *line, struct ssh_key_line *ret, const char **ret_reason);
void ssh_key_line_done(struct ssh_key_line *k);

/* RFC 3339 (Z, ±HH:MM, fractional seconds) or YYYY-MM-DDTHH:MM:SS±HHMM. */
int parse_expire_on(const char *s, uint64_t *ret_usec);

/* Whether TYPE is a key type OpenSSH accepts in authorized_keys. */
bool ssh_key_type_known(const char *type);

/* Checks a bare public key line "TYPE BASE64 [COMMENT]" (no options, no
 * control characters): a known type, strict base64 holding that same type.
 * 0 and the type in *RET_TYPE (may be NULL); -EBADMSG otherwise. */
int ssh_public_key_check(const char *line, char **ret_type);

/* Instance ssh-keys + sshKeys, plus project ssh-keys + sshKeys unless
 * block-project-ssh-keys is true or the instance has a non-empty sshKeys.
 * Expired keys are dropped (counted in n_expired). */
int ssh_keys_effective(const struct metadata_document *doc, uint64_t now_usec, struct ssh_key_set *ret);
/* Parses every line of TEXT into SET (appending). */
int ssh_keys_parse_text(const char *text, uint64_t now_usec, struct ssh_key_set *set);
void ssh_key_set_done(struct ssh_key_set *s);

/* "SHA256:<base64 without padding>" of the key blob, as ssh-keygen -l prints.
 * KEYLINE may carry options and a comment. */
int ssh_key_fingerprint(const char *keyline, char **ret);
