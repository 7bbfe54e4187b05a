/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The OS Login directory: builds the cache file (basic/cache-writer.h)
 * that libnss_oslogin.so.2 maps, and answers the module's misses.
 *
 * Full build: users?pagesize= and groups?pagesize= pages, the members of
 * each group once (users?groupname=), self groups for users whose GID
 * equals their UID; at enable, every [directory] refresh_interval and on
 * directory_refresh(). It runs in a worker thread and commits a new file
 * only when the users listing succeeded: a failed or partial fetch keeps the
 * previous cache. A failed groups listing alone builds the users with the
 * last good groups (directory-fetch.h).
 *
 * Misses (nss-server.c): answered from the current cache file, then from
 * the answers of earlier misses, then from the negative cache ([directory]
 * negative_ttl); otherwise one worker asks users?username= / users?uid= /
 * groups?groupname= / groups?gid= (and groups?email= for initgroups).
 * Identical questions in flight share one request. Found users and groups
 * are added to the cache file by a rewrite (debounced, one at a time), so
 * the next lookup is a hit in every process. A circuit breaker opens after
 * consecutive metadata failures (or when the watch sees an outage): misses
 * then get UNAVAIL at once, and one probe goes out every
 * DIRECTORY_BREAKER_PROBE_USEC. Only a definite 404 is cached as "not
 * found". */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "accountsd/context.h"
#include "basic/nss-proto.h"

#define DIRECTORY_BREAKER_THRESHOLD 3u
#define DIRECTORY_BREAKER_PROBE_USEC (10ull * 1000000u)
#define DIRECTORY_ANSWERS_MAX 4096u
#define DIRECTORY_INFLIGHT_MAX 64u
#define DIRECTORY_REWRITE_DELAY_USEC 200000ull

struct directory;

/* What the directory tells the part above it (the manager wires it). */
struct directory_callbacks {
        /* A full build ended with R: 0, or -errno (the previous cache
         * stays). Not called for the rewrites that add answered misses. */
        void (*build_finished)(int r, void *userdata);
};

/* OSLOGIN: the host is in OS Login mode as the daemon starts; the last
 * cache file then serves until the first build replaces it (the first
 * directory_set_enabled(true) starts that build). Off, the file is not
 * read. CALLBACKS (may be NULL) is copied. */
int directory_new(const struct daemon_context *ctx, bool oslogin,
        const struct directory_callbacks *callbacks, void *userdata, struct directory **ret);
void directory_free(struct directory *d);

/* OS Login on: build now and every refresh_interval. Off: timers stop,
 * the cache file is removed, every question is NOTFOUND. */
void directory_set_enabled(struct directory *d, bool enabled);
bool directory_enabled(const struct directory *d);
/* A full build as soon as possible (coalesced with one in flight). */
void directory_refresh(struct directory *d);
/* After SIGHUP: the refresh timer follows the new interval. */
void directory_reconfigure(struct directory *d);
/* The metadata server failed for the watch too: open the breaker. */
void directory_mds_unreachable(struct directory *d);
void directory_mds_reachable(struct directory *d);

/* The reply message (header + payload) for a question, or NULL on ENOMEM
 * (the connection is then closed: the client sees UNAVAIL). */
typedef void (*directory_reply_t)(void *userdata, const uint8_t *msg, size_t size);
struct directory_waiter;

/* 1: answered now (CB was called before returning); 0: pending, CB will be
 * called from the loop unless *RET_WAITER is cancelled first; -errno. */
int directory_lookup(struct directory *d, const struct nss_proto_request *q, directory_reply_t cb,
        void *userdata, struct directory_waiter **ret_waiter);
void directory_waiter_cancel(struct directory *d, struct directory_waiter *w);

void directory_status(const struct directory *d, FILE *f);
