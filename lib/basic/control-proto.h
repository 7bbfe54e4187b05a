/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What osloginctl and oslogin-accountsd agree on: the control protocol
 * and where the audit records are kept. (The other sockets' names are in
 * their protocols' headers, nss-proto.h and broker-proto.h.)
 *
 * The control socket: RUNTIME_DIR/control.sock, mode 0600, and the peer
 * must be root (SO_PEERCRED) as well. One text command per connection,
 * one line, at most CONTROL_REQUEST_MAX bytes:
 *   "status"   → "key: value" lines (mode, metadata, cache, errors)
 *   "refresh"  → re-fetch the metadata now and rebuild the directory;
 *                the reply comes when the build has finished:
 *                "ok" or "error: REASON"
 *   "refresh progress" → the same, with "progress: users=N groups=N
 *                pages=N" lines before it while the build runs (every
 *                CONTROL_PROGRESS_USEC at most, when the counts change)
 *   "audit"    → the login records in memory, one JSON object per line,
 *                oldest first (the schema: osloginctl(8), AUDIT RECORDS)
 * Anything else → "error: unknown command". */

#define CONTROL_SOCKET_NAME "control.sock"

#define CONTROL_REQUEST_MAX 64u
#define CONTROL_TIMEOUT_MS 1000u
#define CONTROL_REFRESH_TIMEOUT_MS 120000u
#define CONTROL_PROGRESS_USEC 250000u
/* The longest reply: the audit ring, AUDIT_RING_SIZE JSON lines. */
#define CONTROL_REPLY_MAX (1024u * 1024u)

/* Closed audit records, one JSON object per line, in AUDIT_DIR/audit.log
 * (rotated to audit.log.1 past AUDIT_FILE_MAX). Tests that run the daemon
 * keep /var/lib/oslogin private. */
#define AUDIT_FILE_MAX (4u * 1024u * 1024u)
#define AUDIT_FILE_NAME "audit.log"
#define AUDIT_DIR OSLOGIN_STATE_DIR
