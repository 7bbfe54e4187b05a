/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accountsd/broker-peers.h"
#include "accountsd/conn.h"
#include "basic/alloc-util.h"
#include "basic/macro.h"

/* The first read buffer; it grows (up to request_max) only for a request
 * that needs it. */
#define CONN_IN_FIRST 512u
#define CONN_ACCEPT_BATCH 64u

struct conn {
        struct conn_server *server;
        int fd;
        uint32_t uid, pid;
        sd_event_source *io, *deadline;
        uint8_t *in;
        size_t in_size, in_allocated;
        uint8_t *out;
        size_t out_size, out_done, out_allocated;
        bool handed_on; /* request() has it: nothing more is read */
        bool final;     /* closed once OUT is written */
        void *data;
        struct conn *prev, *next;
};

struct conn_server {
        sd_event *event;
        const struct conn_server_ops *ops;
        void *userdata;
        int fd;
        sd_event_source *io;
        struct conn *conns;
        struct peer_table peers;
        struct conn_server_stats stats;
};

/* Wiped: the request may hold a two-factor code. */
static void wipe_free(uint8_t *p, size_t size)
{
        if (p)
                explicit_bzero(p, size);
        free(p);
}

static void conn_free(struct conn *c)
{
        struct conn_server *s = c->server;

        if (s->ops->closed)
                s->ops->closed(c, s->userdata);
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->deadline);
        safe_close(c->fd);
        wipe_free(c->in, c->in_allocated);
        free(c->out);
        peer_table_release(&s->peers, c->uid);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
}

void conn_close(struct conn *c)
{
        conn_free(c);
}

/* Writes what the socket takes: 1 when all is out, 0 for more, -errno. */
static int flush(struct conn *c)
{
        while (c->out_done < c->out_size) {
                ssize_t n = send(
                        c->fd, c->out + c->out_done, c->out_size - c->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                c->out_done += (size_t)n;
        }
        return 1;
}

/* After a flush that returned R: closed when the final part is out (or
 * on an error); a part that is out leaves C waiting for the next. */
static void after_flush(struct conn *c, int r)
{
        if (r < 0 || (r > 0 && c->final)) {
                conn_free(c);
                return;
        }
        if (r > 0) {
                free(TAKE_PTR(c->out));
                c->out_size = c->out_done = c->out_allocated = 0;
        }
        sd_event_source_set_io_events(c->io, r > 0 ? 0 : EPOLLOUT);
}

void conn_send(struct conn *c, const void *data, size_t size, bool final)
{
        if (size > 0) {
                if (size > SIZE_MAX - c->out_size ||
                        GROW_ARRAY(c->out, &c->out_allocated, c->out_size + size) < 0) {
                        conn_free(c);
                        return;
                }
                memcpy(c->out + c->out_size, data, size);
                c->out_size += size;
        }
        c->final = final;
        after_flush(c, flush(c));
}

/* Room for more of the request: 0, or -EMSGSIZE at request_max. A grown
 * buffer is a copy and the old one is wiped (realloc, and so GROW_ARRAY,
 * would leave the old bytes, maybe a code, in freed memory). */
static int grow_in(struct conn *c)
{
        size_t max = c->server->ops->request_max, k;
        uint8_t *grown;

        if (c->in_allocated >= max)
                return -EMSGSIZE;
        k = MIN(MAX(2 * c->in_allocated, (size_t)CONN_IN_FIRST), max);
        if (!(grown = malloc(k)))
                return -ENOMEM;
        if (c->in_size > 0)
                memcpy(grown, c->in, c->in_size);
        wipe_free(c->in, c->in_allocated);
        c->in = grown;
        c->in_allocated = k;
        return 0;
}

/* The request, N bytes of IN, to request(). 1 when handed on (C may be
 * gone), <0 to close C. */
static int hand_on(struct conn *c, size_t n)
{
        struct conn_server *s = c->server;
        uint8_t *in = TAKE_PTR(c->in);
        size_t allocated = c->in_allocated;
        int r;

        c->in_size = c->in_allocated = 0;
        c->handed_on = true;
        sd_event_source_set_io_events(c->io, 0);
        r = s->ops->request(c, in, n, s->userdata);
        wipe_free(in, allocated);
        return r < 0 ? r : 1;
}

/* <0 to close, 1 when handed on (C may be gone), 0 for more. */
static int read_request(struct conn *c)
{
        for (;;) {
                if (c->in_size == c->in_allocated) {
                        int r = grow_in(c);
                        if (r < 0)
                                return r;
                }
                ssize_t n = recv(c->fd, c->in + c->in_size, c->in_allocated - c->in_size, MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                if (n == 0)
                        return -ECONNRESET;
                c->in_size += (size_t)n;
                ssize_t whole = c->server->ops->frame(c->in, c->in_size);
                if (whole < 0)
                        return (int)whole;
                if (whole > 0)
                        return hand_on(c, MIN((size_t)whole, c->in_size));
        }
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct conn *c = userdata;
        struct conn_server *s = c->server;
        int r;

        (void)src, (void)fd;
        if (c->out) {
                after_flush(c, flush(c));
                return 0;
        }
        if (c->handed_on)
                return 0;
        if (!(revents & EPOLLIN) && (revents & (EPOLLHUP | EPOLLERR))) {
                conn_free(c);
                return 0;
        }
        r = read_request(c);
        if (r < 0) {
                if (r == -EBADMSG)
                        s->stats.malformed++;
                else if (r == -EMSGSIZE)
                        s->stats.oversized++;
                conn_free(c);
        }
        return 0;
}

static int on_conn_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct conn *c = userdata;

        (void)src, (void)usec;
        c->server->stats.timed_out++;
        conn_free(c);
        return 0;
}

static void conn_new(struct conn_server *s, int cfd)
{
        struct conn *c;
        uint32_t uid;
        int r;

        if (peer_uid(cfd, &uid) < 0 || (s->ops->peer_allowed && !s->ops->peer_allowed(uid, s->userdata)) ||
                peer_table_acquire(&s->peers, uid) < 0) {
                s->stats.refused++;
                safe_close(cfd);
                return;
        }
        if (!(c = calloc(1, sizeof(*c)))) {
                peer_table_release(&s->peers, uid);
                s->stats.refused++;
                safe_close(cfd);
                return;
        }
        *c = (struct conn){.server = s, .fd = cfd, .uid = uid, .pid = peer_pid(cfd), .next = s->conns};
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->stats.accepted++;
        r = sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->deadline, CLOCK_MONOTONIC, s->ops->read_usec,
                        1000, on_conn_deadline, c);
        if (r < 0)
                conn_free(c);
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        (void)src, (void)revents;
        /* A bounded batch per wake-up, so a flood cannot starve the rest of the loop. */
        for (unsigned i = 0; i < CONN_ACCEPT_BATCH; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0;
                conn_new(userdata, cfd);
        }
        return 0;
}

int conn_server_new(
        sd_event *event, int fd, const struct conn_server_ops *ops, void *userdata, struct conn_server **ret)
{
        struct conn_server *s = calloc(1, sizeof(*s));
        int r;

        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        *s = (struct conn_server){.event = event, .ops = ops, .userdata = userdata, .fd = fd};
        conn_server_set_limits(s, UINT_MAX, UINT_MAX);
        r = sd_event_add_io(event, &s->io, fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                conn_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void conn_server_free(struct conn_server *s)
{
        if (!s)
                return;
        while (s->conns)
                conn_free(s->conns);
        sd_event_source_disable_unref(s->io);
        safe_close(s->fd);
        peer_table_done(&s->peers);
        free(s);
}

void conn_server_set_limits(struct conn_server *s, unsigned max_total, unsigned max_per_uid)
{
        s->peers.max_total = max_total;
        s->peers.max_per_uid = max_per_uid;
}

void conn_server_stop_accepting(struct conn_server *s)
{
        if (s)
                sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
}

unsigned conn_server_open(const struct conn_server *s)
{
        return s ? s->peers.total : 0;
}

void conn_server_get_stats(const struct conn_server *s, struct conn_server_stats *ret)
{
        *ret = s->stats;
        ret->refused_per_uid = s->peers.refused_per_uid;
        ret->refused_total = s->peers.refused_total;
}

void conn_server_foreach(struct conn_server *s, void (*fn)(struct conn *c, void *arg), void *arg)
{
        for (struct conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                fn(c, arg);
        }
}

uint32_t conn_uid(const struct conn *c)
{
        return c->uid;
}

uint32_t conn_pid(const struct conn *c)
{
        return c->pid;
}

void *conn_data(const struct conn *c)
{
        return c->data;
}

void conn_set_data(struct conn *c, void *data)
{
        c->data = data;
}

void *conn_userdata(const struct conn *c)
{
        return c->server->userdata;
}

int conn_set_deadline(struct conn *c, uint64_t usec)
{
        return sd_event_source_set_time_relative(c->deadline, usec);
}
