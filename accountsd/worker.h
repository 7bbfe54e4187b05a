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
 * does). The main loop learns about finished jobs through an eventfd. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "mds/config.h"
#include "mds/mds-client.h"

struct job;
typedef void (*job_run_t)(struct job *j, struct mds_client *client);
typedef void (*job_done_t)(struct job *j);

struct job {
        job_run_t run;   /* worker thread; may be NULL */
        job_done_t done; /* main thread; owns J */
        struct job *next;
};

struct worker_pool;

int worker_pool_new(sd_event *event, const struct oslogin_config *config, unsigned n_threads,
                    struct worker_pool **ret);
/* Stops the threads and frees the pool once they have all exited, waiting
 * at most WAIT_USEC. Threads still busy after that (a 5 s metadata call
 * must not delay SIGTERM) finish on their own; the pool then stays
 * allocated (process exit reclaims it). Jobs not yet done are dropped. */
void worker_pool_stop(struct worker_pool *p, uint64_t wait_usec);
/* New metadata clients for later jobs (after SIGHUP). */
int worker_pool_reconfigure(struct worker_pool *p, const struct oslogin_config *config);
void worker_pool_submit(struct worker_pool *p, struct job *j);
void worker_pool_post(struct worker_pool *p, struct job *j);
/* Jobs submitted and not yet started. */
unsigned worker_pool_queued(struct worker_pool *p);
