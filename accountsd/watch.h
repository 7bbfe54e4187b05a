/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The metadata watch: one thread long-polls the recursive attribute
 * document (?recursive=true&alt=json&wait_for_change=true&last_etag=…&
 * timeout_sec=60; the first request without last_etag) and posts each new
 * document to the main loop, which hands it to mode.c. Errors back off
 * exponentially with jitter (0.5 s doubling up to 30 s): during an outage
 * the server sees at most one request every few seconds. A failed fetch
 * posts an outage event, never a document: nothing changes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "accountsd/context.h"

#define WATCH_DOCUMENT_PATH "?recursive=true&alt=json"
#define WATCH_LONG_POLL_SEC 60u
#define WATCH_BACKOFF_MIN_USEC 500000ull
#define WATCH_BACKOFF_MAX_USEC 30000000ull

struct watch;

/* What the watch tells the part above it (the manager wires it). All run
 * in the main loop. */
struct watch_callbacks {
        /* A new document (the first one, or a change). */
        void (*document)(const char *json, size_t size, void *userdata);
        /* Request number FAILURES (1, 2, ...) of an outage failed with ERROR. */
        void (*unreachable)(int error, unsigned failures, void *userdata);
        /* A request succeeded (before each document, and when an outage ends). */
        void (*reachable)(void *userdata);
};

/* CALLBACKS (may be NULL) is copied. */
int watch_start(const struct daemon_context *ctx, const struct watch_callbacks *callbacks, void *userdata,
        struct watch **ret);
/* Stops the thread and joins it: a long-poll or back-off in progress is
 * cut short at once (the watch's cancel eventfd, mds_client_set_cancel_fd()).
 * Once it returns the thread posts nothing more, so the worker pool may
 * go. A second call does nothing. */
void watch_stop(struct watch *w);
/* Stops the watch if it still runs, then frees it. */
void watch_free(struct watch *w);
/* A new client for later requests (SIGHUP). */
int watch_reconfigure(struct watch *w, const struct oslogin_config *config);
/* Re-fetch at once (osloginctl refresh): cuts a back-off sleep short. */
void watch_kick(struct watch *w);
void watch_status(const struct watch *w, FILE *f);

/* Connection refused or no route to the metadata server: there is none
 * (not a cloud VM), as opposed to a slow or failing one. */
bool watch_no_metadata_server(int error);
/* The STATUS= text for that case. */
const char *watch_no_server_status(int error);

/* The delay before retry number FAILURES (1, 2, ...), jittered into
 * [d/2, d] with RANDOM_VALUE. Exposed for the unit test. */
uint64_t watch_backoff_usec(unsigned failures, uint64_t random_value);
