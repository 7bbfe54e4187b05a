/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The trust broker's sockets (protocol: basic/broker-proto.h):
 *   RUNTIME_DIR/keys.sock  0666  KEYS, PRINCIPALS        root or [authorized_keys] user
 *   RUNTIME_DIR/pam.sock   0600  ACCOUNT, AUTH_START,    root
 *                                AUTH_CONTINUE
 * The peer is checked with SO_PEERCRED on every connection (the file mode
 * is a first layer only). A kind sent to the wrong socket, or a peer the
 * socket does not serve, gets BROKER_REFUSED and the connection is closed;
 * each refused UID is logged once.
 *
 * Served from the event loop without blocking (conn.h): a connection
 * reads one bounded request within BROKER_READ_TIMEOUT_MS, its decision runs in a
 * worker thread (broker-decide.h) with the shared answers (broker-
 * answers.h) it may use, and the reply is written when it is done. At most
 * [broker] max_connections per socket, and [broker] per_uid_connections
 * per peer UID (broker-peers.h). Two-factor sessions stay in the daemon
 * (broker-sessions.h). */

#include <stdio.h>

#include "accountsd/context.h"

struct mode;
struct broker_server;

#define BROKER_READ_TIMEOUT_MS 1000u
/* The decision may wait for the metadata server: its deadline plus this. */
#define BROKER_DECISION_MARGIN_USEC (2ull * 1000000u)
/* Decisions waiting for a worker; more answer UNAVAILABLE at once. */
#define BROKER_QUEUED_MAX 64u

/* MODE (mode.h, may be NULL) gives the watched document's switches. */
int broker_server_new(const struct daemon_context *ctx, const struct mode *mode, struct broker_server **ret);
void broker_server_free(struct broker_server *s);
/* After SIGHUP: limits and TTLs follow the configuration; shared answers
 * are dropped (the metadata server may have changed). */
void broker_server_reconfigure(struct broker_server *s);
/* Stopping: no new connection is accepted (they wait in the backlog). */
void broker_server_stop_accepting(struct broker_server *s);
/* Connections open now. */
unsigned broker_server_open(const struct broker_server *s);
/* Status lines for osloginctl status. */
void broker_server_status(const struct broker_server *s, FILE *f);
