/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small pool of threads for the daemon's blocking work (HTTP calls to
 * the metadata server, cache file builds), feeding results back into the
 * sd-event loop.
 *
 * Why threads and not an event-driven client: lib/mds is a blocking client (retries,
 * deadlines, size caps, flavour checks in one place), also used as it is by
 * the test tools (oslogin-mds-get); wrapping it in threads keeps one client
 * implementation. Each thread owns one mds_client (its keep-alive connection
 * is not shared between threads).
 *
 * A job runs run() in a worker thread, then done() in the main thread
 * (which owns and frees the job). worker_pool_post() skips the worker and
 * queues done() directly; any thread may call it (the long-poll thread
 * does). The main loop learns about finished jobs through an eventfd.
 *
 * The pool owns its threads: worker_pool_stop() interrupts the metadata
 * calls in progress (every client of the pool polls the pool's cancel
 * eventfd, see mds_client_set_cancel_fd()) and joins every thread, so
 * nothing of the pool runs once it returns. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "mds/config.h"
#include "mds/mds-client.h"

struct job;
typedef void (*job_run_t)(struct job *j, struct mds_client *client);
typedef void (*job_done_t)(struct job *j);
typedef void (*job_drop_t)(struct job *j);

struct job {
        job_run_t run;   /* worker thread; may be NULL */
        job_done_t done; /* main thread; owns J */
        /* Main thread, instead of done(), for a job that never finished
         * when the pool is freed (worker_pool_free()). The part the job
         * served may be gone by then: drop() releases J's own memory and
         * touches nothing else. Required. */
        job_drop_t drop;
        struct job *next;
};

struct worker_pool;

int worker_pool_new(
        sd_event *event, const struct oslogin_config *config, unsigned n_threads, struct worker_pool **ret);
/* Stops the pool: no job starts any more, the metadata calls in progress
 * return -ECANCELED at once (so a 60 s call never delays SIGTERM), and every
 * thread is joined before this returns. No done() runs afterwards; the jobs
 * not finished stay with the pool until worker_pool_free() drops them. A
 * second call does nothing. */
void worker_pool_stop(struct worker_pool *p);
/* Stops the pool if it still runs, drops the jobs never finished (drop(),
 * never done()) and frees it. */
void worker_pool_free(struct worker_pool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct worker_pool *, worker_pool_free);
/* New metadata clients for later jobs (after SIGHUP). */
int worker_pool_reconfigure(struct worker_pool *p, const struct oslogin_config *config);
void worker_pool_submit(struct worker_pool *p, struct job *j);
void worker_pool_post(struct worker_pool *p, struct job *j);
/* Jobs submitted and not yet started. */
unsigned worker_pool_queued(struct worker_pool *p);
