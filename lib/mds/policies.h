/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Answers behind the OS Login policy switches (doc/oslogin-policies.md):
 * the trusted certificate authorities (oslogin/certificates) and the
 * security keys of a profile (users?username=…&view=securityKey).
 * Every key returned is one bare, checked public key line ("TYPE BASE64
 * [COMMENT]") that can go into sshd's TrustedUserCAKeys file or an
 * AuthorizedKeysCommand answer; entries that are not are dropped and
 * counted. -EBADMSG when the answer itself is malformed. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"

#define OSLOGIN_MAX_CAS 64
#define OSLOGIN_MAX_SECURITY_KEYS 64

struct oslogin_key_list {
        char **keys; /* NULL-terminated; never NULL after a successful parse */
        size_t n_keys;
        size_t n_rejected; /* entries dropped: not an object, no publicKey, bad or wrong-typed key */
};

void oslogin_key_list_done(struct oslogin_key_list *l);

/* {"trustedCertificateAuthorities": [{"publicKey": "ssh-ed25519 AAAA... ca"}]}.
 * A missing list is an empty one (no CA: every certificate is refused);
 * certificate types (…-cert-v01@openssh.com) are no CA keys. */
int oslogin_certificates_parse(const char *json, size_t size, struct oslogin_key_list *ret);

/* The first login profile's "securityKeys": [{"publicKey": …}], keeping only
 * sk-ecdsa-sha2-nistp256@openssh.com and sk-ssh-ed25519@openssh.com keys.
 * A profile without the member has none. Other members of an entry
 * (handles, nicknames) are never read. */
int oslogin_security_keys_parse(const char *json, size_t size, struct oslogin_key_list *ret);

/* Whether TYPE is one of the two security key types a profile may hold. */
bool ssh_key_type_is_security_key(const char *type);
