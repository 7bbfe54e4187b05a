/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "accountsd/broker-peers.h"
#include "accountsd/conn.h"
#include "accountsd/directory.h"
#include "accountsd/nss-server.h"
#include "basic/nss-proto.h"

struct nss_server {
        const struct daemon_context *ctx;
        struct directory *directory;
        struct conn_server *conns;
};

static ssize_t frame_request(const uint8_t *in, size_t size)
{
        uint16_t kind;
        uint32_t payload;

        if (size < NSS_PROTO_HEADER_SIZE)
                return 0;
        if (nss_proto_header_decode(in, false, &kind, &payload) < 0)
                return -EBADMSG;
        if (payload > NSS_PROTO_REQUEST_MAX)
                return -EMSGSIZE;
        return size >= NSS_PROTO_HEADER_SIZE + payload ? (ssize_t)(NSS_PROTO_HEADER_SIZE + payload) : 0;
}

static void on_answer(void *userdata, const uint8_t *msg, size_t size)
{
        struct conn *c = userdata;

        conn_set_data(c, NULL); /* the waiter is done */
        if (!msg)
                conn_close(c);
        else
                conn_reply(c, msg, size); /* closed once written, or when the client is gone */
}

static int on_request(struct conn *c, const uint8_t *in, size_t size, void *userdata)
{
        struct nss_server *s = userdata;
        struct directory_waiter *waiter = NULL;
        struct nss_proto_request q;
        int r = nss_proto_request_decode(in, size, &q);

        if (r < 0)
                return r;
        /* The read deadline is over; the answer may take a metadata round trip. */
        r = conn_set_deadline(c, NSS_SERVER_CONNECTION_TIMEOUT_MS * 1000ull);
        if (r < 0)
                return r;
        r = directory_lookup(s->directory, &q, on_answer, c, &waiter);
        if (r == 0)
                conn_set_data(c, waiter); /* pending: C is still open */
        return r < 0 ? r : 0;             /* answered at once: C may be gone now */
}

static void on_closed(struct conn *c, void *userdata)
{
        struct nss_server *s = userdata;
        struct directory_waiter *waiter = conn_data(c);

        if (waiter)
                directory_waiter_cancel(s->directory, waiter);
}

static const struct conn_server_ops nss_ops = {
        .request_max = NSS_PROTO_HEADER_SIZE + NSS_PROTO_REQUEST_MAX,
        .read_usec = NSS_SERVER_READ_TIMEOUT_MS * 1000ull,
        .frame = frame_request,
        .request = on_request,
        .closed = on_closed,
};

int nss_server_new(const struct daemon_context *ctx, struct directory *directory, struct nss_server **ret)
{
        struct nss_server *s = calloc(1, sizeof(*s));
        int fd, r;

        if (!s)
                return -ENOMEM;
        s->ctx = ctx;
        s->directory = directory;
        r = listen_socket(ctx->runtime_dir, NSS_SOCKET_NAME, 0666, &fd);
        if (r >= 0)
                r = conn_server_new(ctx->event, fd, &nss_ops, s, &s->conns);
        if (r < 0) {
                nss_server_free(s);
                return r;
        }
        nss_server_reconfigure(s);
        *ret = s;
        return 0;
}

void nss_server_free(struct nss_server *s)
{
        if (!s)
                return;
        conn_server_free(s->conns);
        free(s);
}

void nss_server_stop_accepting(struct nss_server *s)
{
        if (s)
                conn_server_stop_accepting(s->conns);
}

unsigned nss_server_open(const struct nss_server *s)
{
        return s ? conn_server_open(s->conns) : 0;
}

void nss_server_reconfigure(struct nss_server *s)
{
        if (!s || !s->conns)
                return;
        /* Per peer UID: a flood of misses from one user fills its own slots only. */
        conn_server_set_limits(s->conns, s->ctx->config.max_connections, s->ctx->config.per_uid_connections);
}
