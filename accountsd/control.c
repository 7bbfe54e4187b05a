/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/audit.h"
#include "accountsd/broker-server.h"
#include "accountsd/conn.h"
#include "accountsd/control.h"
#include "accountsd/directory-fetch.h"
#include "accountsd/directory.h"
#include "accountsd/mode.h"
#include "accountsd/sudo-recheck.h"
#include "accountsd/watch.h"
#include "basic/log.h"
#include "basic/socket-util.h"
#include "mds/mds-client.h"

/* What a command waiting for the directory keeps (conn_data): the
 * others are answered at once and keep nothing. */
struct control_wait {
        sd_event_source *tick;
        struct directory_progress shown; /* "refresh progress": the last progress line sent */
};

struct control_server {
        struct manager *manager;
        struct conn_server *conns;
};

/* Queues TEXT (FINAL: the last of this connection) and starts sending;
 * no TEXT (out of memory) closes C. C may be gone when this returns. */
static void send_text(struct conn *c, const char *text, bool final)
{
        if (!text) {
                conn_close(c);
                return;
        }
        conn_send(c, text, strlen(text), final);
}

/* C waits no more (answered, or gone). */
static void wait_done(struct conn *c)
{
        struct control_wait *w = conn_data(c);

        if (!w)
                return;
        conn_set_data(c, NULL);
        sd_event_source_disable_unref(w->tick);
        free(w);
}

/* Takes TEXT (malloc'd) as the reply and starts sending it. */
static void reply(struct conn *c, char *text)
{
        wait_done(c); /* the final text: no more progress, no second answer */
        send_text(c, text, true);
        free(text);
}

/* "refresh progress": a line when the build's counts change. */
static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct conn *c = userdata;
        struct control_wait *w = conn_data(c);
        struct directory_progress p;
        char line[128];

        directory_progress_get(&p);
        sd_event_source_set_time(src, usec + CONTROL_PROGRESS_USEC);
        if (p.users == w->shown.users && p.groups == w->shown.groups && p.pages == w->shown.pages)
                return 0;
        w->shown = p;
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
        fprintf(f, "uptime: %llus\n",
                (unsigned long long)((now_monotonic_usec() - m->started_usec) / 1000000u));
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

/* "refresh" and "refresh progress": answered by control_build_finished(). */
static int start_refresh(struct conn *c, struct manager *m, bool progress)
{
        struct control_wait *w;

        log_info("Refresh requested.");
        watch_kick(m->watch);
        if (!directory_enabled(m->directory)) {
                reply(c, strdup("ok: OS Login is off, no directory to rebuild\n"));
                return 0;
        }
        directory_refresh(m->directory);
        if (!(w = calloc(1, sizeof(*w))))
                return -ENOMEM;
        conn_set_data(c, w); /* waiting */
        (void)conn_set_deadline(c, CONTROL_REFRESH_TIMEOUT_MS * 1000ull);
        if (progress && sd_event_add_time_relative(m->ctx.event, &w->tick, CLOCK_MONOTONIC,
                                CONTROL_PROGRESS_USEC, 10000, on_tick, c) < 0)
                reply(c, strdup("error: cannot report progress\n"));
        return 0;
}

static int run_command(struct conn *c, const uint8_t *in, size_t size, void *userdata)
{
        struct control_server *s = userdata;
        struct manager *m = s->manager;
        char cmd[CONTROL_REQUEST_MAX + 1];

        /* The line without its newline (frame_line() ends it there). */
        memcpy(cmd, in, size - 1);
        cmd[size - 1] = '\0';
        if (streq(cmd, "status"))
                reply(c, status_text(m));
        else if (streq(cmd, "audit"))
                reply(c, audit_text(m));
        else if (streq(cmd, "refresh") || streq(cmd, "refresh progress"))
                return start_refresh(c, m, streq(cmd, "refresh progress"));
        else
                reply(c, strdup("error: unknown command\n"));
        return 0;
}

static void finish_refresh(struct conn *c, void *arg)
{
        int r = *(const int *)arg;
        char *text = NULL;

        if (!conn_data(c))
                return;
        if (r < 0)
                (void)!asprintf(&text, "error: directory build failed: %s\n", strerror(-r));
        else
                text = strdup("ok\n");
        reply(c, text);
}

void control_build_finished(struct control_server *s, int r)
{
        if (s)
                conn_server_foreach(s->conns, finish_refresh, &r);
}

/* One line, newline included. */
static ssize_t frame_line(const uint8_t *in, size_t size)
{
        const uint8_t *nl = memchr(in, '\n', size);
        return nl ? nl - in + 1 : 0;
}

/* The socket is 0600 already; the credential check keeps it root's even if the mode is changed. */
static bool root_only(uint32_t uid, void *userdata)
{
        (void)userdata;
        return uid == 0;
}

static void on_closed(struct conn *c, void *userdata)
{
        (void)userdata;
        wait_done(c);
}

static const struct conn_server_ops control_ops = {
        .request_max = CONTROL_REQUEST_MAX,
        .read_usec = CONTROL_TIMEOUT_MS * 1000ull,
        .frame = frame_line,
        .peer_allowed = root_only,
        .request = run_command,
        .closed = on_closed,
};

int control_server_new(struct manager *m, struct control_server **ret)
{
        struct control_server *s = calloc(1, sizeof(*s));
        int fd, r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        r = unix_listen(m->ctx.runtime_dir, CONTROL_SOCKET_NAME, 0600, &fd);
        if (r >= 0)
                r = conn_server_new(m->ctx.event, fd, &control_ops, s, &s->conns);
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
        conn_server_free(s->conns);
        free(s);
}
