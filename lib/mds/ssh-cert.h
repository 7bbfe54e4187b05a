/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The OS Login fingerprint of an OpenSSH user certificate
 * (doc/oslogin-policies.md): what the principals decision sends as
 * authorize?…&fingerprint=. The certificate is what sshd hands its
 * AuthorizedPrincipalsCommand as %k (base64 blob) — sshd has checked its
 * signature and validity already; this only walks the format
 * (PROTOCOL.certkeys) with bounds checks, no trailing bytes allowed. */

#include <stddef.h>

#define SSH_CERT_MAX 12288u /* base64 characters, as BROKER_CERTIFICATE_MAX */
#define SSH_CERT_FINGERPRINT_MAX 256u

/* CERT: the base64 blob, or a whole "TYPE BASE64 [COMMENT]" line. The
 * fingerprint is taken from an extension named "fingerprint@google.com=<FP>"
 * (empty data, as OS Login's CA writes it) or named "fingerprint@google.com"
 * with <FP> as its data (a string, as OpenSSH nests extension values).
 * <FP> is 1..SSH_CERT_FINGERPRINT_MAX characters of [A-Za-z0-9._:+/=-].
 * 0: *RET (malloc'd); -ENOENT: a user certificate without it; -EBADMSG: not
 * a user certificate, malformed, or two different fingerprints. */
int ssh_cert_fingerprint(const char *cert, char **ret);
