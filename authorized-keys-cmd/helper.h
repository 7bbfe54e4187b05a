/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What oslogin-authorized-keys and oslogin-authorized-principals share:
 * one question to accountsd on keys.sock, the GRANTED lines printed on
 * stdout, an exit status sshd can trust. libc only (lib/basic).
 *
 * Exit status: 0 when the output is authoritative (the lines printed are
 * the answer; nothing printed means "no keys/principals from OS Login":
 * denied, unknown user, or a local account the host decides about);
 * 1 when it is not (accountsd unreachable, busy, refusing us, unable to
 * ask the metadata server, or answering nonsense): sshd then uses no key
 * from the command, and one LOG_AUTHPRIV line says why. */

#include "basic/broker-proto.h"

/* Test-only overrides, read with secure_getenv() (sshd runs the command
 * with a clean environment, so production never sees them). */
#define HELPER_SOCKET_ENV "OSLOGIN_KEYS_SOCKET"
#define HELPER_TIMEOUT_ENV "OSLOGIN_BROKER_TIMEOUT_MS"
/* accountsd answers within its own deadline ([authorized_keys] deadline,
 * 5 s by default, then UNAVAILABLE): ours only bounds a hung daemon. */
#define HELPER_TIMEOUT_MS_DEFAULT 7000u

/* True for an argument the protocol can carry: at most MAX bytes, no
 * control character (sshd's %f and %k never have one). */
bool helper_valid_argument(const char *s, size_t max);
/* Opens syslog as IDENT and ignores SIGPIPE; call first. */
void helper_setup(const char *ident);
/* Asks Q, prints the granted lines; the exit status. */
int helper_run(const struct broker_request *q);
