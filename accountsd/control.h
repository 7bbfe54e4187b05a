/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The control socket for osloginctl: RUNTIME_DIR/control.sock, mode 0600,
 * and the peer must be root (SO_PEERCRED) as well. One text command per
 * connection, one line, at most CONTROL_REQUEST_MAX bytes:
 *   "status"   → "key: value" lines (mode, metadata, cache, errors)
 *   "refresh"  → re-fetch the metadata now and rebuild the directory;
 *                the reply comes when the build has finished:
 *                "ok" or "error: REASON"
 *   "refresh progress" → the same, with "progress: users=N groups=N
 *                pages=N" lines before it while the build runs (every
 *                CONTROL_PROGRESS_USEC at most, when the counts change)
 *   "audit"    → the login records in memory, one JSON object per line,
 *                oldest first (accountsd/audit.h)
 * Anything else → "error: unknown command". */

#include <stdio.h>

#include "accountsd/manager.h"

#define CONTROL_REQUEST_MAX 64u
#define CONTROL_TIMEOUT_MS 1000u
#define CONTROL_REFRESH_TIMEOUT_MS 120000u
#define CONTROL_PROGRESS_USEC 250000u

int control_server_new(struct manager *m, struct control_server **ret);
void control_server_free(struct control_server *s);
/* directory.c: a full build ended with R; answers waiting refreshes. */
void control_build_finished(struct control_server *s, int r);

/* Client side (osloginctl): sends COMMAND to RUNTIME_DIR/control.sock,
 * returns the reply text. */
int control_query(const char *runtime_dir, const char *command, unsigned timeout_ms, char **ret_reply);
/* The same; each "progress: …" line that comes before the reply goes to
 * CB (without its newline) and not into *RET_REPLY. */
typedef void (*control_progress_t)(const char *line, void *userdata);
int control_query_progress(const char *runtime_dir, const char *command, unsigned timeout_ms, control_progress_t cb,
                           void *userdata, char **ret_reply);
