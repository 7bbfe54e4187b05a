/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One request and its reply per connection, on a listening stream socket
 * served from the sd-event loop without blocking: what nss.sock,
 * keys.sock, pam.sock and control.sock have in common, written once.
 *
 * Each accepted connection (SOCK_NONBLOCK|SOCK_CLOEXEC, at most 64 a
 * wake-up so a flood cannot starve the loop):
 *   - is checked at accept: SO_PEERCRED, then peer_allowed() when set,
 *     then a slot of the server's per-UID and total limits (broker-peers.h).
 *     A refused peer is closed at once: nothing is read, nothing written;
 *   - reads one request, framed by frame(), within read_usec of the accept.
 *     A malformed request, one that is not whole after request_max bytes,
 *     a peer that hangs up first or stays silent: closed without a reply;
 *   - hands the request to request() and reads no more (one request a
 *     connection; what the peer sends after it is never read). The request
 *     bytes are wiped once request() returns: they may hold a code;
 *   - writes what conn_send() queues as the peer reads it (a reply larger
 *     than the socket buffer goes out whole, the loop never blocks) and is
 *     closed once the final part is out, or at its deadline.
 * Every connection still open is closed by conn_server_free(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct conn;
struct conn_server;

struct conn_server_ops {
        /* The largest request in bytes, its framing included. */
        size_t request_max;
        /* From accept to a whole request. */
        uint64_t read_usec;
        /* Whether the SIZE bytes read so far hold a whole request: its
         * length N (<= SIZE; the bytes after it are ignored), 0 when more
         * are needed, -EBADMSG when malformed, -EMSGSIZE when it says it is
         * larger than request_max. */
        ssize_t (*frame)(const uint8_t *in, size_t size);
        /* Optional: false closes the peer UID's connection at accept. */
        bool (*peer_allowed)(uint32_t uid, void *userdata);
        /* The request IN (SIZE bytes, valid until it returns). Returns 0
         * when C was handed on: C then answers through conn_send() or
         * conn_close(), now or later, and may be freed already. <0 only
         * when nothing was sent: C is closed (-EBADMSG counts as
         * malformed). */
        int (*request)(struct conn *c, const uint8_t *in, size_t size, void *userdata);
        /* Optional: C is being freed (answered, gone, at its deadline or at
         * conn_server_free()); what conn_data() points to is released here. */
        void (*closed)(struct conn *c, void *userdata);
};

struct conn_server_stats {
        uint64_t accepted;
        uint64_t refused;                        /* at accept: credentials, peer_allowed(), limits */
        uint64_t malformed;                      /* frame() or request() said -EBADMSG */
        uint64_t oversized;                      /* not whole within request_max */
        uint64_t timed_out;                      /* closed at the deadline */
        uint64_t refused_per_uid, refused_total; /* of which: the limits */
};

/* Serves the listening socket FD (taken, closed on failure too) with OPS
 * (kept: static storage). USERDATA goes to every callback. No limits
 * until conn_server_set_limits(). */
int conn_server_new(sd_event *event, int fd, const struct conn_server_ops *ops, void *userdata,
        struct conn_server **ret);
void conn_server_free(struct conn_server *s);
/* At most MAX_TOTAL connections, MAX_PER_UID of one peer UID (root: only
 * the total). Connections open now are kept. */
void conn_server_set_limits(struct conn_server *s, unsigned max_total, unsigned max_per_uid);
/* Stopping: no new connection is accepted (they wait in the backlog). */
void conn_server_stop_accepting(struct conn_server *s);
/* Connections open now. */
unsigned conn_server_open(const struct conn_server *s);
void conn_server_get_stats(const struct conn_server *s, struct conn_server_stats *ret);
/* FN for every open connection; FN may free the one it is given. */
void conn_server_foreach(struct conn_server *s, void (*fn)(struct conn *c, void *arg), void *arg);

/* The peer's SO_PEERCRED at accept (pid 0 when unknown). */
uint32_t conn_uid(const struct conn *c);
uint32_t conn_pid(const struct conn *c);
/* The caller's state of C (NULL at first), released in closed(). */
void *conn_data(const struct conn *c);
void conn_set_data(struct conn *c, void *data);
/* The server's USERDATA. */
void *conn_userdata(const struct conn *c);
/* The connection is closed USEC from now (the answer may take longer
 * than the read). */
int conn_set_deadline(struct conn *c, uint64_t usec);
/* Queues SIZE bytes of DATA (copied) and starts writing; FINAL: the
 * connection is closed once everything queued is out. C may be freed when
 * this returns (written, or the peer is gone). */
void conn_send(struct conn *c, const void *data, size_t size, bool final);
static inline void conn_reply(struct conn *c, const void *data, size_t size)
{
        conn_send(c, data, size, true);
}
/* Closes C without (more of) a reply. */
void conn_close(struct conn *c);
