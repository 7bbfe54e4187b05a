/* SPDX-License-Identifier: Apache-2.0 */
/* The directory's misses (directory.h): a question the cache file could
 * not answer is answered from memory, or asked of the metadata server by a
 * worker, identical questions sharing one request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/directory-answers.h"
#include "accountsd/directory-fetch.h"
#include "accountsd/directory-internal.h"
#include "accountsd/directory-local.h"
#include "accountsd/directory-records.h"
#include "accountsd/users-group.h"
#include "accountsd/worker.h"
#include "basic/log.h"
#include "basic/time-util.h"

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
        const char *root; /* the context's: outlives the job */
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
        const struct oslogin_config *c = &d->ctx->config;
        bool found = f->result == NSS_PROTO_FOUND;

        if (!found && c->negative_ttl_usec == 0)
                return;
        answer_store_add(&d->answers, f->key, &f->q, found, f->reply.data, f->reply.size,
                now_monotonic_usec(),
                found ? MAX(c->refresh_interval_usec * 2, 60000000ull) : c->negative_ttl_usec);
        /* The module reads "not found" from the negative table: the next
         * question for the same name costs it no round trip to us. */
        int r = found ? 0
                      : answer_store_write_negatives(
                                &d->answers, d->ctx->runtime_dir_fd, now_monotonic_usec());
        if (r < 0)
                log_warning_errno(r, "Cannot write the negative table: %m");
}

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
                log_warning("Directory answer for \"%s\" collides with a cached entry (duplicate name or ID "
                            "in the "
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
                        directory_schedule_rewrite(d);
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

static int ask_metadata(struct directory *d, const struct nss_proto_request *q, char *key,
        directory_reply_t cb, void *userdata, struct directory_waiter **ret_waiter)
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
                *f = (struct inflight){
                        .job = {.run = inflight_run, .done = inflight_done, .drop = inflight_drop},
                        .directory = d,
                        .q = *q,
                        .key = TAKE_PTR(key),
                        .root = d->ctx->root,
                        .uid_floor = d->ctx->config.uid_floor,
                        .users_gid = d->ctx->config.users_gid,
                        .budget_usec = MAX(d->ctx->config.nss_timeout_usec, 500000ull),
                        .reply = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX),
                        .next = d->inflight};
                snprintf(f->users_group, sizeof(f->users_group), "%s", d->ctx->config.users_group ?: "");
                d->inflight = f;
                d->n_inflight++;
                d->mds_lookups++;
                worker_pool_submit(d->ctx->pool, &f->job);
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

int directory_lookup(struct directory *d, const struct nss_proto_request *q, directory_reply_t cb,
        void *userdata, struct directory_waiter **ret_waiter)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        char *key;
        struct stored_answer *a;
        int r;

        d->misses++;
        if (!d->enabled) {
                reply_status(NSS_PROTO_NOTFOUND, cb, userdata); /* OS Login is off: no such user */
                return 1;
        }
        r = directory_answer_from_map(d->map, q, &b);
        if (r == -ENOENT && !isempty(d->ctx->config.users_group)) {
                /* Before the first build: sshd names the group by its GID. */
                b.size = 0;
                r = users_group_reply(d->ctx->config.users_group, d->ctx->config.users_gid, q, &b);
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
        if (!joining && (d->n_inflight >= DIRECTORY_INFLIGHT_MAX ||
                                breaker_blocks(&d->breaker, now_monotonic_usec()))) {
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
