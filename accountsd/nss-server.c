/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "accountsd/broker-peers.h"
#include "accountsd/directory.h"
#include "accountsd/nss-server.h"
#include "basic/control-proto.h"
#include "basic/log.h"
#include "basic/nss-proto.h"

struct connection {
        struct nss_server *server;
        int fd;
        sd_event_source *io, *deadline;
        uint8_t in[NSS_PROTO_HEADER_SIZE + NSS_PROTO_REQUEST_MAX];
        size_t in_size, in_need;
        uint8_t *out;
        size_t out_size, out_done;
        struct directory_waiter *waiter;
        uint32_t uid;
        struct connection *prev, *next;
};

struct nss_server {
        const struct daemon_context *ctx;
        struct directory *directory;
        int fd;
        sd_event_source *io;
        struct connection *connections;
        struct peer_table peers;
        uint64_t accepted, refused, malformed;
};

static void connection_free(struct connection *c)
{
        struct nss_server *s = c->server;

        if (c->waiter)
                directory_waiter_cancel(s->directory, c->waiter);
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->deadline);
        safe_close(c->fd);
        free(c->out);
        peer_table_release(&s->peers, c->uid);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
}

/* Writes what the socket takes; 1 when all is out. */
static int flush_reply(struct connection *c)
{
        while (c->out_done < c->out_size) {
                ssize_t n = send(c->fd, c->out + c->out_done, c->out_size - c->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                c->out_done += (size_t)n;
        }
        return 1;
}

static void on_answer(void *userdata, const uint8_t *msg, size_t size)
{
        struct connection *c = userdata;

        c->waiter = NULL;
        if (!msg || !(c->out = malloc(size))) {
                connection_free(c);
                return;
        }
        memcpy(c->out, msg, size);
        c->out_size = size;
        int r = flush_reply(c);
        if (r != 0)
                connection_free(c); /* done, or the client is gone */
        else
                sd_event_source_set_io_events(c->io, EPOLLOUT);
}

static int on_request(struct connection *c)
{
        struct nss_proto_request q;
        int r = nss_proto_request_decode(c->in, c->in_size, &q);

        if (r < 0)
                return r;
        /* Stop reading: one request per connection; anything more is ignored. */
        sd_event_source_set_io_events(c->io, 0);
        /* The read deadline is over; the answer may take a metadata round trip. */
        sd_event_source_set_time_relative(c->deadline, NSS_SERVER_CONNECTION_TIMEOUT_MS * 1000ull);
        r = directory_lookup(c->server->directory, &q, on_answer, c, &c->waiter);
        return r < 0 ? r : 1; /* C may be gone now (answered at once) */
}

/* Returns <0 to close, 1 when C was handed on (and may be freed already), 0 for more. */
static int read_request(struct connection *c)
{
        for (;;) {
                ssize_t n = recv(c->fd, c->in + c->in_size, c->in_need - c->in_size, MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                if (n == 0)
                        return -ECONNRESET;
                c->in_size += (size_t)n;
                if (c->in_size < c->in_need)
                        continue;
                if (c->in_need == NSS_PROTO_HEADER_SIZE) {
                        uint16_t kind;
                        uint32_t payload;
                        if (nss_proto_header_decode(c->in, false, &kind, &payload) < 0 ||
                            payload > sizeof(c->in) - NSS_PROTO_HEADER_SIZE)
                                return -EBADMSG;
                        c->in_need += payload;
                        if (payload > 0)
                                continue;
                }
                return on_request(c);
        }
}

static int on_connection_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct connection *c = userdata;
        int r;

        (void)src, (void)fd;
        if (c->out) {
                r = flush_reply(c);
                if (r != 0)
                        connection_free(c);
                return 0;
        }
        if (!(revents & EPOLLIN) && (revents & (EPOLLHUP | EPOLLERR))) {
                connection_free(c);
                return 0;
        }
        r = read_request(c);
        if (r < 0) {
                if (r == -EBADMSG)
                        c->server->malformed++;
                connection_free(c);
        }
        return 0;
}

static int on_connection_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src, (void)usec;
        connection_free(userdata);
        return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct nss_server *s = userdata;
        struct connection *c;
        uint32_t uid;
        int cfd, r;

        (void)src, (void)revents;
        /* A bounded batch per wake-up, so a flood cannot starve the rest of the loop. */
        for (unsigned i = 0; i < 64; i++) {
                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0;
                /* Per peer UID: a flood of misses from one user fills its own slots only. */
                if (peer_uid(cfd, &uid) < 0 || peer_table_acquire(&s->peers, uid) < 0) {
                        s->refused++;
                        safe_close(cfd);
                        continue;
                }
                if (!(c = calloc(1, sizeof(*c)))) {
                        peer_table_release(&s->peers, uid);
                        s->refused++;
                        safe_close(cfd);
                        continue;
                }
                *c = (struct connection){.server = s, .fd = cfd, .uid = uid, .in_need = NSS_PROTO_HEADER_SIZE,
                                         .next = s->connections};
                if (s->connections)
                        s->connections->prev = c;
                s->connections = c;
                s->accepted++;
                r = sd_event_add_io(s->ctx->event, &c->io, cfd, EPOLLIN, on_connection_io, c);
                if (r >= 0)
                        r = sd_event_add_time_relative(s->ctx->event, &c->deadline, CLOCK_MONOTONIC,
                                                       NSS_SERVER_READ_TIMEOUT_MS * 1000ull, 1000,
                                                       on_connection_deadline, c);
                if (r < 0)
                        connection_free(c);
        }
        return 0;
}

int nss_server_new(const struct daemon_context *ctx, struct directory *directory, struct nss_server **ret)
{
        struct nss_server *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->ctx = ctx;
        s->directory = directory;
        s->fd = -EBADF;
        nss_server_reconfigure(s);
        r = listen_socket(ctx->runtime_dir, NSS_SOCKET_NAME, 0666, &s->fd);
        if (r >= 0)
                r = sd_event_add_io(ctx->event, &s->io, s->fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                nss_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void nss_server_free(struct nss_server *s)
{
        if (!s)
                return;
        while (s->connections)
                connection_free(s->connections);
        sd_event_source_disable_unref(s->io);
        safe_close(s->fd);
        peer_table_done(&s->peers);
        free(s);
}

void nss_server_stop_accepting(struct nss_server *s)
{
        if (s)
                sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
}

unsigned nss_server_open(const struct nss_server *s)
{
        return s ? s->peers.total : 0;
}

void nss_server_reconfigure(struct nss_server *s)
{
        if (!s)
                return;
        s->peers.max_total = s->ctx->config.max_connections;
        s->peers.max_per_uid = s->ctx->config.per_uid_connections;
}
