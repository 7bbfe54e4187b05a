/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The metadata server client, over lib/mds/http.c (plain HTTP/1.1). One
 * client per thread: it keeps one connection open and reuses it.
 *
 * Every request sends "Metadata-Flavor: Google" and requires it back,
 * ignores proxy variables, follows no redirect, caps the body
 * (config max_response_size) and retries 429/5xx/transport errors with
 * exponential back-off and jitter until the deadline (config timeout).
 *
 * Errors: -ENOENT (404: no such thing), -EACCES (403), -EBADMSG (other 4xx),
 * -EPROTO (answer without Metadata-Flavor: not a metadata server), -EFBIG
 * (body over the cap), -ETIMEDOUT (deadline passed), -EHOSTUNREACH (could not
 * reach the server, or 5xx until the deadline). Callers must tell -ENOENT
 * ("no such user") apart from the rest ("cannot know"). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "mds/config.h"

struct mds_client;

struct mds_response {
        long status;
        char *body; /* NUL-terminated */
        size_t size;
        char *etag; /* NULL when the server sent none */
};

enum {
        /* Ignore GCE_METADATA_HOST even when secure_getenv() would return it
         * (the PAM module: the environment belongs to whoever runs su/sudo). */
        MDS_CLIENT_IGNORE_ENVIRONMENT = 1 << 0,
};

int mds_client_new(const struct oslogin_config *config, unsigned flags, struct mds_client **ret);
void mds_client_free(struct mds_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct mds_client *, mds_client_free);
#define _cleanup_mds_client_ _cleanup_(mds_client_freep)

/* The base URL in use, ending in "/". */
const char *mds_client_base_url(const struct mds_client *c);
/* Requests sent so far (each retry counts). */
uint64_t mds_client_request_count(const struct mds_client *c);
/* Overrides the total deadline of later calls (the AKC's whole-call budget). */
void mds_client_set_deadline(struct mds_client *c, uint64_t deadline_monotonic_usec);

/* At most N attempts per call (default: as many as fit the deadline). The
 * daemon's watch loop uses 1: it backs off itself, across calls. */
void mds_client_set_max_attempts(struct mds_client *c, unsigned n);

/* GET BASE + PATH_AND_QUERY (no leading slash). 0 and *ret on 200. */
int mds_get(struct mds_client *c, const char *path_and_query, struct mds_response *ret);
/* POST a JSON body. */
int mds_post_json(struct mds_client *c, const char *path_and_query, const char *json, struct mds_response *ret);
/* Long-poll: returns when the ETag differs from LAST_ETAG (NULL: at once) or
 * after TIMEOUT_SEC with the unchanged answer. */
int mds_wait_for_change(struct mds_client *c, const char *path, const char *last_etag, unsigned timeout_sec,
                        struct mds_response *ret);

void mds_response_done(struct mds_response *r);
#define _cleanup_mds_response_ _cleanup_(mds_response_done)

/* Appends "?KEY=VALUE" or "&KEY=VALUE" to *PATH with VALUE percent-encoded. */
int mds_query_append(char **path, const char *key, const char *value);

