/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The top of oslogin-accountsd: the event loop, signals, readiness and
 * the parts, wired together in main.c. Below it, each knowing only the
 * context (context.h) and what it calls downwards:
 *   watch.c         long-poll of the attribute document (own thread)
 *   mode.c          enable-oslogin switch and the metadata-keys reconcile
 *   directory*.c    OS Login directory → cache file, misses, negative cache
 *   sudo-recheck.c  periodic adminLogin re-check of sudoers drop-ins
 *   nss-server.c    the NSS miss socket (nss.sock, 0666)
 *   broker-*.c      the trust broker's sockets (keys.sock 0666, pam.sock
 *                   0600): key, account and two-factor decisions
 * and beside it control.c, the root-only control socket for osloginctl.
 * The three sockets share conn.c, the one-request connection code.
 * Everything but the worker threads runs in the sd-event loop. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "accountsd/context.h"

struct watch;
struct mode;
struct directory;
struct nss_server;
struct broker_server;
struct control_server;
struct sudo_recheck;

struct manager {
        struct daemon_context ctx; /* what the parts see */
        const char *config_path;   /* NULL: the default */

        struct watch *watch;
        struct mode *mode;
        struct directory *directory;
        struct nss_server *nss_server;
        struct broker_server *broker;
        struct control_server *control;
        struct sudo_recheck *sudo;

        bool ready;             /* READY=1 sent */
        sd_event_source *drain; /* stopping: waiting for questions in progress */
        uint64_t drain_until;
        sd_event_source *ready_timeout;
        uint64_t started_usec; /* CLOCK_MONOTONIC */
        int exit_status;
};

/* READY=1 (once), with a STATUS= line. */
void manager_notify_ready(struct manager *m, const char *status);
/* SIGTERM: stop accepting questions, answer those in progress (at most
 * MANAGER_DRAIN_USEC), then leave the loop. Under socket activation the
 * questions that arrive meanwhile wait in systemd's backlog for the next
 * instance, so a restart loses none. A second signal exits at once. */
#define MANAGER_DRAIN_USEC (5ull * 1000000u)
void manager_stop(struct manager *m);
/* In --once mode: the first reconcile (and directory build, when OS Login
 * is on) has finished with result R; the loop exits. */
void manager_once_finished(struct manager *m, int r);
