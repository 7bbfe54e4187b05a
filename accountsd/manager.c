/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "accountsd/manager.h"
#include "basic/log.h"

int manager_host_path(const struct manager *m, const char *path, char **ret)
{
        return asprintf(ret, "%s%s", streq(m->root, "/") ? "" : m->root, path) < 0 ? -ENOMEM : 0;
}

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
        sd_event_exit(m->event, m->exit_status);
}

