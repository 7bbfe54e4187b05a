/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What accountsd remembers between NSS misses, apart from the cache file:
 * - the answer store: earlier answers by request key, a found record until
 *   a full build that started later has it (or not), a definite "not
 *   found" for negative_ttl. A small array scanned linearly: it holds only
 *   misses (at most DIRECTORY_ANSWERS_MAX); hits never get here.
 * - the circuit breaker: after DIRECTORY_BREAKER_THRESHOLD failed questions
 *   misses answer UNAVAIL at once; one probe every
 *   DIRECTORY_BREAKER_PROBE_USEC decides when to close it again. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/nss-proto.h"

/* A reply given to an earlier miss, kept in the answer store for its TTL. */
struct stored_answer {
        char *key;
        uint8_t *msg;
        size_t size;
        struct nss_proto_request q;
        bool found;
        uint64_t answered_usec, expires_usec; /* CLOCK_MONOTONIC */
};

struct answer_store {
        struct stored_answer *answers;
        size_t n;
};

/* "TYPE:NAME" or "TYPE#ID"; NULL on ENOMEM. */
char *answer_key(const struct nss_proto_request *q);
void stored_answer_done(struct stored_answer *a);
void answer_store_clear(struct answer_store *s);
/* The live answer for KEY (expired ones are dropped on the way), or NULL. */
struct stored_answer *answer_store_find(struct answer_store *s, const char *key, uint64_t now);
/* Keeps a copy of MSG until NOW + TTL; when full, the oldest answer goes.
 * Out of memory: not kept (the next miss asks again). */
void answer_store_add(struct answer_store *s, const char *key, const struct nss_proto_request *q, bool found,
        const void *msg, size_t size, uint64_t now, uint64_t ttl);
/* Drops the found answers given before USEC (a full build started after
 * them knows better, removals included). */
void answer_store_forget_found_before(struct answer_store *s, uint64_t usec);

/* The unexpired "not found" answers, newest first, as the negative table
 * the NSS module reads (basic/negative-table.h) in DIR_FD, replaced
 * atomically; none: the file is removed. */
int answer_store_write_negatives(const struct answer_store *s, int dir_fd, uint64_t now);

struct breaker {
        unsigned failures;
        uint64_t open_until; /* CLOCK_MONOTONIC; 0: closed */
};

/* Whether a miss must answer UNAVAIL now. Past the open period, the one
 * question that asks becomes the probe (the rest wait for its verdict). */
bool breaker_blocks(struct breaker *b, uint64_t now);
/* The outcome of a question: REACHED closes it, failures open it. */
void breaker_record(struct breaker *b, bool reached, uint64_t now);
