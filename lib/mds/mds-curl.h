/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One HTTP(S) exchange through libcurl, for lib/mds/mds-client.c: one easy
 * handle in its own multi handle per client (one client per thread), so the
 * connection is kept alive and reused from call to call.
 *
 * Every transfer: no proxy (environment ignored), no redirect, http/https
 * only, no signals, "Metadata-Flavor: Google" sent, the answer's flavor and
 * ETag captured, the body capped while it is received.
 *
 * Why a multi handle and not curl_easy_perform(): its socket callback tells
 * us each time curl starts waiting for an answer, i.e. just after the request
 * left. That is when TCP_QUICKACK is re-armed on the connection's socket
 * (Linux leaves quick-ack mode again as soon as we send), so a server that
 * writes the headers and the body in two segments (Nagle on its side) never
 * waits ~40 ms for our delayed ACK on a reused connection. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

struct mds_curl;

struct mds_curl_request {
        const char *url;
        const char *post_json;  /* NULL: GET */
        const char *connect_to; /* CURLOPT_CONNECT_TO entry ("HOST:PORT:ADDR:PORT") or NULL */
        const char *ca_file;    /* HTTPS: the only CA the server's certificate may chain to */
        const char *client_pem; /* HTTPS: client key and certificate in one PEM file */
        uint64_t connect_timeout_usec;
        uint64_t deadline_usec; /* CLOCK_MONOTONIC, absolute */
        size_t max_body;
        /* While this descriptor is readable the transfer is abandoned with
         * -ECANCELED (another thread's stop: an eventfd or a pipe it wrote).
         * Negative: none. It is polled, never read. */
        int cancel_fd;
};

struct mds_curl_answer {
        long status;
        char *body; /* NUL-terminated, never NULL after success */
        size_t size;
        char *etag;  /* NULL: none sent */
        bool flavor; /* Metadata-Flavor: Google */
};

int mds_curl_new(struct mds_curl **ret);
void mds_curl_free(struct mds_curl *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct mds_curl *, mds_curl_free);

/* 0 with *ret for any complete answer (any status). Errors: -EFBIG (body
 * over the cap), -ENOMEM, -EINVAL (a URL or option curl refused: our bug or
 * the configuration's), -EKEYREJECTED (the server's certificate was not
 * verified, or our credentials could not be loaded), -ETIMEDOUT (deadline),
 * -ECANCELED (req->cancel_fd readable, before or during the transfer);
 * any other -errno is a transport failure worth another attempt (refused,
 * reset, closed early, TLS handshake refused). */
int mds_curl_transfer(struct mds_curl *h, const struct mds_curl_request *req, struct mds_curl_answer *ret);
void mds_curl_answer_done(struct mds_curl_answer *a);
/* Whether CANCEL_FD (negative: none) is readable now. */
bool mds_curl_cancelled(int cancel_fd);

/* Connections opened so far (a reused one is not counted again). */
uint64_t mds_curl_connections(const struct mds_curl *h);
/* Re-arm TCP_QUICKACK before each answer (default on). Off only to measure
 * what it saves (bench/, tests/unit/test-mds-client.c). */
void mds_curl_set_quickack(struct mds_curl *h, bool on);
