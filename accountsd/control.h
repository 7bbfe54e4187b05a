/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The control socket for osloginctl: RUNTIME_DIR/control.sock, mode 0600,
 * and the peer must be root (SO_PEERCRED) as well. One text command per
 * connection, one line, at most CONTROL_REQUEST_MAX bytes:
 *   "status"   → "key: value" lines (mode, metadata, cache, errors)
 *   "refresh"  → re-fetch the metadata now and rebuild the directory;
 *                the reply comes when the build has finished:
 *                "ok" or "error: REASON"
 * Anything else → "error: unknown command". */

#include <stdio.h>

#include "accountsd/manager.h"

#define CONTROL_REQUEST_MAX 64u
#define CONTROL_TIMEOUT_MS 1000u
#define CONTROL_REFRESH_TIMEOUT_MS 120000u

int control_server_new(struct manager *m, struct control_server **ret);
void control_server_free(struct control_server *s);
/* directory.c: a full build ended with R; answers waiting refreshes. */
void control_build_finished(struct control_server *s, int r);

/* Client side (osloginctl): sends COMMAND to RUNTIME_DIR/control.sock,
 * returns the reply text. */
int control_query(const char *runtime_dir, const char *command, unsigned timeout_ms, char **ret_reply);
