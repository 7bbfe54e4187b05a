/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the daemon's parts share, and all they may see of the daemon: the
 * event loop, where the host and the runtime files are, the configuration
 * and the facilities every part uses (worker threads, the audit log).
 * The manager owns it (manager.h embeds it) and builds it before any part;
 * the parts (mode, watch, directory, sudo re-check, the NSS and broker
 * sockets) take a pointer to it and never see the manager. A part that has
 * something to say upwards or to a sibling says it through the callbacks
 * its constructor takes; the manager wires them (main.c). */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "mds/config.h"

struct worker_pool;
struct audit_log;

struct daemon_context {
        sd_event *event;
        const char *root;  /* "/" in production, --root in tests */
        char *runtime_dir; /* /run/oslogin: sockets, cache */
        int runtime_dir_fd;
        bool once; /* --once: one pass, no sockets */
        /* Replaced in place on SIGHUP (the parts' reconfigure functions
         * are called after): read it when it is needed, never copy it. */
        struct oslogin_config config;
        struct worker_pool *pool;
        struct audit_log *audit; /* one record per login (audit.h) */
};
