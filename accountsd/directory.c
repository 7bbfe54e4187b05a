/* SPDX-License-Identifier: Apache-2.0 */
/* The directory (directory.h): the cache file's full builds and the
 * rewrites that add answered misses, one write at a time in a worker;
 * enabling, the refresh timer, status. Misses: directory-lookup.c. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accountsd/directory-answers.h"
#include "accountsd/directory-fetch.h"
#include "accountsd/directory-internal.h"
#include "accountsd/directory-local.h"
#include "accountsd/directory-records.h"
#include "accountsd/users-group.h"
#include "accountsd/worker.h"
#include "basic/atomic-file.h"
#include "basic/cache-writer.h"
#include "basic/local-db-watch.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/negative-table.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "hostconf/trusted-ca.h"

/* A cache file write (full build, or the current file plus answered misses). */
struct file_job {
        struct job job;
        struct directory *directory;
        bool full;
        const char *root;
        uint32_t uid_floor, page_size, timeout_ms;
        uint64_t generation, started_usec;
        int dir_fd;
        struct cache_map *base;     /* rewrite: the file to extend */
        struct stored_answer *adds; /* rewrite: copies of found answers */
        size_t n_adds;
        int result;
        struct directory_build_stats stats;
        struct directory_local_filter filter; /* what the host's accounts kept out, logged by the loop */
        uint64_t took_usec;
        struct directory_group_set
                *last_groups; /* full: a reference, the fallback of a failed groups listing */
        struct directory_group_set *new_groups;                 /* full: what the groups listing returned */
        struct mds_client *extra[DIRECTORY_MEMBER_CLIENTS - 1]; /* full: member lists in parallel */
        size_t n_extra;
        char users_group[USER_NAME_MAX + 1]; /* "": none */
        uint32_t users_gid;
        int users_group_error; /* why it was left out (a local group's name or GID) */
        int ca_result;         /* full: the TrustedUserCAKeys refresh, keys or -errno */
        bool ca_changed;
};

/* One event per build (MESSAGE_ID_DIRECTORY_BUILD), its counts as fields. */
static void directory_log_built(uint64_t took_usec, const struct directory_build_stats *st)
{
        char users[16], groups[16], skipped[16], latency[24];

        snprintf(users, sizeof(users), "%u", st->n_users);
        snprintf(groups, sizeof(groups), "%u", st->n_groups);
        snprintf(skipped, sizeof(skipped), "%u", st->n_skipped);
        snprintf(latency, sizeof(latency), "%llu", (unsigned long long)took_usec);
        /* The skipped users by name, once per build: in the event itself. */
        log_event(st->n_skipped ? LOG_WARNING : LOG_INFO, MESSAGE_ID_DIRECTORY_BUILD,
                LOG_FIELDS({"OSLOGIN_USERS", users}, {"OSLOGIN_GROUPS", groups},
                        {"OSLOGIN_SKIPPED", skipped}, {"OSLOGIN_REASON", st->skipped_detail},
                        {"OSLOGIN_LATENCY_USEC", latency}),
                "Directory cache built in %llu ms: %u users, %u groups, %u self groups, %u left out as "
                "local "
                "names, %u skipped%s%s%s.",
                (unsigned long long)(took_usec / 1000), st->n_users, st->n_groups, st->n_self_groups,
                st->n_local, st->n_skipped, st->skipped_detail[0] ? ": " : "", st->skipped_detail,
                st->n_skipped && !st->skipped_detail[0] ? " (groups)" : "");
}

static void file_job_run(struct job *j, struct mds_client *client)
{
        struct file_job *f = (struct file_job *)j;
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        _cleanup_local_db_ struct local_db *local = NULL;
        uint64_t start = now_monotonic_usec();
        int r;

        /* Every user and group the file gets, from the server or from the
         * file it extends, passes the host check once per write. */
        r = local_db_load(f->root, &local);
        if (r < 0)
                log_error_errno(r, "Cannot read the host's accounts under %s: %m", f->root);
        else
                r = cache_writer_new(&w);
        if (r >= 0) {
                f->filter.db = local;
                cache_writer_set_filter(w, directory_local_writer_filter, &f->filter);
                cache_writer_set_settings(w, f->uid_floor, f->timeout_ms);
                cache_writer_set_generation(w, f->generation);
                if (f->users_group[0])
                        r = users_group_add(
                                w, local, f->users_group, f->users_gid, f->uid_floor, &f->users_group_error);
                if (r < 0)
                        ;
                else if (f->full) {
                        /* The pool's stop interrupts the member lists' calls too. */
                        for (size_t i = 0; i < f->n_extra; i++)
                                mds_client_set_cancel_fd(f->extra[i], mds_client_cancel_fd(client));
                        r = directory_fetch_all(client, f->extra, f->n_extra, f->uid_floor, f->page_size, w,
                                f->last_groups, &f->new_groups, &f->stats);
                } else {
                        for (size_t i = 0; i < f->n_adds && r >= 0; i++)
                                r = directory_writer_add_reply(
                                        w, &f->adds[i].q, f->adds[i].msg, f->adds[i].size);
                        if (r >= 0 && f->base)
                                r = cache_writer_import(w, f->base);
                }
        }
        if (r >= 0)
                r = cache_writer_commit(w, f->dir_fd, CACHE_FILE_NAME);
        if (f->full)
                f->ca_result = trusted_ca_refresh(client, f->dir_fd, TRUSTED_CA_FILE_NAME, &f->ca_changed);
        f->filter.db = NULL; /* freed on return */
        f->stats.n_local = (uint32_t)left_out_list_entries(&f->filter.left_out);
        f->result = r;
        f->took_usec = now_monotonic_usec() - start;
}

static void file_job_free(struct file_job *f)
{
        cache_map_unref(f->base);
        left_out_list_done(&f->filter.left_out);
        directory_group_set_unref(f->last_groups);
        directory_group_set_unref(f->new_groups);
        for (size_t i = 0; i < f->n_extra; i++)
                mds_client_free(f->extra[i]);
        for (size_t i = 0; i < f->n_adds; i++)
                stored_answer_done(&f->adds[i]);
        free(f->adds);
        free(f);
}

static void file_job_drop(struct job *j)
{
        file_job_free((struct file_job *)j);
}

static void start_file_job(struct directory *d);

static void reopen_map(struct directory *d)
{
        _cleanup_free_ char *path = NULL;
        struct cache_map *map;
        int r;

        if (asprintf(&path, "%s/%s", d->ctx->runtime_dir, CACHE_FILE_NAME) < 0)
                return;
        r = cache_map_open(path, 0, &map);
        if (r < 0) {
                log_error_errno(r, "Cannot map the cache just written to \"%s\": %m", path);
                return;
        }
        cache_map_unref(d->map);
        d->map = map;
        d->generation = MAX(d->generation, cache_map_header(map)->generation);
}

/* The synthetic group and the CA file: logged when their state changes. */
static void report_build_extras(struct directory *d, const struct file_job *f)
{
        if (f->users_group_error < 0 && f->users_group_error != d->users_group_error)
                log_error("The OS Login users group \"%s\" (GID %u) %s: left out of the directory, so the "
                          "sshd drop-in is not applied either ([sshd] users_group, users_gid in "
                          "oslogin.conf).",
                        f->users_group, f->users_gid,
                        f->users_group_error == -EEXIST ? "clashes with a local group's name or GID"
                                                        : "is not a valid group name and GID");
        d->users_group_error = f->users_group_error;
        if (f->ca_result < 0 && d->ca_result >= 0)
                log_warning_errno(f->ca_result,
                        "Cannot refresh the trusted certificate authorities "
                        "(oslogin/certificates); " TRUSTED_CA_FILE_NAME " left as it is: %m");
        else if (f->ca_changed)
                log_info("Trusted certificate authorities written: %d key(s) in " TRUSTED_CA_FILE_NAME ".",
                        f->ca_result);
        d->ca_result = f->ca_result;
}

static void file_job_done(struct job *j)
{
        struct file_job *f = (struct file_job *)j;
        struct directory *d = f->directory;

        d->file_job = NULL;
        if (f->full && d->enabled)
                report_build_extras(d, f);
        if (!d->enabled) {
                /* switched off meanwhile */
                (void)unlinkat(d->ctx->runtime_dir_fd, CACHE_FILE_NAME, 0);
                (void)unlinkat(d->ctx->runtime_dir_fd, TRUSTED_CA_FILE_NAME, 0);
        } else if (f->result < 0 && f->full) {
                d->builds_failed++;
                d->last_build_error = f->result;
                log_error_errno(f->result, "Directory build failed; the previous cache stays in use: %m");
        } else if (f->result < 0)
                log_error_errno(f->result, "Cannot add answered misses to the cache: %m");
        else {
                reopen_map(d);
                /* Each build names what it left out again; a rewrite only what is new. */
                if (f->full)
                        strmap_done(&d->reported);
                directory_local_report(&d->reported, &f->filter.left_out);
                if (f->full) {
                        d->builds++;
                        d->built_once = true;
                        d->last_build_error = 0;
                        d->last_build_usec = f->took_usec;
                        d->last_build_realtime = now_realtime_usec();
                        d->last_stats = f->stats;
                        directory_groups_state_update(&d->groups, &f->stats, TAKE_PTR(f->new_groups));
                        /* The build knows better than answers older than it; the rest
                         * go into the next rewrite. */
                        answer_store_forget_found_before(&d->answers, f->started_usec);
                        for (size_t i = 0; i < d->answers.n; i++) {
                                const struct stored_answer *a = &d->answers.answers[i];
                                if (a->found && a->q.type != NSS_PROTO_INITGROUPS)
                                        d->rewrite_wanted = true;
                        }
                        directory_log_built(f->took_usec, &f->stats);
                } else
                        d->rewrites++;
        }
        int result = f->result;
        bool full = f->full;
        file_job_free(f);
        start_file_job(d);
        /* Last: the part above may act on it (--once leaves the loop). */
        if (full && d->callbacks.build_finished)
                d->callbacks.build_finished(result, d->userdata);
}

static int copy_found_answers(struct directory *d, struct file_job *f)
{
        f->adds = calloc(d->answers.n + 1, sizeof(*f->adds));
        if (!f->adds)
                return -ENOMEM;
        for (size_t i = 0; i < d->answers.n; i++) {
                const struct stored_answer *a = &d->answers.answers[i];
                if (!a->found || a->q.type == NSS_PROTO_INITGROUPS)
                        continue;
                struct stored_answer *c = &f->adds[f->n_adds];
                *c = (struct stored_answer){.q = a->q, .size = a->size, .msg = malloc(a->size)};
                if (!c->msg)
                        return -ENOMEM;
                memcpy(c->msg, a->msg, a->size);
                f->n_adds++;
        }
        return 0;
}

/* Starts the pending build or rewrite, if nothing is being written. */
static void start_file_job(struct directory *d)
{
        const struct daemon_context *ctx = d->ctx;
        struct file_job *f;

        if (d->file_job || !d->enabled || (!d->build_wanted && !d->rewrite_wanted))
                return;
        if (!(f = calloc(1, sizeof(*f))))
                return;
        *f = (struct file_job){
                .job = {.run = file_job_run, .done = file_job_done, .drop = file_job_drop},
                .directory = d,
                .full = d->build_wanted,
                .root = ctx->root,
                .uid_floor = ctx->config.uid_floor,
                .page_size = ctx->config.page_size,
                .timeout_ms = (uint32_t)MIN(
                        ctx->config.nss_timeout_usec / 1000, (uint64_t)CACHE_SOCKET_TIMEOUT_MS_MAX),
                .generation = ++d->generation,
                .started_usec = now_monotonic_usec(),
                .dir_fd = ctx->runtime_dir_fd,
                .users_gid = ctx->config.users_gid,
        };
        snprintf(f->users_group, sizeof(f->users_group), "%s", ctx->config.users_group ?: "");
        if (f->full) {
                f->last_groups = directory_group_set_ref(d->groups.last_good);
                /* Made here, from the configuration as it is now; none is fine. */
                while (f->n_extra < ELEMENTSOF(f->extra) &&
                        mds_client_new(&ctx->config, 0, &f->extra[f->n_extra]) >= 0)
                        f->n_extra++;
        } else {
                f->base = d->map ? cache_map_ref(d->map) : NULL;
                if (copy_found_answers(d, f) < 0) {
                        file_job_free(f);
                        return;
                }
        }
        /* A full build makes earlier answers moot (answer_store_forget_found_before()). */
        d->rewrite_wanted = false;
        d->build_wanted = false;
        d->file_job = f;
        worker_pool_submit(ctx->pool, &f->job);
}

static int on_rewrite_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct directory *d = userdata;
        (void)s, (void)usec;
        d->rewrite_wanted = true;
        start_file_job(d);
        return 0;
}

void directory_schedule_rewrite(struct directory *d)
{
        int enabled = SD_EVENT_OFF;
        sd_event_source_get_enabled(d->rewrite_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        sd_event_source_set_time_relative(d->rewrite_timer, DIRECTORY_REWRITE_DELAY_USEC);
        sd_event_source_set_enabled(d->rewrite_timer, SD_EVENT_ONESHOT);
}

void directory_refresh(struct directory *d)
{
        if (!d->enabled)
                return;
        d->build_wanted = true;
        start_file_job(d);
}

static int on_refresh_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct directory *d = userdata;
        (void)usec;
        directory_refresh(d);
        sd_event_source_set_time_relative(s, d->ctx->config.refresh_interval_usec);
        return 0;
}

void directory_reconfigure(struct directory *d)
{
        if (d->enabled)
                sd_event_source_set_time_relative(d->refresh_timer, d->ctx->config.refresh_interval_usec);
}

void directory_set_enabled(struct directory *d, bool enabled)
{
        if (enabled && (!d->enabled || !d->built_once)) {
                d->enabled = true;
                sd_event_source_set_time_relative(d->refresh_timer, d->ctx->config.refresh_interval_usec);
                sd_event_source_set_enabled(d->refresh_timer, SD_EVENT_ON);
                if (!d->file_job)
                        directory_refresh(d);
        } else if (!enabled && d->enabled) {
                d->enabled = false;
                d->built_once = false;
                sd_event_source_set_enabled(d->refresh_timer, SD_EVENT_OFF);
                sd_event_source_set_enabled(d->rewrite_timer, SD_EVENT_OFF);
                answer_store_clear(&d->answers);
                d->map = cache_map_unref(d->map);
                /* No OS Login users without OS Login (a write in flight removes its file when it ends). */
                if (unlinkat(d->ctx->runtime_dir_fd, CACHE_FILE_NAME, 0) == 0)
                        log_info("OS Login is off: directory cache removed.");
                (void)unlinkat(d->ctx->runtime_dir_fd, NEGATIVE_TABLE_FILE_NAME, 0);
                /* No certificate opens the host without OS Login either. */
                if (unlinkat(d->ctx->runtime_dir_fd, TRUSTED_CA_FILE_NAME, 0) == 0)
                        log_info("OS Login is off: " TRUSTED_CA_FILE_NAME " removed.");
        }
}

bool directory_enabled(const struct directory *d)
{
        return d->enabled;
}

int directory_new(const struct daemon_context *ctx, bool oslogin,
        const struct directory_callbacks *callbacks, void *userdata, struct directory **ret)
{
        _cleanup_free_ char *path = NULL;
        struct directory *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        d->ctx = ctx;
        if (callbacks)
                d->callbacks = *callbacks;
        d->userdata = userdata;
        d->local = (struct local_db_watch)LOCAL_DB_WATCH_INIT(ctx->root, 0);
        r = sd_event_add_time(
                ctx->event, &d->refresh_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000000, on_refresh_timer, d);
        if (r >= 0)
                r = sd_event_add_time(ctx->event, &d->rewrite_timer, CLOCK_MONOTONIC, UINT64_MAX, 10000,
                        on_rewrite_timer, d);
        if (r < 0) {
                directory_free(d);
                return r;
        }
        sd_event_source_set_enabled(d->refresh_timer, SD_EVENT_OFF);
        sd_event_source_set_enabled(d->rewrite_timer, SD_EVENT_OFF);
        /* A daemon killed while writing the cache left its temp behind. */
        r = atomic_file_remove_stale(ctx->runtime_dir_fd, CACHE_FILE_NAME);
        if (r > 0)
                log_info("Removed %d unfinished cache file(s) of an earlier run.", r);
        /* The answers an earlier run's negative table holds are not ours. */
        (void)atomic_file_remove_stale(ctx->runtime_dir_fd, NEGATIVE_TABLE_FILE_NAME);
        (void)unlinkat(ctx->runtime_dir_fd, NEGATIVE_TABLE_FILE_NAME, 0);
        /* In OS Login mode the last cache serves until the first build replaces it, MDS down or not. */
        d->enabled = oslogin;
        if (d->enabled && asprintf(&path, "%s/%s", ctx->runtime_dir, CACHE_FILE_NAME) >= 0 &&
                cache_map_open(path, 0, &d->map) >= 0)
                d->generation = cache_map_header(d->map)->generation;
        *ret = d;
        return 0;
}

void directory_free(struct directory *d)
{
        if (!d)
                return;
        /* The worker pool was stopped first (main.c): no job of ours runs
         * or finishes any more, and those still listed are dropped with it. */
        sd_event_source_disable_unref(d->refresh_timer);
        sd_event_source_disable_unref(d->rewrite_timer);
        answer_store_clear(&d->answers);
        cache_map_unref(d->map);
        local_db_watch_done(&d->local);
        strmap_done(&d->reported);
        directory_groups_state_done(&d->groups);
        free(d);
}

void directory_status(const struct directory *d, FILE *f)
{
        fprintf(f, "directory: %s\n", d->enabled ? "enabled" : "disabled");
        if (d->map) {
                const struct cache_header *h = cache_map_header(d->map);
                fprintf(f, "cache-generation: %llu\n", (unsigned long long)h->generation);
                fprintf(f, "cache-age: %llus\n",
                        (unsigned long long)((now_realtime_usec() - h->created_usec) / 1000000u));
                fprintf(f, "cache-users: %u\n", h->n_users);
                fprintf(f, "cache-groups: %u\n", h->n_groups);
                fprintf(f, "cache-size: %llu\n", (unsigned long long)h->file_size);
        }
        fprintf(f, "directory-builds: %llu ok, %llu failed, %llu rewrites\n", (unsigned long long)d->builds,
                (unsigned long long)d->builds_failed, (unsigned long long)d->rewrites);
        if (d->builds)
                fprintf(f,
                        "directory-last-build: %llu ms, %u users, %u groups, %u self groups, %u local, %u "
                        "skipped\n",
                        (unsigned long long)(d->last_build_usec / 1000), d->last_stats.n_users,
                        d->last_stats.n_groups, d->last_stats.n_self_groups, d->last_stats.n_local,
                        d->last_stats.n_skipped);
        if (d->last_build_error < 0)
                fprintf(f, "directory-last-error: %s\n", strerror(-d->last_build_error));
        if (d->builds) {
                directory_groups_state_status(&d->groups, f);
                if (!isempty(d->ctx->config.users_group))
                        fprintf(f, "users-group: %s (GID %u)%s\n", d->ctx->config.users_group,
                                d->ctx->config.users_gid,
                                d->users_group_error < 0
                                        ? ", left out: a local group's name or GID, or invalid"
                                        : "");
                if (d->ca_result < 0)
                        fprintf(f, "trusted-ca: last refresh failed (%s), file kept\n",
                                strerror(-d->ca_result));
                else
                        fprintf(f, "trusted-ca: %d key(s)\n", d->ca_result);
        }
        fprintf(f,
                "nss-misses: %llu (%llu answered from memory, %llu asked the metadata server, %llu "
                "unavailable)\n",
                (unsigned long long)d->misses, (unsigned long long)d->answered_from_memory,
                (unsigned long long)d->mds_lookups, (unsigned long long)d->unavail);
        fprintf(f, "nss-answers-cached: %zu\n", d->answers.n);
        fprintf(f, "breaker: %s\n", d->breaker.open_until ? "open" : "closed");
}
