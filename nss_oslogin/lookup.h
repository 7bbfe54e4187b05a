/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The one lookup core of the module: the memory-mapped cache first, then
 * accountsd over its socket for a miss. Never calls NSS, never sleeps,
 * never retries. */

#include <nss.h>
#include <stdbool.h>

#include "basic/cache-reader.h"
#include "basic/nss-proto.h"

/* A found record and what keeps its bytes alive. */
struct lookup_result {
        struct cache_map *map; /* reference, when the record is in the cache */
        uint8_t *msg;          /* reply message, when it came from accountsd */
        size_t msg_size;
        struct nss_proto_reply reply; /* status FOUND; the record for the question's type */
        uint32_t uid_floor;           /* of the cache consulted, or the default */
};

void lookup_result_done(struct lookup_result *a);
#define _cleanup_lookup_result_ _cleanup_(lookup_result_done)

/* 0 and *ret (release with lookup_result_done()), -ENOENT (NOTFOUND), or
 * another negative errno (UNAVAIL). By-id questions below the floor,
 * records below it, and users and groups whose name or id the host has
 * (local.h) are -ENOENT; a gid list is returned whole (the caller filters
 * it). */
int lookup(const struct nss_proto_request *q, struct lookup_result *ret);

/* The caller's buffer was too small for *A: keep the reply for this
 * thread so glibc's retry with a bigger buffer costs no socket round trip. */
void lookup_save_for_retry(const struct nss_proto_request *q, struct lookup_result *a);

/* Enumeration takes its own snapshot of the current cache. */
int lookup_cache_snapshot(struct cache_map **ret);
/* The floor of MAP, or the compiled default without a cache. */
uint32_t lookup_uid_floor(const struct cache_map *map);

/* -ENOENT → NOTFOUND; other errors → UNAVAIL with *ERRNOP set. */
enum nss_status nss_status_from_error(int error, int *errnop);

/* Adds LOCK (enumeration state) to the locks held across fork(), so a
 * child never inherits one held by a thread that does not exist there. */
void lookup_register_lock(pthread_mutex_t *lock);
/* The one lock taken while an enumeration lock is held and never around
 * another (local.c's): fork() takes it last, whenever it was registered,
 * so the order across fork() is always enumeration, then it. */
void lookup_register_inner_lock(pthread_mutex_t *lock);
