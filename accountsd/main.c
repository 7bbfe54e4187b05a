/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-accountsd: watches the metadata (long-poll) and makes the host's
 * local accounts match the metadata ssh-keys.
 *
 * The loop is deliberately simple: one blocking long-poll, then one
 * reconcile. SIGTERM is blocked while a reconcile writes files and left to
 * its default action while waiting on the network, so a stop never
 * interrupts a transaction and never waits for a 60 s long-poll. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/time.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "accountsd/keys-reconcile.h"
#include "accountsd/sysconf.h"
#include "basic/log.h"
#include "mds/config.h"
#include "mds/mds-client.h"
#include "mds/models.h"
#include "mds/ssh-keys.h"

#define DOCUMENT_PATH "?recursive=true&alt=json"
#define LONG_POLL_SEC 60u
#define BACKOFF_MAX_USEC (30u * 1000000u)
#define RETRY_FAILED_USEC (30u * 1000000u)
/* sshd waits for READY=1; local users must still get in when the metadata
 * server is down at boot, so readiness is declared after this long anyway. */
#define READY_TIMEOUT_USEC (30u * 1000000u)

static volatile sig_atomic_t reload_requested;

struct daemon {
        const char *config_path;
        const char *root;
        bool once;
        struct oslogin_config config;
        struct mds_client *client;
        char *etag;
        unsigned failures;
        bool ready;
        uint64_t retry_at_usec; /* a per-user operation failed: retry then (monotonic), 0: none */
        uint64_t next_expiry_usec;
        uint64_t watchdog_usec;
        uint64_t started_usec;
        bool oslogin_active;
};

static void on_sighup(int sig)
{
        (void)sig;
        reload_requested = 1;
}

static uint64_t now_realtime_usec(void)
{
        struct timeval tv;
        gettimeofday(&tv, NULL);
        return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void sleep_usec(uint64_t usec)
{
        struct timespec ts = {.tv_sec = (time_t)(usec / 1000000u), .tv_nsec = (long)(usec % 1000000u) * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int load_config(struct daemon *d)
{
        struct oslogin_config c;
        struct mds_client *client;
        int r = config_load(d->config_path, 0, &c);
        if (r < 0)
                return r;
        r = mds_client_new(&c, 0, &client);
        if (r < 0) {
                config_free(&c);
                return log_error_errno(r, "Cannot create the metadata client: %m");
        }
        mds_client_set_max_attempts(client, 1);
        config_free(&d->config);
        mds_client_free(d->client);
        d->config = c;
        d->client = client;
        return 0;
}

static void log_rejections(const struct ssh_key_set *keys)
{
        for (size_t i = 0; i < keys->n_rejected; i++)
                log_warning("Ignoring an ssh-keys line for \"%s\": %s.", keys->rejected[i].user ?: "(invalid name)",
                            keys->rejected[i].reason);
}

/* One reconcile from DOC, with SIGTERM held off until the files are written. */
static int apply(struct daemon *d, const struct metadata_document *doc)
{
        struct ssh_key_set keys = {};
        struct reconcile_result res = {};
        struct reconcile_options o = {
                .root = d->root, .extra_groups = d->config.groups,
                .deprovision_remove = d->config.deprovision_remove, .uid_min = d->config.uid_min,
                .uid_max = d->config.uid_max, .home_base = d->config.home_base, .shell = d->config.shell,
        };
        bool oslogin = metadata_bool(doc, "enable-oslogin", false);
        sigset_t term, saved;
        int r;

        /* In OS Login mode no metadata key grants access: deprovision them all. */
        if (!oslogin) {
                r = ssh_keys_effective(doc, now_realtime_usec(), &keys);
                if (r < 0)
                        return log_error_errno(r, "Cannot evaluate the metadata ssh-keys: %m");
                log_rejections(&keys);
        }
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigaddset(&term, SIGINT);
        sigprocmask(SIG_BLOCK, &term, &saved);
        uint64_t start = now_monotonic_usec();
        r = keys_reconcile(&o, &keys, &res);
        if (r >= 0 && oslogin != d->oslogin_active) {
                /* The mode switch: the host configuration follows enable-oslogin. */
                struct sysconf_options so;
                sysconf_options_default(&so);
                so.root = d->root;
                int q = oslogin ? sysconf_activate(&so) : sysconf_deactivate(&so);
                if (q < 0)
                        log_error_errno(q, "Cannot %s the OS Login configuration: %m",
                                        oslogin ? "activate" : "deactivate");
                else {
                        log_info("OS Login configuration %s (enable-oslogin=%s).",
                                 oslogin ? "activated" : "deactivated", oslogin ? "true" : "false");
                        d->oslogin_active = oslogin;
                }
        }
        uint64_t took_usec = now_monotonic_usec() - start;
        sigprocmask(SIG_SETMASK, &saved, NULL);
        ssh_key_set_done(&keys);
        if (r < 0)
                return log_error_errno(r, "Reconcile failed, nothing applied: %m");
        d->retry_at_usec = res.failed > 0 ? now_monotonic_usec() + RETRY_FAILED_USEC : 0;
        d->next_expiry_usec = res.next_expiry_usec;
        log_info("Reconciled (%s mode) in %llu ms: %u created, %u removed, %u key files written, %u failed, "
                 "%u refused.",
                 oslogin ? "OS Login" : "metadata keys", (unsigned long long)(took_usec / 1000), res.created,
                 res.removed, res.keys_written, res.failed, res.refused);
        sd_notifyf(0, "STATUS=%s mode; last reconcile: %u created, %u removed, %u failed",
                   oslogin ? "OS Login" : "metadata keys", res.created, res.removed, res.failed);
        return 0;
}

/* How long the next long-poll may wait: the next key expiry, a pending retry
 * and the watchdog all cut it short. */
static unsigned poll_seconds(const struct daemon *d)
{
        uint64_t limit = LONG_POLL_SEC * 1000000ull, now = now_realtime_usec();
        if (d->next_expiry_usec > now && d->next_expiry_usec - now < limit)
                limit = d->next_expiry_usec - now + 1000000u;
        uint64_t mono = now_monotonic_usec();
        if (d->retry_at_usec && d->retry_at_usec > mono && d->retry_at_usec - mono < limit)
                limit = d->retry_at_usec - mono;
        if (d->watchdog_usec && d->watchdog_usec / 2 < limit)
                limit = d->watchdog_usec / 2;
        return (unsigned)MAX(limit / 1000000u, (uint64_t)1);
}

static void backoff(struct daemon *d, int error)
{
        if (!d->ready && now_monotonic_usec() - d->started_usec >= READY_TIMEOUT_USEC) {
                d->ready = true;
                log_warning("No reconcile after %u s; declaring readiness so sshd can start (accounts unchanged).",
                            READY_TIMEOUT_USEC / 1000000u);
                sd_notify(0, "READY=1\nSTATUS=metadata server unreachable; accounts unchanged, retrying");
        }
        uint64_t delay = MIN(500000ull << MIN(d->failures, 10u), (uint64_t)BACKOFF_MAX_USEC);
        delay = delay / 2 + (uint64_t)random() % (delay / 2 + 1);
        /* One line when an outage starts, then one every 20 failures. */
        if (d->failures == 0 || d->failures % 20 == 0)
                log_warning_errno(error, "Metadata server unavailable (%m); retrying, accounts left unchanged.");
        d->failures++;
        sleep_usec(delay);
}

static int run(struct daemon *d)
{
        for (;;) {
                struct mds_response resp = {};
                struct metadata_document *doc = NULL;
                bool timer_due = (d->retry_at_usec && d->retry_at_usec <= now_monotonic_usec()) ||
                                 (d->next_expiry_usec && d->next_expiry_usec <= now_realtime_usec());
                int r;

                if (reload_requested) {
                        reload_requested = 0;
                        if (load_config(d) == 0)
                                log_info("Configuration reloaded.");
                }
                if (d->etag && !timer_due)
                        r = mds_wait_for_change(d->client, DOCUMENT_PATH, d->etag, poll_seconds(d), &resp);
                else
                        r = mds_get(d->client, DOCUMENT_PATH, &resp);
                if (d->watchdog_usec)
                        sd_notify(0, "WATCHDOG=1");
                if (r < 0) {
                        if (d->once)
                                return log_error_errno(r, "Cannot fetch the metadata: %m");
                        backoff(d, r);
                        continue;
                }
                if (d->failures)
                        log_info("Metadata server reachable again.");
                d->failures = 0;
                bool changed = !d->etag || !resp.etag || !streq(d->etag, resp.etag);
                if (changed || timer_due || !d->ready) {
                        r = metadata_document_parse(resp.body, resp.size, &doc);
                        if (r < 0)
                                log_error("The metadata document does not parse; accounts left unchanged.");
                        else {
                                r = apply(d, doc);
                                metadata_document_free(doc);
                        }
                        if (r == 0 && !d->ready) {
                                d->ready = true;
                                sd_notify(0, "READY=1");
                        }
                }
                if (r == 0 || !changed) {
                        free(d->etag);
                        d->etag = resp.etag ? strdup(resp.etag) : NULL;
                }
                mds_response_done(&resp);
                if (d->once)
                        return r;
                if (r < 0)
                        backoff(d, r);
        }
}

static void help(void)
{
        printf("Usage: oslogin-accountsd [--config FILE] [--root DIR] [--once] [--debug]\n"
               "Makes the local accounts match the metadata (see oslogin-accountsd(8)).\n"
               "  --config FILE  configuration (default " OSLOGIN_CONFIG_PATH ")\n"
               "  --root DIR     manage DIR/etc, DIR/home, DIR/var instead of / (tests)\n"
               "  --once         one fetch and one reconcile, then exit\n"
               "  --debug        log debug messages\n");
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'}, {"root", required_argument, NULL, 'r'},
                {"once", no_argument, NULL, 'o'},         {"debug", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},         {},
        };
        struct daemon d = {.root = "/"};
        int c, r;

        log_open("oslogin-accountsd", LOG_TARGET_AUTO, LOG_DAEMON);
        while ((c = getopt_long(argc, argv, "c:r:odh", options, NULL)) >= 0) {
                switch (c) {
                case 'c': d.config_path = optarg; break;
                case 'r': d.root = optarg; break;
                case 'o': d.once = true; break;
                case 'd': log_set_max_level(LOG_DEBUG); break;
                case 'h': help(); return 0;
                default: return 2;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument \"%s\", see --help.", argv[optind]);
                return 2;
        }
        if (d.root[0] != '/') {
                log_error("--root wants an absolute path.");
                return 2;
        }
        umask(022);
        srandom((unsigned)now_realtime_usec());
        signal(SIGHUP, on_sighup);
        signal(SIGPIPE, SIG_IGN);
        if (load_config(&d) < 0)
                return 1;
        if (sd_watchdog_enabled(0, &d.watchdog_usec) <= 0)
                d.watchdog_usec = 0;
        d.started_usec = now_monotonic_usec();
        {
                /* Start from what the host has, so a restart neither flaps nor misses a switch. */
                struct sysconf_options so;
                struct sysconf_status st;
                sysconf_options_default(&so);
                so.root = d.root;
                d.oslogin_active = sysconf_get_status(&so, &st) == 0 && (st.nsswitch || st.sshd);
        }
        log_info("Watching %s (root %s).", mds_client_base_url(d.client), d.root);
        r = run(&d);
        mds_client_free(d.client);
        config_free(&d.config);
        free(d.etag);
        return r < 0 ? 1 : 0;
}
