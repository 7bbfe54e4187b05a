/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accountsd/control.h"
#include "accountsd/directory-answers.h"
#include "accountsd/directory-fetch.h"
#include "accountsd/directory-local.h"
#include "accountsd/directory-records.h"
#include "accountsd/directory.h"
#include "accountsd/mode.h"
#include "hostconf/trusted-ca.h"
#include "accountsd/users-group.h"
#include "accountsd/worker.h"
#include "basic/atomic-file.h"
#include "basic/cache-writer.h"
#include "basic/local-db-watch.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/negative-table.h"
#include "basic/time-util.h"
#include "basic/strv.h"

struct directory_waiter {
        struct inflight *inflight;
        directory_reply_t cb;
        void *userdata;
        struct directory_waiter *next;
};

/* One question on its way to the metadata server; identical ones wait with it. */
struct inflight {
        struct job job;
        struct directory *directory;
        struct nss_proto_request q;
        char *key;
        const char *root; /* the manager's: outlives the job */
        uint32_t uid_floor;
        char users_group[USER_NAME_MAX + 1]; /* "": none */
        uint32_t users_gid;
        uint64_t budget_usec;
        int result; /* status, or -errno */
        struct byte_buffer reply;
        struct left_out_list left_out; /* logged by the loop */
        struct directory_waiter *waiters;
        struct inflight *next;
};

/* A cache file write (full build, or the current file plus answered misses). */
struct file_job {
        struct job job;
        struct directory *directory;
        bool full;
        const char *root;
        uint32_t uid_floor, page_size, timeout_ms;
        uint64_t generation, started_usec;
        int dir_fd;
        struct cache_map *base; /* rewrite: the file to extend */
        struct answer *adds;    /* rewrite: copies of found answers */
        size_t n_adds;
        int result;
        struct directory_build_stats stats;
        struct directory_local_filter filter; /* what the host's accounts kept out, logged by the loop */
        uint64_t took_usec;
        struct directory_group_set *last_groups; /* full: a reference, the fallback of a failed groups listing */
        struct directory_group_set *new_groups;  /* full: what the groups listing returned */
        struct mds_client *extra[DIRECTORY_MEMBER_CLIENTS - 1]; /* full: member lists in parallel */
        size_t n_extra;
        char users_group[USER_NAME_MAX + 1];     /* "": none */
        uint32_t users_gid;
        int users_group_error;                   /* why it was left out (a local group's name or GID) */
        int ca_result;                           /* full: the TrustedUserCAKeys refresh, keys or -errno */
        bool ca_changed;
};

struct directory {
        struct manager *manager;
        bool enabled, built_once;
        struct cache_map *map; /* what the file holds now */
        uint64_t generation;
        sd_event_source *refresh_timer, *rewrite_timer;
        struct file_job *file_job; /* at most one write at a time */
        bool build_wanted, rewrite_wanted;

        struct answer_store answers;
        struct inflight *inflight;
        unsigned n_inflight;
        struct breaker breaker;
        /* The host's own accounts, for answers given from memory; the names
         * left out that were logged since the last build. */
        struct local_db_watch local;
        struct strmap reported;

        /* For `osloginctl status`. */
        uint64_t builds, builds_failed, rewrites, last_build_usec, last_build_realtime;
        int last_build_error;
        uint64_t misses, mds_lookups, answered_from_memory, unavail;
        struct directory_build_stats last_stats;
        struct directory_groups_state groups;
        int users_group_error, ca_result; /* the last build's */
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
                  LOG_FIELDS({"OSLOGIN_USERS", users}, {"OSLOGIN_GROUPS", groups}, {"OSLOGIN_SKIPPED", skipped},
                             {"OSLOGIN_REASON", st->skipped_detail}, {"OSLOGIN_LATENCY_USEC", latency}),
                  "Directory cache built in %llu ms: %u users, %u groups, %u self groups, %u left out as local "
                  "names, %u skipped%s%s%s.",
                  (unsigned long long)(took_usec / 1000), st->n_users, st->n_groups, st->n_self_groups, st->n_local,
                  st->n_skipped, st->skipped_detail[0] ? ": " : "", st->skipped_detail,
                  st->n_skipped && !st->skipped_detail[0] ? " (groups)" : "");
}

static void reply_status(enum nss_proto_status status, directory_reply_t cb, void *userdata)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        if (nss_proto_reply_status(&b, status) < 0)
                cb(userdata, NULL, 0);
        else
                cb(userdata, b.data, b.size);
}

void directory_mds_unreachable(struct directory *d)
{
        d->breaker.failures = DIRECTORY_BREAKER_THRESHOLD - 1;
        breaker_record(&d->breaker, false, now_monotonic_usec());
}

void directory_mds_reachable(struct directory *d)
{
        if (d->breaker.open_until || d->breaker.failures)
                breaker_record(&d->breaker, true, now_monotonic_usec());
}

/* Found records live until a full build that started later has them (or
 * not); "not found" for negative_ttl (0: not kept). */
static void remember_answer(struct directory *d, const struct inflight *f)
{
        const struct oslogin_config *c = &d->manager->config;
        bool found = f->result == NSS_PROTO_FOUND;

        if (!found && c->negative_ttl_usec == 0)
                return;
        answer_store_add(&d->answers, f->key, &f->q, found, f->reply.data, f->reply.size, now_monotonic_usec(),
                         found ? MAX(c->refresh_interval_usec * 2, 60000000ull) : c->negative_ttl_usec);
        /* The module reads "not found" from the negative table: the next
         * question for the same name costs it no round trip to us. */
        int r = found ? 0 : answer_store_write_negatives(&d->answers, d->manager->runtime_dir_fd, now_monotonic_usec());
        if (r < 0)
                log_warning_errno(r, "Cannot write the negative table: %m");
}

static void schedule_rewrite(struct directory *d);

static void inflight_run(struct job *j, struct mds_client *client)
{
        struct inflight *f = (struct inflight *)j;
        _cleanup_local_db_ struct local_db *local = NULL;

        /* Read now, not at enable: the answer is checked against the host as it is. */
        f->result = local_db_load(f->root, &local);
        if (f->result < 0) {
                log_error_errno(f->result, "Cannot read the host's accounts to check \"%s\": %m", f->key);
                return;
        }
        /* The module waits nss_timeout for us: an answer later than that helps
         * nobody, and a quick failure lets the breaker open sooner. */
        mds_client_set_deadline(client, now_monotonic_usec() + f->budget_usec);
        f->result = directory_fetch_answer(client, f->uid_floor, local, &f->left_out, &f->q, &f->reply);
        mds_client_set_deadline(client, 0);
        /* Every OS Login user is in the synthetic group (users-group.h). */
        if (f->result == NSS_PROTO_FOUND && f->users_group[0] &&
            users_group_check(local, f->users_group, f->users_gid, f->uid_floor) >= 0 &&
            users_group_extend_reply(&f->q, &f->reply, f->users_gid) < 0)
                f->result = -ENOMEM;
}

static void inflight_unlink(struct directory *d, struct inflight *f)
{
        for (struct inflight **p = &d->inflight; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        d->n_inflight--;
                        return;
                }
}

/* Frees the question without answering anyone: after inflight_done(), or
 * for a question never answered when the pool is freed (teardown). */
static void inflight_drop(struct job *j)
{
        struct inflight *f = (struct inflight *)j;

        while (f->waiters) {
                struct directory_waiter *w = f->waiters;
                f->waiters = w->next;
                free(w);
        }
        byte_buffer_done(&f->reply);
        left_out_list_done(&f->left_out);
        free(f->key);
        free(f);
}

static void inflight_done(struct job *j)
{
        struct inflight *f = (struct inflight *)j;
        struct directory *d = f->directory;
        struct directory_waiter *w;

        if (f->result == NSS_PROTO_FOUND &&
            directory_answer_collides(d->map, &f->q, f->reply.data, f->reply.size)) {
                log_warning("Directory answer for \"%s\" collides with a cached entry (duplicate name or ID in the "
                            "directory); answering not found.",
                            f->key);
                f->reply.size = 0;
                f->result = nss_proto_reply_status(&f->reply, NSS_PROTO_NOTFOUND) ?: NSS_PROTO_NOTFOUND;
        }
        directory_local_report(&d->reported, &f->left_out);
        inflight_unlink(d, f);
        breaker_record(&d->breaker, f->result >= 0, now_monotonic_usec());
        if (f->result >= 0 && d->enabled) {
                remember_answer(d, f);
                if (f->result == NSS_PROTO_FOUND && f->q.type != NSS_PROTO_INITGROUPS)
                        schedule_rewrite(d);
        } else if (f->result < 0) {
                d->unavail++;
                log_debug_errno(f->result, "Directory question \"%s\" not answered: %m", f->key);
        }
        while ((w = f->waiters)) {
                f->waiters = w->next;
                if (f->result >= 0)
                        w->cb(w->userdata, f->reply.data, f->reply.size);
                else
                        reply_status(NSS_PROTO_UNAVAIL, w->cb, w->userdata);
                free(w);
        }
        inflight_drop(j);
}

static int ask_metadata(struct directory *d, const struct nss_proto_request *q, char *key, directory_reply_t cb,
                        void *userdata, struct directory_waiter **ret_waiter)
{
        struct inflight *f;
        struct directory_waiter *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        for (f = d->inflight; f; f = f->next)
                if (streq(f->key, key))
                        break;
        if (!f) {
                if (!(f = calloc(1, sizeof(*f)))) {
                        free(w);
                        return -ENOMEM;
                }
                *f = (struct inflight){.job = {.run = inflight_run, .done = inflight_done,
                                               .drop = inflight_drop},
                                       .directory = d, .q = *q,
                                       .key = TAKE_PTR(key), .root = d->manager->root,
                                       .uid_floor = d->manager->config.uid_floor,
                                       .users_gid = d->manager->config.users_gid,
                                       .budget_usec = MAX(d->manager->config.nss_timeout_usec, 500000ull),
                                       .reply = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX), .next = d->inflight};
                snprintf(f->users_group, sizeof(f->users_group), "%s", d->manager->config.users_group ?: "");
                d->inflight = f;
                d->n_inflight++;
                d->mds_lookups++;
                worker_pool_submit(d->manager->pool, &f->job);
        }
        free(key);
        *w = (struct directory_waiter){.inflight = f, .cb = cb, .userdata = userdata, .next = f->waiters};
        f->waiters = w;
        *ret_waiter = w;
        return 0;
}

/* The cache and the answer store were checked against the host when they
 * were filled; /etc may have changed since (a group added by a package). */
static int answer_from_memory(struct directory *d, const struct nss_proto_request *q, struct byte_buffer *b,
                              directory_reply_t cb, void *userdata)
{
        const struct local_db *local;
        int r = local_db_watch_get(&d->local, &local);

        if (r < 0) {
                log_error_errno(r, "Cannot read the host's accounts: %m");
                d->unavail++;
                reply_status(NSS_PROTO_UNAVAIL, cb, userdata);
                return 1;
        }
        r = directory_local_check_reply(local, d->map, q, b);
        if (r < 0)
                return r;
        d->answered_from_memory++;
        cb(userdata, b->data, b->size);
        return 1;
}

int directory_lookup(struct directory *d, const struct nss_proto_request *q, directory_reply_t cb, void *userdata,
                     struct directory_waiter **ret_waiter)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        char *key;
        struct answer *a;
        int r;

        d->misses++;
        if (!d->enabled) {
                reply_status(NSS_PROTO_NOTFOUND, cb, userdata); /* OS Login is off: no such user */
                return 1;
        }
        r = directory_answer_from_map(d->map, q, &b);
        if (r == -ENOENT && !isempty(d->manager->config.users_group)) {
                /* Before the first build: sshd names the group by its GID. */
                b.size = 0;
                r = users_group_reply(d->manager->config.users_group, d->manager->config.users_gid, q, &b);
                r = r < 0 ? r : r > 0 ? 0 : -ENOENT;
        }
        if (r >= 0)
                return answer_from_memory(d, q, &b, cb, userdata);
        if (!(key = answer_key(q)))
                return -ENOMEM;
        if ((a = answer_store_find(&d->answers, key, now_monotonic_usec()))) {
                free(key);
                b.size = 0;
                r = byte_buffer_put_bytes(&b, a->msg, a->size);
                return r < 0 ? r : answer_from_memory(d, q, &b, cb, userdata);
        }
        bool joining = false;
        for (struct inflight *f = d->inflight; f && !joining; f = f->next)
                joining = streq(f->key, key);
        if (!joining && (d->n_inflight >= DIRECTORY_INFLIGHT_MAX || breaker_blocks(&d->breaker, now_monotonic_usec()))) {
                free(key);
                d->unavail++;
                reply_status(NSS_PROTO_UNAVAIL, cb, userdata);
                return 1;
        }
        r = ask_metadata(d, q, key, cb, userdata, ret_waiter);
        return r < 0 ? r : 0;
}

void directory_waiter_cancel(struct directory *d, struct directory_waiter *w)
{
        (void)d;
        for (struct directory_waiter **p = &w->inflight->waiters; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        free(w);
                        return;
                }
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
                        r = users_group_add(w, local, f->users_group, f->users_gid, f->uid_floor,
                                            &f->users_group_error);
                if (r < 0)
                        ;
                else if (f->full) {
                        /* The pool's stop interrupts the member lists' calls too. */
                        for (size_t i = 0; i < f->n_extra; i++)
                                mds_client_set_cancel_fd(f->extra[i], mds_client_cancel_fd(client));
                        r = directory_fetch_all(client, f->extra, f->n_extra, f->uid_floor, f->page_size, w,
                                                f->last_groups,
                                                &f->new_groups, &f->stats);
                } else {
                        for (size_t i = 0; i < f->n_adds && r >= 0; i++)
                                r = directory_writer_add_reply(w, &f->adds[i].q, f->adds[i].msg, f->adds[i].size);
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
                answer_done(&f->adds[i]);
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

        if (asprintf(&path, "%s/%s", d->manager->runtime_dir, CACHE_FILE_NAME) < 0)
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
                          "sshd drop-in is not applied either ([sshd] users_group, users_gid in oslogin.conf).",
                          f->users_group, f->users_gid,
                          f->users_group_error == -EEXIST ? "clashes with a local group's name or GID"
                                                          : "is not a valid group name and GID");
        d->users_group_error = f->users_group_error;
        if (f->ca_result < 0 && d->ca_result >= 0)
                log_warning_errno(f->ca_result, "Cannot refresh the trusted certificate authorities "
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
        struct manager *m = d->manager;

        d->file_job = NULL;
        if (f->full && d->enabled)
                report_build_extras(d, f);
        if (!d->enabled) {
                /* switched off meanwhile */
                (void)unlinkat(m->runtime_dir_fd, CACHE_FILE_NAME, 0);
                (void)unlinkat(m->runtime_dir_fd, TRUSTED_CA_FILE_NAME, 0);
        }
        else if (f->result < 0 && f->full) {
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
                                const struct answer *a = &d->answers.answers[i];
                                if (a->found && a->q.type != NSS_PROTO_INITGROUPS)
                                        d->rewrite_wanted = true;
                        }
                        directory_log_built(f->took_usec, &f->stats);
                } else
                        d->rewrites++;
        }
        if (f->full) {
                control_build_finished(m->control, f->result);
                if (m->once)
                        manager_once_finished(m, f->result);
        }
        file_job_free(f);
        start_file_job(d);
}

static int copy_found_answers(struct directory *d, struct file_job *f)
{
        f->adds = calloc(d->answers.n + 1, sizeof(*f->adds));
        if (!f->adds)
                return -ENOMEM;
        for (size_t i = 0; i < d->answers.n; i++) {
                const struct answer *a = &d->answers.answers[i];
                if (!a->found || a->q.type == NSS_PROTO_INITGROUPS)
                        continue;
                struct answer *c = &f->adds[f->n_adds];
                *c = (struct answer){.q = a->q, .size = a->size, .msg = malloc(a->size)};
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
        struct manager *m = d->manager;
        struct file_job *f;

        if (d->file_job || !d->enabled || (!d->build_wanted && !d->rewrite_wanted))
                return;
        if (!(f = calloc(1, sizeof(*f))))
                return;
        *f = (struct file_job){
                .job = {.run = file_job_run, .done = file_job_done, .drop = file_job_drop},
                .directory = d, .full = d->build_wanted,
                .root = m->root,
                .uid_floor = m->config.uid_floor, .page_size = m->config.page_size,
                .timeout_ms = (uint32_t)MIN(m->config.nss_timeout_usec / 1000, (uint64_t)CACHE_SOCKET_TIMEOUT_MS_MAX),
                .generation = ++d->generation, .started_usec = now_monotonic_usec(), .dir_fd = m->runtime_dir_fd,
                .users_gid = m->config.users_gid,
        };
        snprintf(f->users_group, sizeof(f->users_group), "%s", m->config.users_group ?: "");
        if (f->full) {
                f->last_groups = directory_group_set_ref(d->groups.last_good);
                /* Made here, from the configuration as it is now; none is fine. */
                while (f->n_extra < ELEMENTSOF(f->extra) && mds_client_new(&m->config, 0, &f->extra[f->n_extra]) >= 0)
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
        worker_pool_submit(m->pool, &f->job);
}

static int on_rewrite_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct directory *d = userdata;
        (void)s, (void)usec;
        d->rewrite_wanted = true;
        start_file_job(d);
        return 0;
}

/* Several misses answered close together become one rewrite. */
static void schedule_rewrite(struct directory *d)
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
        sd_event_source_set_time_relative(s, d->manager->config.refresh_interval_usec);
        return 0;
}

void directory_reconfigure(struct directory *d)
{
        if (d->enabled)
                sd_event_source_set_time_relative(d->refresh_timer, d->manager->config.refresh_interval_usec);
}

void directory_set_enabled(struct directory *d, bool enabled)
{
        if (enabled && (!d->enabled || !d->built_once)) {
                d->enabled = true;
                sd_event_source_set_time_relative(d->refresh_timer, d->manager->config.refresh_interval_usec);
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
                if (unlinkat(d->manager->runtime_dir_fd, CACHE_FILE_NAME, 0) == 0)
                        log_info("OS Login is off: directory cache removed.");
                (void)unlinkat(d->manager->runtime_dir_fd, NEGATIVE_TABLE_FILE_NAME, 0);
                /* No certificate opens the host without OS Login either. */
                if (unlinkat(d->manager->runtime_dir_fd, TRUSTED_CA_FILE_NAME, 0) == 0)
                        log_info("OS Login is off: " TRUSTED_CA_FILE_NAME " removed.");
        }
}

bool directory_enabled(const struct directory *d)
{
        return d->enabled;
}

int directory_new(struct manager *m, struct directory **ret)
{
        _cleanup_free_ char *path = NULL;
        struct directory *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        d->manager = m;
        d->local = (struct local_db_watch)LOCAL_DB_WATCH_INIT(m->root, 0);
        r = sd_event_add_time(m->event, &d->refresh_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000000, on_refresh_timer,
                              d);
        if (r >= 0)
                r = sd_event_add_time(m->event, &d->rewrite_timer, CLOCK_MONOTONIC, UINT64_MAX, 10000,
                                      on_rewrite_timer, d);
        if (r < 0) {
                directory_free(d);
                return r;
        }
        sd_event_source_set_enabled(d->refresh_timer, SD_EVENT_OFF);
        sd_event_source_set_enabled(d->rewrite_timer, SD_EVENT_OFF);
        /* A daemon killed while writing the cache left its temp behind. */
        r = atomic_file_remove_stale(m->runtime_dir_fd, CACHE_FILE_NAME);
        if (r > 0)
                log_info("Removed %d unfinished cache file(s) of an earlier run.", r);
        /* The answers an earlier run's negative table holds are not ours. */
        (void)atomic_file_remove_stale(m->runtime_dir_fd, NEGATIVE_TABLE_FILE_NAME);
        (void)unlinkat(m->runtime_dir_fd, NEGATIVE_TABLE_FILE_NAME, 0);
        /* In OS Login mode the last cache serves until the first build replaces it, MDS down or not. */
        d->enabled = mode_current(m->mode) == HOST_MODE_OSLOGIN;
        if (d->enabled && asprintf(&path, "%s/%s", m->runtime_dir, CACHE_FILE_NAME) >= 0 &&
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
                fprintf(f, "cache-age: %llus\n", (unsigned long long)((now_realtime_usec() - h->created_usec) / 1000000u));
                fprintf(f, "cache-users: %u\n", h->n_users);
                fprintf(f, "cache-groups: %u\n", h->n_groups);
                fprintf(f, "cache-size: %llu\n", (unsigned long long)h->file_size);
        }
        fprintf(f, "directory-builds: %llu ok, %llu failed, %llu rewrites\n", (unsigned long long)d->builds,
                (unsigned long long)d->builds_failed, (unsigned long long)d->rewrites);
        if (d->builds)
                fprintf(f, "directory-last-build: %llu ms, %u users, %u groups, %u self groups, %u local, %u skipped\n",
                        (unsigned long long)(d->last_build_usec / 1000), d->last_stats.n_users, d->last_stats.n_groups,
                        d->last_stats.n_self_groups, d->last_stats.n_local, d->last_stats.n_skipped);
        if (d->last_build_error < 0)
                fprintf(f, "directory-last-error: %s\n", strerror(-d->last_build_error));
        if (d->builds) {
                directory_groups_state_status(&d->groups, f);
                if (!isempty(d->manager->config.users_group))
                        fprintf(f, "users-group: %s (GID %u)%s\n", d->manager->config.users_group,
                                d->manager->config.users_gid,
                                d->users_group_error < 0 ? ", left out: a local group's name or GID, or invalid" : "");
                if (d->ca_result < 0)
                        fprintf(f, "trusted-ca: last refresh failed (%s), file kept\n", strerror(-d->ca_result));
                else
                        fprintf(f, "trusted-ca: %d key(s)\n", d->ca_result);
        }
        fprintf(f, "nss-misses: %llu (%llu answered from memory, %llu asked the metadata server, %llu unavailable)\n",
                (unsigned long long)d->misses, (unsigned long long)d->answered_from_memory,
                (unsigned long long)d->mds_lookups, (unsigned long long)d->unavail);
        fprintf(f, "nss-answers-cached: %zu\n", d->answers.n);
        fprintf(f, "breaker: %s\n", d->breaker.open_until ? "open" : "closed");
}
