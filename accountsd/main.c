/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-accountsd: the accounts daemon. One sd-event loop drives
 * everything (see manager.h for the parts); blocking metadata calls run in
 * worker threads (worker.h) and the long-poll in its own thread (watch.h).
 * Signals are handled by the loop between events, so SIGTERM never
 * interrupts a transaction on /etc and never waits for a 60 s long-poll. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "accountsd/audit.h"
#include "accountsd/broker-peers.h"
#include "accountsd/broker-server.h"
#include "accountsd/control.h"
#include "accountsd/directory.h"
#include "accountsd/journal.h"
#include "accountsd/manager.h"
#include "accountsd/mode.h"
#include "accountsd/nss-server.h"
#include "accountsd/sudo-recheck.h"
#include "accountsd/watch.h"
#include "accountsd/worker.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/nss-proto.h"
#include "basic/path-util.h"
#include "basic/version.h"
#include "mds/mds-client.h"

#define DEFAULT_RUNTIME_DIR OSLOGIN_RUNTIME_DIR
/* sshd waits for READY=1. It comes after the first reconcile, at once when
 * there is no metadata server at all (on_mds_unreachable()), and after this long when the
 * server is slow or failing: local users must still get in. */
#define READY_TIMEOUT_USEC (30ull * 1000000u)
#define WORKER_THREADS 3u

static int on_ready_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s, (void)usec;
        log_warning(
                "The metadata server has not answered in %llu s (slow or failing); declaring readiness so "
                "sshd can start (accounts unchanged, retrying).",
                READY_TIMEOUT_USEC / 1000000u);
        manager_notify_ready(
                userdata, "metadata server slow or failing: no answer yet; accounts unchanged, retrying");
        return 0;
}

static int load_config(struct manager *m)
{
        struct oslogin_config c;
        struct mds_client *probe;
        int r = config_load(m->config_path, 0, &c);
        if (r < 0)
                return r;
        /* A URL the client refuses is a configuration error, found now rather than at the first fetch. */
        r = mds_client_new(&c, 0, &probe);
        if (r < 0) {
                config_free(&c);
                return log_error_errno(r, "Cannot create the metadata client: %m");
        }
        mds_client_free(probe);
        config_free(&m->ctx.config);
        m->ctx.config = c;
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        int r;

        (void)s, (void)si;
        sd_notify(0, "RELOADING=1");
        if (load_config(m) < 0)
                log_error("Configuration not reloaded; the previous one stays in effect.");
        else {
                if ((r = worker_pool_reconfigure(m->ctx.pool, &m->ctx.config)) < 0 ||
                        (r = watch_reconfigure(m->watch, &m->ctx.config)) < 0)
                        log_error_errno(r, "Cannot apply the new configuration: %m");
                directory_reconfigure(m->directory);
                nss_server_reconfigure(m->nss_server);
                broker_server_reconfigure(m->broker);
                sudo_recheck_reconfigure(m->sudo);
                log_info("Configuration reloaded.");
        }
        sd_notify(0, "READY=1");
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        (void)s;
        log_info("Received %s, exiting.", si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        sd_notify(0, "STOPPING=1");
        manager_stop(m);
        return 0;
}

static int open_runtime_dir(struct manager *m)
{
        /* The socket directory must be root's: mode 0755, not a symlink. */
        if (mkdir(m->ctx.runtime_dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create \"%s\": %m", m->ctx.runtime_dir);
        m->ctx.runtime_dir_fd = open_dir_nofollow(AT_FDCWD, m->ctx.runtime_dir, 0);
        if (m->ctx.runtime_dir_fd < 0)
                return log_error_errno(m->ctx.runtime_dir_fd, "Cannot open \"%s\": %m", m->ctx.runtime_dir);
        return 0;
}

/* The wiring: what each part reports upwards, and where it goes. No part
 * calls the manager, control.c or a sibling; they call these. */

static void on_document(const char *json, size_t size, void *userdata)
{
        struct manager *m = userdata;
        mode_handle_document(m->mode, json, size);
}

static void on_mds_unreachable(int error, unsigned failures, void *userdata)
{
        struct manager *m = userdata;

        if (m->ctx.once && !mode_has_document(m->mode)) {
                log_error_errno(error, "Cannot fetch the metadata: %m");
                manager_once_finished(m, error);
        } else if (watch_no_metadata_server(error))
                /* Refused or no route: not a slow server but none at all (a
                 * laptop, a VM outside the cloud). Waiting would only delay sshd. */
                manager_notify_ready(m, watch_no_server_status(error));
        /* One failed long-poll can be a blip; two in a row is an outage for misses too. */
        if (failures >= 2)
                directory_mds_unreachable(m->directory);
}

static void on_mds_reachable(void *userdata)
{
        struct manager *m = userdata;
        directory_mds_reachable(m->directory);
}

static const struct watch_callbacks watch_callbacks = {
        .document = on_document,
        .unreachable = on_mds_unreachable,
        .reachable = on_mds_reachable,
};

static void on_mode_applied(enum host_mode mode, void *userdata)
{
        struct manager *m = userdata;

        directory_set_enabled(m->directory, mode == HOST_MODE_OSLOGIN);
        /* The re-check follows the mode the host is in: the old one while a switch fails. */
        sudo_recheck_set_enabled(m->sudo, mode_current(m->mode) == HOST_MODE_OSLOGIN);
}

static void on_pass_done(int r, enum host_mode applied, const char *status, void *userdata)
{
        struct manager *m = userdata;

        /* The first pass is done whatever came of it (READY=1 is sent once). */
        if (status)
                manager_notify_ready(m, status);
        /* --once: in OS Login mode the directory build reports the end. */
        if (m->ctx.once && (r < 0 || applied != HOST_MODE_OSLOGIN))
                manager_once_finished(m, r);
}

static const struct mode_callbacks mode_callbacks = {
        .mode_applied = on_mode_applied,
        .pass_done = on_pass_done,
};

static void on_build_finished(int r, void *userdata)
{
        struct manager *m = userdata;

        control_build_finished(m->control, r);
        if (m->ctx.once)
                manager_once_finished(m, r);
}

static const struct directory_callbacks directory_callbacks = {
        .build_finished = on_build_finished,
};

/* The construction order, which is the dependency order:
 *   1. the context (context.h): the loop, the runtime directory, the
 *      worker pool, the audit log;
 *   2. the parts below the manager, each given the context and its
 *      callbacks: the mode first (the others start from the mode it has
 *      recorded), then the directory and the sudo re-check;
 *   3. the sockets (not with --once), which ask the parts;
 *   4. the watch, last: its first document goes through all of the above. */
static int setup(struct manager *m)
{
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* Before any thread starts, so they all inherit the mask and the loop gets the signals. */
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        if ((r = sd_event_default(&m->ctx.event)) < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");
        if ((r = sd_event_add_signal(m->ctx.event, NULL, SIGTERM, on_sigterm, m)) < 0 ||
                (r = sd_event_add_signal(m->ctx.event, NULL, SIGINT, on_sigterm, m)) < 0 ||
                (r = sd_event_add_signal(m->ctx.event, NULL, SIGHUP, on_sighup, m)) < 0)
                return log_error_errno(r, "Cannot watch signals: %m");
        /* WATCHDOG=1 at half of WATCHDOG_USEC, from the loop itself: a stuck loop stops it. */
        if ((r = sd_event_set_watchdog(m->ctx.event, true)) < 0)
                return log_error_errno(r, "Cannot set up the watchdog: %m");
        /* 1. */
        if ((r = open_runtime_dir(m)) < 0)
                return r;
        if ((r = worker_pool_new(m->ctx.event, &m->ctx.config, WORKER_THREADS, &m->ctx.pool)) < 0)
                return log_error_errno(r, "Cannot start the worker threads: %m");
        _cleanup_free_ char *audit_dir = NULL;
        if ((r = path_join_root(m->ctx.root, AUDIT_DIR, &audit_dir)) < 0 ||
                (r = audit_log_new(audit_dir, &m->ctx.audit)) < 0)
                return log_error_errno(r, "Cannot set up the audit log: %m");
        /* 2. What one part must know of another's state at the start is given here. */
        if ((r = mode_new(&m->ctx, &mode_callbacks, m, &m->mode)) < 0 ||
                (r = directory_new(&m->ctx, mode_current(m->mode) == HOST_MODE_OSLOGIN, &directory_callbacks,
                         m, &m->directory)) < 0 ||
                (r = sudo_recheck_new(&m->ctx, mode_current(m->mode) == HOST_MODE_OSLOGIN, &m->sudo)) < 0)
                return log_error_errno(r, "Cannot set up the daemon: %m");
        if (!m->ctx.once) {
                /* 3. The sockets systemd holds for us (oslogin-accountsd.socket), if any. */
                if ((r = listen_fds_collect()) < 0)
                        return r;
                if ((r = nss_server_new(&m->ctx, m->directory, &m->nss_server)) < 0 ||
                        (r = broker_server_new(&m->ctx, m->mode, &m->broker)) < 0 ||
                        (r = control_server_new(m, &m->control)) < 0)
                        return r;
                listen_fds_close_unused();
                r = sd_event_add_time_relative(m->ctx.event, &m->ready_timeout, CLOCK_MONOTONIC,
                        READY_TIMEOUT_USEC, 1000000, on_ready_timeout, m);
                if (r < 0)
                        return log_error_errno(r, "Cannot add a timer: %m");
        }
        /* 4. */
        if ((r = watch_start(&m->ctx, &watch_callbacks, m, &m->watch)) < 0)
                return log_error_errno(r, "Cannot start the metadata watch: %m");
        return 0;
}

static void teardown(struct manager *m)
{
        /* 1. The threads: the watch posts to the pool, so it goes first.
         * Both interrupt their metadata calls and join; from here on only
         * this thread runs, and no done() does. */
        watch_stop(m->watch);
        worker_pool_stop(m->ctx.pool);
        /* 2. The parts, users before what they use: the sockets' connections
         * cancel their waits on the directory, the broker reads the mode. */
        control_server_free(m->control);
        nss_server_free(m->nss_server);
        broker_server_free(m->broker);
        sudo_recheck_free(m->sudo);
        directory_free(m->directory);
        mode_free(m->mode);
        watch_free(m->watch);
        audit_log_free(m->ctx.audit);
        /* 3. The jobs never finished (dropped, their done() never runs),
         * then what everything above used. */
        worker_pool_free(m->ctx.pool);
        sd_event_source_disable_unref(m->ready_timeout);
        sd_event_source_disable_unref(m->drain);
        m->ctx.event = sd_event_unref(m->ctx.event);
        safe_close(m->ctx.runtime_dir_fd);
        config_free(&m->ctx.config);
        free(m->ctx.runtime_dir);
}

static void help(void)
{
        printf("Usage: oslogin-accountsd [OPTIONS]\n"
               "Makes the host's accounts follow the instance metadata (see oslogin-accountsd(8)).\n"
               "  --config FILE       configuration (default " OSLOGIN_CONFIG_PATH ")\n"
               "  --root DIR          manage DIR/etc, DIR/home, DIR/var instead of / (tests)\n"
               "  --runtime-dir DIR   sockets and cache (default " DEFAULT_RUNTIME_DIR ")\n"
               "  --once              one reconcile (and directory build in OS Login mode), then exit\n"
               "  --foreground        accepted for compatibility: the daemon never forks\n"
               "  --debug             log debug messages\n"
               "  --help              this text\n"
               "  --version           the version\n");
}

static int parse_argv(struct manager *m, int argc, char *argv[])
{
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"root", required_argument, NULL, 'r'},
                {"runtime-dir", required_argument, NULL, 'R'},
                {"once", no_argument, NULL, 'o'},
                {"foreground", no_argument, NULL, 'f'},
                {"debug", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        const char *runtime_dir = DEFAULT_RUNTIME_DIR;
        int c;

        while ((c = getopt_long(argc, argv, "c:r:R:ofdh", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        m->config_path = optarg;
                        break;
                case 'r':
                        m->ctx.root = optarg;
                        break;
                case 'R':
                        runtime_dir = optarg;
                        break;
                case 'o':
                        m->ctx.once = true;
                        break;
                case 'f':
                        break;
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case 'V':
                        return version_print("oslogin-accountsd"), 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument \"%s\", see --help.", argv[optind]);
        if (m->ctx.root[0] != '/' || runtime_dir[0] != '/')
                return log_error_errno(EINVAL, "--root and --runtime-dir want absolute paths.");
        m->ctx.runtime_dir = strdup(runtime_dir);
        return m->ctx.runtime_dir ? 1 : -ENOMEM;
}

int main(int argc, char *argv[])
{
        struct manager manager = {.ctx = {.root = "/", .runtime_dir_fd = -EBADF}}, *m = &manager;
        int r;

        log_open("oslogin-accountsd", LOG_TARGET_AUTO, LOG_DAEMON);
        journal_events_open();
        r = parse_argv(m, argc, argv);
        if (r <= 0) {
                free(m->ctx.runtime_dir);
                return r < 0 ? 2 : 0;
        }
        umask(022);
        /* Our own user lookups must never come back to us through the NSS module. */
        setenv(NSS_PROTO_BYPASS_ENV, "1", 1);
        if (load_config(m) < 0) {
                free(m->ctx.runtime_dir);
                return 1;
        }
        m->started_usec = now_monotonic_usec();
        r = setup(m);
        if (r >= 0) {
                log_info(
                        "Watching %s (root %s).", m->ctx.config.url ?: OSLOGIN_DEFAULT_MDS_URL, m->ctx.root);
                r = sd_event_loop(m->ctx.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        teardown(m);
        return r < 0 ? 1 : m->exit_status;
}
