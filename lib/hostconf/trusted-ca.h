/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* sshd's TrustedUserCAKeys file from the oslogin/certificates answer
 * (doc/oslogin-policies.md). A regular file replaced atomically, not the
 * agent's FIFO (a FIFO blocks sshd while no writer is there). A failed
 * fetch or a malformed answer leaves the file as it is: "could not fetch"
 * is not "no CA". An answer with no CA empties it (every certificate is
 * refused). */

#include <stdbool.h>
#include <stddef.h>

struct mds_client;

/* In the runtime directory (/run/oslogin): sshd's TrustedUserCAKeys. */
#define TRUSTED_CA_FILE_NAME "trusted-ca-keys.pub"

/* Parses JSON (the certificates answer) and writes one CA key per line to
 * DIR_FD/NAME (0644, owner root when run as root) unless it already holds
 * exactly that. The number of CA keys, or -EBADMSG (file untouched), or
 * another -errno. *RET_CHANGED (may be NULL) says whether it was written. */
int trusted_ca_update(int dir_fd, const char *name, const char *json, size_t size, bool *ret_changed);

/* GET oslogin/certificates, then trusted_ca_update(). Run by every full
 * directory build (at enable and at each refresh); a failed fetch
 * (including 404) leaves the file as it is. */
int trusted_ca_refresh(struct mds_client *c, int dir_fd, const char *name, bool *ret_changed);
