/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The metadata server client, over libcurl (lib/mds/mds-curl.c). One client
 * per thread: it keeps one connection open and reuses it.
 *
 * Every request sends "Metadata-Flavor: Google" and requires it back,
 * ignores proxy variables, follows no redirect, caps the body
 * (config max_response_size) and retries 429/5xx/transport errors with
 * exponential back-off and jitter until the deadline (config timeout).
 *
 * Transport ([metadata] transport, oslogin.conf(5)):
 * - http: the configured url (or GCE_METADATA_HOST), plain HTTP.
 * - https: https://metadata.google.internal/computeMetadata/v1/ at
 *   https_address (no name lookup), the server verified against
 *   CREDENTIALS/root.crt only, CREDENTIALS/client.key (EC key and client
 *   certificate in one PEM) presented.
 * - auto: https when both credential files are readable, else http. The
 *   files are looked for at creation, before each call and between the
 *   attempts of a failing one.
 * The first complete HTTPS answer writes the pin STATE/mds-https-pinned;
 * with the pin, plain HTTP is never used again (auto and http alike).
 *
 * Errors: -ENOENT (404: no such thing), -EACCES (403), -EBADMSG (other 4xx,
 * or a malformed answer), -EPROTO (answer without Metadata-Flavor: not a
 * metadata server), -EFBIG (body over the cap), -ETIMEDOUT (deadline
 * passed), -EHOSTUNREACH (could not reach the server, or 5xx until the
 * deadline), and for HTTPS: -EKEYREJECTED (the server's certificate does not
 * verify against root.crt, or our credentials cannot be loaded; not retried),
 * -ENOKEY (HTTPS required, by transport = https or by the pin, and the
 * credentials are not readable), -EPERM (transport = http on a pinned host).
 * The last two fail at once, without a request. -ECANCELED: the cancel
 * descriptor (mds_client_set_cancel_fd) is readable. Callers must tell
 * -ENOENT ("no such user") apart from the rest ("cannot know"). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "basic/time-util.h"
#include "mds/config.h"

/* In the state directory: HTTPS has worked on this host. */
#define MDS_HTTPS_PIN_FILE "mds-https-pinned"

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

/* The base URL in use (the HTTPS one when HTTPS is required but unusable),
 * ending in "/". */
const char *mds_client_base_url(const struct mds_client *c);
/* Requests sent so far (each retry counts). */
uint64_t mds_client_request_count(const struct mds_client *c);
/* Connections opened so far (a request on a kept-alive one opens none). */
uint64_t mds_client_connection_count(const struct mds_client *c);
/* Whether requests go to the HTTPS endpoint now, or would if its
 * credentials were there (the -ENOKEY and -EPERM outages). */
bool mds_client_uses_https(const struct mds_client *c);
/* Off: no TCP_QUICKACK re-armed per answer. Only to measure the delayed-ACK
 * stall it prevents (bench/bench-mds-stall, tests/unit/test-mds-client). */
void mds_client_set_quickack(struct mds_client *c, bool on);
/* Overrides the total deadline of later calls (the AKC's whole-call budget). */
void mds_client_set_deadline(struct mds_client *c, uint64_t deadline_monotonic_usec);

/* Interrupting a call from another thread: while FD is readable, every
 * call (a long-poll included) returns -ECANCELED at once: before a request,
 * during one (the connection is dropped) and in a back-off sleep. FD is
 * polled, never read nor closed here: the owner of the threads makes it
 * (an eventfd or a pipe), shares it among its clients, writes it to stop
 * them and closes it after they are gone. -1 (the default): none. */
void mds_client_set_cancel_fd(struct mds_client *c, int fd);
int mds_client_cancel_fd(const struct mds_client *c);

/* At most N attempts per call (default: as many as fit the deadline). The
 * daemon's watch loop uses 1: it backs off itself, across calls. */
void mds_client_set_max_attempts(struct mds_client *c, unsigned n);

/* GET BASE + PATH_AND_QUERY (no leading slash). 0 and *ret on 200. */
int mds_get(struct mds_client *c, const char *path_and_query, struct mds_response *ret);
/* POST a JSON body. */
int mds_post_json(
        struct mds_client *c, const char *path_and_query, const char *json, struct mds_response *ret);
/* Long-poll: returns when the ETag differs from LAST_ETAG (NULL: at once) or
 * after TIMEOUT_SEC with the unchanged answer. */
int mds_wait_for_change(struct mds_client *c, const char *path, const char *last_etag, unsigned timeout_sec,
        struct mds_response *ret);

void mds_response_done(struct mds_response *r);
#define _cleanup_mds_response_ _cleanup_(mds_response_done)

/* Appends "?KEY=VALUE" or "&KEY=VALUE" to *PATH with VALUE percent-encoded. */
int mds_query_append(char **path, const char *key, const char *value);
