/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "accountsd/audit.h"
#include "accountsd/broker-server.h"
#include "accountsd/control.h"
#include "accountsd/directory-fetch.h"
#include "accountsd/directory.h"
#include "accountsd/mode.h"
#include "accountsd/sudo-recheck.h"
#include "accountsd/watch.h"
#include "basic/alloc-util.h"
#include "basic/log.h"
#include "basic/socket-util.h"
#include "mds/mds-client.h"

struct control_conn {
        struct control_server *server;
        int fd;
        sd_event_source *io, *deadline, *tick;
        char in[CONTROL_REQUEST_MAX + 1];
        size_t in_size;
        char *out;
        size_t out_size, out_done;
        bool final; /* the connection ends once OUT is sent */
        bool waiting_refresh;
        struct directory_progress shown; /* "refresh progress": the last progress line sent */
        struct control_conn *next;
};

struct control_server {
        struct manager *manager;
        int fd;
        sd_event_source *io;
        struct control_conn *conns;
};

static void conn_free(struct control_conn *c)
{
        for (struct control_conn **p = &c->server->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->deadline);
        sd_event_source_disable_unref(c->tick);
        safe_close(c->fd);
        free(c->out);
        free(c);
}

static int flush(struct control_conn *c)
{
        while (c->out_done < c->out_size) {
                ssize_t n = send(c->fd, c->out + c->out_done, c->out_size - c->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                c->out_done += (size_t)n;
        }
        return 1;
}

/* After a flush that returned R: the connection ends when the final text
 * is out (or on an error); a progress line sent leaves it waiting. */
static void after_flush(struct control_conn *c, int r)
{
        if (r < 0 || (r > 0 && c->final)) {
                conn_free(c);
                return;
        }
        if (r > 0) {
                free(c->out);
                c->out = NULL;
                c->out_size = c->out_done = 0;
        }
        sd_event_source_set_io_events(c->io, r > 0 ? 0 : EPOLLOUT);
}

/* Queues TEXT (FINAL: the last of this connection) and starts sending. */
static void send_text(struct control_conn *c, const char *text, bool final)
{
        if (!text || GROW_ARRAY(c->out, NULL, c->out_size + strlen(text) + 1) < 0) {
                conn_free(c);
                return;
        }
        memcpy(c->out + c->out_size, text, strlen(text) + 1);
        c->out_size += strlen(text);
        c->final = final;
        after_flush(c, flush(c));
}

/* Takes TEXT (malloc'd) as the reply and starts sending it. */
static void reply(struct control_conn *c, char *text)
{
        sd_event_source_disable_unref(TAKE_PTR(c->tick));
        if (!text) {
                conn_free(c);
                return;
        }
        send_text(c, text, true);
        free(text);
}

/* "refresh progress": a line when the build's counts change. */
static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct control_conn *c = userdata;
        struct directory_progress p;
        char line[128];

        directory_progress_get(&p);
        sd_event_source_set_time(src, usec + CONTROL_PROGRESS_USEC);
        if (p.users == c->shown.users && p.groups == c->shown.groups && p.pages == c->shown.pages)
                return 0;
        c->shown = p;
        snprintf(line, sizeof(line), "progress: users=%u groups=%u pages=%u\n", p.users, p.groups, p.pages);
        send_text(c, line, false);
        return 0;
}

static char *status_text(struct manager *m)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        fprintf(f, "ready: %s\n", m->ready ? "yes" : "no");
        fprintf(f, "uptime: %llus\n", (unsigned long long)((now_monotonic_usec() - m->started_usec) / 1000000u));
        mode_status(m->mode, f);
        watch_status(m->watch, f);
        directory_status(m->directory, f);
        broker_server_status(m->broker, f);
        sudo_recheck_status(m->sudo, f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* The audit ring, one JSON record per line, oldest first (audit.h). */
static char *audit_text(struct manager *m)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        audit_log_expire(m->ctx.audit, now_realtime_usec());
        int r = audit_log_dump(m->ctx.audit, f);
        /* An empty ring is an empty line, not an empty reply (a closed connection). */
        if (r >= 0 && ftell(f) == 0)
                fputc('\n', f);
        if (fclose(f) != 0 || r < 0) {
                free(text);
                return NULL;
        }
        return text;
}

static void run_command(struct control_conn *c)
{
        struct manager *m = c->server->manager;

        c->in[strcspn(c->in, "\n")] = '\0';
        sd_event_source_set_io_events(c->io, 0);
        if (streq(c->in, "status"))
                return reply(c, status_text(m));
        if (streq(c->in, "audit"))
                return reply(c, audit_text(m));
        if (streq(c->in, "refresh") || streq(c->in, "refresh progress")) {
                log_info("Refresh requested.");
                watch_kick(m->watch);
                if (!directory_enabled(m->directory))
                        return reply(c, strdup("ok: OS Login is off, no directory to rebuild\n"));
                directory_refresh(m->directory);
                c->waiting_refresh = true;
                sd_event_source_set_time_relative(c->deadline, CONTROL_REFRESH_TIMEOUT_MS * 1000ull);
                if (streq(c->in, "refresh progress") &&
                    sd_event_add_time_relative(m->ctx.event, &c->tick, CLOCK_MONOTONIC, CONTROL_PROGRESS_USEC, 10000,
                                               on_tick, c) < 0)
                        return reply(c, strdup("error: cannot report progress\n"));
                return;
        }
        reply(c, strdup("error: unknown command\n"));
}

void control_build_finished(struct control_server *s, int r)
{
        if (!s)
                return;
        for (struct control_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                if (!c->waiting_refresh)
                        continue;
                c->waiting_refresh = false;
                char *text = NULL;
                if (r < 0)
                        (void)!asprintf(&text, "error: directory build failed: %s\n", strerror(-r));
                else
                        text = strdup("ok\n");
                reply(c, text);
        }
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct control_conn *c = userdata;
        ssize_t n;

        (void)src, (void)revents;
        if (c->out) {
                after_flush(c, flush(c));
                return 0;
        }
        n = recv(fd, c->in + c->in_size, CONTROL_REQUEST_MAX - c->in_size, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                conn_free(c);
                return 0;
        }
        c->in_size += (size_t)n;
        c->in[c->in_size] = '\0';
        if (memchr(c->in, '\n', c->in_size))
                run_command(c);
        else if (c->in_size >= CONTROL_REQUEST_MAX)
                conn_free(c);
        return 0;
}

static int on_conn_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src, (void)usec;
        conn_free(userdata);
        return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct control_server *s = userdata;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct control_conn *c;
        int cfd, r;

        (void)src, (void)revents;
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        /* The socket is 0600 already; the credential check keeps it root's even if the mode is changed. */
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0 ||
            !(c = calloc(1, sizeof(*c)))) {
                safe_close(cfd);
                return 0;
        }
        *c = (struct control_conn){.server = s, .fd = cfd, .next = s->conns};
        s->conns = c;
        r = sd_event_add_io(s->manager->ctx.event, &c->io, cfd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->manager->ctx.event, &c->deadline, CLOCK_MONOTONIC,
                                               CONTROL_TIMEOUT_MS * 1000ull, 1000, on_conn_deadline, c);
        if (r < 0)
                conn_free(c);
        return 0;
}

int control_server_new(struct manager *m, struct control_server **ret)
{
        struct control_server *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->fd = -EBADF;
        r = unix_listen(m->ctx.runtime_dir, CONTROL_SOCKET_NAME, 0600, &s->fd);
        if (r >= 0)
                r = sd_event_add_io(m->ctx.event, &s->io, s->fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                control_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void control_server_free(struct control_server *s)
{
        if (!s)
                return;
        while (s->conns)
                conn_free(s->conns);
        sd_event_source_disable_unref(s->io);
        safe_close(s->fd);
        free(s);
}
