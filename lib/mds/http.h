/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small HTTP/1.1 client for the metadata server: plain http:// on a
 * link-local or loopback address, no TLS, proxy, redirect or cookie. Why not
 * libcurl: it loads ~30 shared libraries (LDAP, Kerberos, TLS...) into every
 * process, which cost the AuthorizedKeysCommand most of its start-up time and
 * put all of them into sshd through pam_oslogin.so.
 *
 * Two layers: http_parser, a pure function of the bytes received (the part a
 * hostile server controls, fuzzed by tests/fuzz/fuzz-http-response.c), and
 * http_connection, the socket: non-blocking connect with a timeout, poll()
 * until a deadline, MSG_NOSIGNAL, SOCK_CLOEXEC, one keep-alive connection
 * reused across requests.
 *
 * Errors of http_exchange(): -EINVAL (bad URL or request), -ENOMEM, -EFBIG
 * (body over the cap), -EBADMSG (malformed answer: not worth retrying),
 * -ETIMEDOUT (deadline passed); anything else is a transport failure
 * (refused, reset, closed early, name not resolved) worth retrying. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "basic/time-util.h"

/* Status line plus headers (and, separately, the trailers of a chunked body). */
#define HTTP_MAX_HEADER_SIZE (64u * 1024u)
/* A chunk-size line with its extensions. */
#define HTTP_MAX_CHUNK_LINE 4096u
/* 1xx interim answers skipped before the real one. */
#define HTTP_MAX_INTERIM 4u

struct http_response {
        int status;
        char *body; /* NUL-terminated, never NULL once complete */
        size_t size;
        char *etag;       /* NULL when the server sent none */
        bool flavor;      /* Metadata-Flavor: Google (and no other value) */
        bool keep_alive;  /* the connection may carry another request */
};

void http_response_done(struct http_response *r);

enum http_parser_state {
        HTTP_PARSE_HEADERS,
        HTTP_PARSE_BODY_LENGTH,
        HTTP_PARSE_BODY_CLOSE,
        HTTP_PARSE_CHUNK_SIZE,
        HTTP_PARSE_CHUNK_DATA,
        HTTP_PARSE_CHUNK_END,
        HTTP_PARSE_TRAILERS,
        HTTP_PARSE_DONE,
};

struct http_parser {
        size_t max_body;
        enum http_parser_state state;
        char *pending; /* received bytes not consumed yet */
        size_t pending_size, pending_allocated;
        size_t scanned;      /* of pending, already searched for the end of the headers */
        size_t trailer_size; /* trailer bytes so far */
        uint64_t remaining;  /* of the Content-Length or the current chunk */
        size_t body_allocated;
        unsigned interim;
        bool received; /* any byte at all */
        struct http_response response;
};

/* The parser of one answer, whose body may hold up to MAX_BODY bytes. */
void http_parser_init(struct http_parser *p, size_t max_body);
void http_parser_done(struct http_parser *p);
/* Feeds received bytes: 0 (more needed), 1 (answer complete) or -errno
 * (-EBADMSG, -EFBIG, -ENOMEM). Bytes after a complete answer clear
 * keep_alive. */
int http_parser_feed(struct http_parser *p, const void *data, size_t size);
/* The peer closed: 1 when that completes the answer (a body delimited by the
 * close), -ECONNRESET when nothing was received, -EPIPE when cut short. */
int http_parser_finish(struct http_parser *p);
/* N decimal digits, nothing else, no overflow: 0 or -EBADMSG (lengths,
 * chunk sizes, the URL's port). */
int http_parse_decimal(const char *s, size_t n, uint64_t *ret);
/* Moves the complete answer out of the parser. */
void http_parser_take(struct http_parser *p, struct http_response *ret);

struct http_connection;

/* Parses "http://HOST[:PORT][/PATH]" (HOST: a name, an IPv4 address or
 * [IPv6]); *ret_path is PATH ("/" when empty). No I/O yet. */
int http_connection_new(const char *url, struct http_connection **ret, char **ret_path);
void http_connection_free(struct http_connection *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct http_connection *, http_connection_free);

struct http_request {
        const char *method; /* "GET", "POST" */
        const char *target; /* "/path?query": printable ASCII, no space */
        const char *headers; /* extra header lines, each ending in "\r\n", or NULL */
        const char *content_type; /* with a body */
        const char *body;         /* NULL: none */
        size_t body_size;
};

struct http_limits {
        uint64_t connect_timeout_usec;
        uint64_t deadline_usec; /* CLOCK_MONOTONIC, absolute */
        size_t max_body;
};

/* One request and its answer (any status). Reuses the open connection when
 * the last answer allowed it; a reused connection that fails before the
 * first byte of the answer is replaced by a fresh one once. */
int http_exchange(struct http_connection *c, const struct http_request *req, const struct http_limits *limits,
                  struct http_response *ret);
/* Requests written to the wire so far (the retry on a fresh connection counts). */
uint64_t http_connection_requests(const struct http_connection *c);
void http_connection_close(struct http_connection *c);

