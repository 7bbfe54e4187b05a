/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "accountsd/broker-server.h"
#include "accountsd/manager.h"
#include "accountsd/nss-server.h"
#include "basic/log.h"
#include "basic/time-util.h"

void manager_notify_ready(struct manager *m, const char *status)
{
        if (m->ready)
                return;
        m->ready = true;
        m->ready_timeout = sd_event_source_disable_unref(m->ready_timeout);
        sd_notifyf(0, "READY=1\nSTATUS=%s", status);
        log_info("Ready: %s.", status);
}

void manager_once_finished(struct manager *m, int r)
{
        m->exit_status = r < 0 ? 1 : 0;
        sd_event_exit(m->ctx.event, m->exit_status);
}

static unsigned questions_open(const struct manager *m)
{
        return nss_server_open(m->nss_server) + broker_server_open(m->broker);
}

static int on_drain(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct manager *m = userdata;
        unsigned open = questions_open(m);

        (void)usec;
        if (open == 0 || now_monotonic_usec() >= m->drain_until) {
                if (open > 0)
                        log_warning("%u questions still open after %llu s; exiting anyway.", open,
                                MANAGER_DRAIN_USEC / 1000000u);
                sd_event_exit(m->ctx.event, 0);
                return 0;
        }
        /* A time source is one-shot: it must be enabled again, not only moved. */
        if (sd_event_source_set_time_relative(s, 20000) < 0 ||
                sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
                sd_event_exit(m->ctx.event, 0);
        return 0;
}

void manager_stop(struct manager *m)
{
        uint64_t now = now_monotonic_usec();

        if (m->drain || questions_open(m) == 0) {
                sd_event_exit(m->ctx.event, 0);
                return;
        }
        nss_server_stop_accepting(m->nss_server);
        broker_server_stop_accepting(m->broker);
        m->drain_until = now + MANAGER_DRAIN_USEC;
        if (sd_event_add_time(m->ctx.event, &m->drain, CLOCK_MONOTONIC, now + 20000, 1000, on_drain, m) < 0)
                sd_event_exit(m->ctx.event, 0);
}
