/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/sudo-recheck.h"
#include "accountsd/worker.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "accounts/sudoers.h"
#include "mds/oslogin-api.h"

struct sudo_recheck {
        const struct daemon_context *ctx;
        bool enabled; /* OS Login mode */
        sd_event_source *timer;
        struct recheck_job *job;
        uint64_t runs, revoked, kept, undecided;
        int last_error;
};

struct recheck_job {
        struct job job;
        struct sudo_recheck *owner;
        char *root;
        uint32_t uid_floor;
        int result;
        unsigned checked, revoked, kept, undecided;
};

/* 1: still an admin, 0: definitely not (denied, no such user, or the name
 * now belongs to another UID than the one the drop-in grants), <0: cannot
 * tell. */
static int admin_decision(struct mds_client *c, const char *root, const char *user, uint32_t uid_floor)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        uint32_t granted_uid;
        int r = sudoers_granted_uid(root, user, &granted_uid);

        if (r == -EBADMSG)
                return 0; /* not a drop-in we wrote (or written by name before): rewrite on next login */
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        r = oslogin_fetch_profile(c, user, uid_floor, &p);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (p->account.uid != granted_uid)
                return 0;
        return oslogin_authorize(c, p->email, "adminLogin");
}

static void recheck_run(struct job *j, struct mds_client *client)
{
        struct recheck_job *rj = (struct recheck_job *)j;
        _cleanup_strv_free_ char **users = NULL;
        int r = sudoers_list(rj->root, &users);

        if (r == -ENOENT)
                r = 0;
        rj->result = r;
        STRV_FOREACH (u, users) {
                rj->checked++;
                r = admin_decision(client, rj->root, *u, rj->uid_floor);
                if (r > 0)
                        rj->kept++;
                else if (r < 0) {
                        rj->undecided++;
                        rj->result = r;
                        log_warning_errno(r, "Cannot re-check sudo for \"%s\"; drop-in kept: %m", *u);
                } else if ((r = sudoers_revoke(rj->root, *u)) < 0) {
                        rj->result = r;
                        log_error_errno(r, "Cannot revoke sudo for \"%s\": %m", *u);
                } else {
                        rj->revoked++;
                        log_event(LOG_NOTICE, MESSAGE_ID_SUDO_REVOKED,
                                LOG_FIELDS({"OSLOGIN_USER", *u},
                                        {"OSLOGIN_REASON",
                                                "adminLogin no longer granted (periodic re-check)"}),
                                "Sudo revoked for \"%s\": adminLogin no longer granted.", *u);
                }
        }
}

/* A re-check never finished when the pool is freed (teardown). */
static void recheck_drop(struct job *j)
{
        struct recheck_job *rj = (struct recheck_job *)j;
        free(rj->root);
        free(rj);
}

static void recheck_done(struct job *j)
{
        struct recheck_job *rj = (struct recheck_job *)j;
        struct sudo_recheck *s = rj->owner;

        s->job = NULL;
        s->runs++;
        s->revoked += rj->revoked;
        s->kept += rj->kept;
        s->undecided += rj->undecided;
        s->last_error = rj->result;
        log_full(rj->revoked ? LOG_INFO : LOG_DEBUG, "Sudo re-check: %u drop-ins, %u revoked, %u undecided.",
                rj->checked, rj->revoked, rj->undecided);
        recheck_drop(j);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct sudo_recheck *s = userdata;
        const struct daemon_context *ctx = s->ctx;
        struct recheck_job *rj;

        (void)usec;
        sd_event_source_set_time_relative(src, ctx->config.sudo_recheck_interval_usec);
        if (s->job || !s->enabled || !(rj = calloc(1, sizeof(*rj))))
                return 0;
        *rj = (struct recheck_job){.job = {.run = recheck_run, .done = recheck_done, .drop = recheck_drop},
                .owner = s,
                .root = strdup(ctx->root),
                .uid_floor = ctx->config.uid_floor};
        if (!rj->root) {
                free(rj);
                return 0;
        }
        s->job = rj;
        worker_pool_submit(ctx->pool, &rj->job);
        return 0;
}

int sudo_recheck_new(const struct daemon_context *ctx, bool enabled, struct sudo_recheck **ret)
{
        struct sudo_recheck *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->ctx = ctx;
        s->enabled = enabled;
        r = sd_event_add_time_relative(ctx->event, &s->timer, CLOCK_MONOTONIC,
                ctx->config.sudo_recheck_interval_usec, 100000, on_timer, s);
        if (r < 0) {
                free(s);
                return r;
        }
        sd_event_source_set_enabled(s->timer, ctx->once ? SD_EVENT_OFF : SD_EVENT_ON);
        *ret = s;
        return 0;
}

void sudo_recheck_free(struct sudo_recheck *s)
{
        if (!s)
                return;
        sd_event_source_disable_unref(s->timer);
        free(s);
}

void sudo_recheck_reconfigure(struct sudo_recheck *s)
{
        sd_event_source_set_time_relative(s->timer, s->ctx->config.sudo_recheck_interval_usec);
}

void sudo_recheck_set_enabled(struct sudo_recheck *s, bool enabled)
{
        s->enabled = enabled;
}

void sudo_recheck_status(const struct sudo_recheck *s, FILE *f)
{
        fprintf(f, "sudo-rechecks: %llu (%llu revoked, %llu kept, %llu undecided)\n",
                (unsigned long long)s->runs, (unsigned long long)s->revoked, (unsigned long long)s->kept,
                (unsigned long long)s->undecided);
        if (s->last_error < 0)
                fprintf(f, "sudo-last-error: %s\n", strerror(-s->last_error));
}
