/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The state of one oslogin-accountsd process, shared by its parts:
 *   watch.c         long-poll of the attribute document (own thread)
 *   mode.c          enable-oslogin switch and the metadata-keys reconcile
 *   directory.c     OS Login directory → cache file, misses, negative cache
 *   nss-server.c    the NSS miss socket (nss.sock, 0666)
 *   broker-server.c the trust broker's sockets (keys.sock 0666, pam.sock
 *                   0600): key, account and two-factor decisions
 *   control.c       the root-only control socket for osloginctl
 *   sudo-recheck.c  periodic adminLogin re-check of sudoers drop-ins
 * Everything but the worker threads runs in the sd-event loop. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/control-proto.h"
#include "mds/config.h"


struct worker_pool;
struct watch;
struct mode;
struct directory;
struct nss_server;
struct broker_server;
struct control_server;
struct sudo_recheck;
struct audit_log;
struct metadata_document;

struct manager {
        sd_event *event;
        const char *config_path; /* NULL: the default */
        const char *root;        /* "/" in production */
        char *runtime_dir;       /* /run/oslogin */
        int runtime_dir_fd;
        bool once;

        struct oslogin_config config;
        struct worker_pool *pool;
        struct watch *watch;
        struct mode *mode;
        struct directory *directory;
        struct nss_server *nss_server;
        struct broker_server *broker;
        struct control_server *control;
        struct sudo_recheck *sudo;
        struct audit_log *audit; /* one record per login (audit.h) */

        bool ready;              /* READY=1 sent */
        sd_event_source *drain;  /* stopping: waiting for questions in progress */
        uint64_t drain_until;
        sd_event_source *ready_timeout;
        uint64_t started_usec;   /* CLOCK_MONOTONIC */
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
