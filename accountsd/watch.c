/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "accountsd/watch.h"
#include "accountsd/worker.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/time-util.h"

struct watch {
        const struct daemon_context *ctx;
        struct watch_callbacks callbacks;
        void *userdata;
        pthread_t thread;
        bool started; /* THREAD to join */
        /* Written by watch_stop(), never read: the long-poll in flight and
         * every later call of the watch's clients return -ECANCELED. */
        int cancel_fd;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        bool stopping, kicked;
        struct mds_client *client, *next_client;

        /* Main thread only: what `osloginctl status` shows. */
        unsigned failures;
        int last_error;
        uint64_t last_success_realtime_usec;
        uint64_t documents;
        char *etag;
};

enum watch_event_kind { WATCH_DOCUMENT, WATCH_FAILED, WATCH_RECOVERED };

struct watch_event {
        struct job job;
        struct watch *watch;
        enum watch_event_kind kind;
        int error;
        unsigned failures;
        struct mds_response response;
};

bool watch_no_metadata_server(int error)
{
        return error == -ECONNREFUSED || error == -ENETUNREACH || error == -ENETDOWN;
}

const char *watch_no_server_status(int error)
{
        return error == -ECONNREFUSED
                       ? "no metadata server (connection refused); accounts unchanged, retrying"
                       : "no metadata server (no route); accounts unchanged, retrying";
}

uint64_t watch_backoff_usec(unsigned failures, uint64_t random_value)
{
        unsigned shift = failures > 0 ? MIN(failures - 1, 16u) : 0;
        uint64_t d = MIN(WATCH_BACKOFF_MIN_USEC << shift, WATCH_BACKOFF_MAX_USEC);
        return d / 2 + random_value % (d / 2 + 1);
}

static void on_event(struct job *j)
{
        struct watch_event *e = (struct watch_event *)j;
        struct watch *w = e->watch;

        switch (e->kind) {
        case WATCH_FAILED:
                w->failures = e->failures;
                w->last_error = e->error;
                /* One line when an outage starts, then one every 20 failures.
                 * Refused or no route: there is no server, not a failing one. */
                if (e->failures == 1) {
                        bool none = watch_no_metadata_server(e->error);
                        log_event(none ? LOG_NOTICE : LOG_WARNING, MESSAGE_ID_MDS_LOST,
                                LOG_FIELDS({"OSLOGIN_REASON", strerror(abs(e->error))}),
                                none ? "No metadata server (%s): not a cloud VM, or not yet; accounts left "
                                       "unchanged, retrying."
                                     : "Metadata server unavailable (%s); retrying, accounts left "
                                       "unchanged.",
                                strerror(abs(e->error)));
                } else if (e->failures % 20 == 0 && watch_no_metadata_server(e->error))
                        log_notice_errno(e->error,
                                "No metadata server (%m): not a cloud VM, or not yet; accounts left "
                                "unchanged, retrying.");
                else if (e->failures % 20 == 0)
                        log_warning_errno(e->error,
                                "Metadata server unavailable (%m); retrying, accounts left unchanged.");
                if (w->callbacks.unreachable)
                        w->callbacks.unreachable(e->error, e->failures, w->userdata);
                break;
        case WATCH_RECOVERED: {
                char failures[16];
                snprintf(failures, sizeof(failures), "%u", w->failures);
                log_event(LOG_INFO, MESSAGE_ID_MDS_BACK, LOG_FIELDS({"OSLOGIN_FAILURES", failures}),
                        "Metadata server reachable again after %u failed requests.", w->failures);
        }
                w->failures = 0;
                w->last_success_realtime_usec = now_realtime_usec();
                if (w->callbacks.reachable)
                        w->callbacks.reachable(w->userdata);
                break;
        case WATCH_DOCUMENT:
                w->failures = 0;
                w->last_success_realtime_usec = now_realtime_usec();
                w->documents++;
                if (w->callbacks.reachable)
                        w->callbacks.reachable(w->userdata);
                free(w->etag);
                w->etag = e->response.etag ? strdup(e->response.etag) : NULL;
                if (w->callbacks.document)
                        w->callbacks.document(e->response.body, e->response.size, w->userdata);
                break;
        }
        mds_response_done(&e->response);
        free(e);
}

static void drop_event(struct job *j)
{
        struct watch_event *e = (struct watch_event *)j;
        mds_response_done(&e->response);
        free(e);
}

static void post(struct watch *w, enum watch_event_kind kind, int error, unsigned failures,
        struct mds_response *response)
{
        struct watch_event *e = calloc(1, sizeof(*e));
        if (!e)
                return; /* the next change or retry posts again */
        *e = (struct watch_event){.job = {.done = on_event, .drop = drop_event},
                .watch = w,
                .kind = kind,
                .error = error,
                .failures = failures};
        if (response) {
                e->response = *response;
                *response = (struct mds_response){};
        }
        /* The pool is freed only after watch_stop() joined this thread. */
        worker_pool_post(w->ctx->pool, &e->job);
}

/* Sleeps USEC unless stopped or kicked; returns false when stopping. */
static bool pause_usec(struct watch *w, uint64_t usec)
{
        struct timespec until;
        bool go_on;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(usec / 1000000u);
        until.tv_nsec += (long)(usec % 1000000u) * 1000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&w->lock);
        while (!w->stopping && !w->kicked)
                if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT)
                        break;
        w->kicked = false;
        go_on = !w->stopping;
        pthread_mutex_unlock(&w->lock);
        return go_on;
}

static struct mds_client *current_client(struct watch *w)
{
        pthread_mutex_lock(&w->lock);
        if (w->next_client) {
                mds_client_free(w->client);
                w->client = TAKE_PTR(w->next_client);
        }
        struct mds_client *c = w->stopping ? NULL : w->client;
        pthread_mutex_unlock(&w->lock);
        return c;
}

static void *watch_main(void *userdata)
{
        struct watch *w = userdata;
        _cleanup_free_ char *etag = NULL;
        unsigned failures = 0;
        struct mds_client *client;

        while ((client = current_client(w))) {
                struct mds_response resp = {};
                int r = etag ? mds_wait_for_change(
                                       client, WATCH_DOCUMENT_PATH, etag, WATCH_LONG_POLL_SEC, &resp)
                             : mds_get(client, WATCH_DOCUMENT_PATH, &resp);
                if (r == -ECANCELED)
                        break; /* watch_stop() */
                if (r < 0) {
                        uint64_t random_value = 0;
                        failures++;
                        post(w, WATCH_FAILED, r, failures, NULL);
                        (void)!getrandom(&random_value, sizeof(random_value), GRND_NONBLOCK);
                        if (!pause_usec(w, watch_backoff_usec(failures, random_value)))
                                break;
                        continue;
                }
                bool changed = !etag || !resp.etag || !streq(etag, resp.etag);
                if (failures > 0 && !changed)
                        post(w, WATCH_RECOVERED, 0, failures, NULL);
                failures = 0;
                if (changed) {
                        free(etag);
                        etag = resp.etag ? strdup(resp.etag) : NULL;
                        post(w, WATCH_DOCUMENT, 0, 0, &resp);
                }
                mds_response_done(&resp);
                if (!etag && !pause_usec(w, WATCH_BACKOFF_MIN_USEC))
                        break; /* a server without ETags cannot long-poll: do not spin */
        }
        return NULL;
}

static int new_client(struct watch *w, const struct oslogin_config *config, struct mds_client **ret)
{
        int r = mds_client_new(config, 0, ret);
        if (r < 0)
                return r;
        /* The watch backs off itself, across calls. */
        mds_client_set_max_attempts(*ret, 1);
        mds_client_set_cancel_fd(*ret, w->cancel_fd);
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct watch *, watch_free);

int watch_start(const struct daemon_context *ctx, const struct watch_callbacks *callbacks, void *userdata,
        struct watch **ret)
{
        _cleanup_(watch_freep) struct watch *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->ctx = ctx;
        if (callbacks)
                w->callbacks = *callbacks;
        w->userdata = userdata;
        pthread_mutex_init(&w->lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        /* pause_usec() waits against CLOCK_MONOTONIC: wall clock jumps must not cut a back-off short. */
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&w->wake, &attr);
        pthread_condattr_destroy(&attr);
        w->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->cancel_fd < 0)
                return negative_errno();
        r = new_client(w, &ctx->config, &w->client);
        if (r < 0)
                return r;
        r = -pthread_create(&w->thread, NULL, watch_main, w);
        if (r < 0)
                return r;
        w->started = true;
        *ret = TAKE_PTR(w);
        return 0;
}

void watch_stop(struct watch *w)
{
        uint64_t one = 1;

        if (!w)
                return;
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
        /* Cuts a long-poll short: it may have 60 s to go. */
        if (w->cancel_fd >= 0)
                (void)!write(w->cancel_fd, &one, sizeof(one));
        if (w->started)
                pthread_join(w->thread, NULL);
        w->started = false;
}

void watch_free(struct watch *w)
{
        if (!w)
                return;
        watch_stop(w);
        mds_client_free(w->client);
        mds_client_free(w->next_client);
        free(w->etag);
        safe_close(w->cancel_fd);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
}

int watch_reconfigure(struct watch *w, const struct oslogin_config *config)
{
        struct mds_client *c;
        int r = new_client(w, config, &c);
        if (r < 0)
                return r;
        pthread_mutex_lock(&w->lock);
        mds_client_free(w->next_client);
        w->next_client = c;
        pthread_mutex_unlock(&w->lock);
        return 0;
}

void watch_kick(struct watch *w)
{
        pthread_mutex_lock(&w->lock);
        w->kicked = true;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
}

void watch_status(const struct watch *w, FILE *f)
{
        fprintf(f, "metadata: %s\n",
                w->failures == 0                          ? "reachable"
                : watch_no_metadata_server(w->last_error) ? "no server"
                                                          : "unreachable");
        if (w->failures > 0)
                fprintf(f, "metadata-failures: %u (%s)\n", w->failures, strerror(-w->last_error));
        fprintf(f, "metadata-documents: %llu\n", (unsigned long long)w->documents);
        if (w->last_success_realtime_usec)
                fprintf(f, "metadata-last-success-age: %llus\n",
                        (unsigned long long)((now_realtime_usec() - w->last_success_realtime_usec) /
                                             1000000u));
        fprintf(f, "metadata-etag: %s\n", w->etag ?: "-");
}
