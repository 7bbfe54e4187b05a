/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The NSS miss socket, RUNTIME_DIR/nss.sock, mode 0666: any process may
 * ask, the protocol (basic/nss-proto.h) only answers lookups. Served in
 * the event loop without blocking (conn.h): each connection reads one size-bounded
 * request within NSS_SERVER_READ_TIMEOUT_MS (a slow or silent client only
 * holds its own slot), gets its answer from directory.c (now, or when the
 * metadata server has answered), and is closed after the reply. A
 * malformed request closes the connection without an answer. At most
 * [broker] max_connections at once, and [broker] per_uid_connections per
 * peer UID (broker-peers.h): one local user flooding misses only fills
 * its own slots, never another user's; more are closed at accept (the
 * module then answers UNAVAIL). The socket is systemd's when the daemon
 * is socket-activated. */

#include "accountsd/context.h"

struct directory;
struct nss_server;

#define NSS_SERVER_READ_TIMEOUT_MS 1000u
#define NSS_SERVER_CONNECTION_TIMEOUT_MS 10000u

/* Misses are asked of DIRECTORY (directory.h). */
int nss_server_new(const struct daemon_context *ctx, struct directory *directory, struct nss_server **ret);
void nss_server_free(struct nss_server *s);
/* Stopping: no new connection is accepted (they wait in the backlog). */
void nss_server_stop_accepting(struct nss_server *s);
/* Connections open now. */
unsigned nss_server_open(const struct nss_server *s);
/* After SIGHUP: the connection limits follow the configuration. */
void nss_server_reconfigure(struct nss_server *s);
