/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "mds/http.h"

uint64_t now_monotonic_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void http_response_done(struct http_response *r)
{
        free(r->body);
        free(r->etag);
        *r = (struct http_response){};
}

/* ---- the parser: bytes in, an answer or an error out; no I/O ---- */

void http_parser_init(struct http_parser *p, size_t max_body)
{
        *p = (struct http_parser){.max_body = max_body};
}

void http_parser_done(struct http_parser *p)
{
        free(p->pending);
        http_response_done(&p->response);
        http_parser_init(p, p->max_body);
}

static bool is_tchar(char c)
{
        return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* Control characters other than HT (and DEL) never appear in a header. */
static bool valid_field_text(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
                        return false;
        return true;
}

static bool token_equal(const char *s, size_t n, const char *token)
{
        return n == strlen(token) && strncasecmp(s, token, n) == 0;
}

/* "close" among the comma-separated tokens of a Connection header. */
static bool connection_says_close(const char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                size_t start, end;
                while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
                        i++;
                start = i;
                while (i < n && s[i] != ',')
                        i++;
                end = i;
                while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
                        end--;
                if (token_equal(s + start, end - start, "close"))
                        return true;
        }
        return false;
}

static int parse_decimal(const char *s, size_t n, uint64_t *ret)
{
        uint64_t v = 0;
        if (n == 0)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *ret = v;
        return 0;
}

struct header_block {
        bool http11, close, chunked, has_length, flavor_seen;
        uint64_t length;
};

static int parse_status_line(const char *s, size_t n, struct header_block *h, int *ret_status)
{
        /* HTTP/1.x SP 3DIGIT [SP reason] */
        if (n < 12 || strncmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
            !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]) ||
            (n > 12 && s[12] != ' '))
                return -EBADMSG;
        int status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
        if (status < 100 || status > 599)
                return -EBADMSG;
        h->http11 = s[7] == '1';
        *ret_status = status;
        return 0;
}

static int parse_header_field(struct http_parser *p, struct header_block *h, const char *s, size_t n)
{
        const char *colon = memchr(s, ':', n), *value, *end = s + n;
        size_t name_len;
        uint64_t length;
        int r;

        /* No obs-fold, no line without a name, no space before the colon. */
        if (!colon || colon == s)
                return -EBADMSG;
        name_len = (size_t)(colon - s);
        for (size_t i = 0; i < name_len; i++)
                if (!is_tchar(s[i]))
                        return -EBADMSG;
        value = colon + 1;
        while (value < end && (*value == ' ' || *value == '\t'))
                value++;
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        size_t value_len = (size_t)(end - value);

        if (token_equal(s, name_len, "Content-Length")) {
                r = parse_decimal(value, value_len, &length);
                if (r < 0 || (h->has_length && length != h->length))
                        return -EBADMSG;
                h->has_length = true;
                h->length = length;
        } else if (token_equal(s, name_len, "Transfer-Encoding")) {
                /* We can decode chunked only, and only once. */
                if (h->chunked || !token_equal(value, value_len, "chunked"))
                        return -EBADMSG;
                h->chunked = true;
        } else if (token_equal(s, name_len, "Connection")) {
                if (connection_says_close(value, value_len))
                        h->close = true;
        } else if (token_equal(s, name_len, "Metadata-Flavor")) {
                bool google = value_len == 6 && strncmp(value, "Google", 6) == 0;
                p->response.flavor = google && (!h->flavor_seen || p->response.flavor);
                h->flavor_seen = true;
        } else if (token_equal(s, name_len, "ETag")) {
                char *etag = strndup(value, value_len);
                if (!etag)
                        return -ENOMEM;
                free(p->response.etag);
                p->response.etag = etag;
        }
        return 0;
}

/* Parses the block S[0..N) (status line and fields, without the empty line)
 * and chooses how the body is delimited. */
static int parse_header_block(struct http_parser *p, const char *s, size_t n)
{
        struct header_block h = {};
        bool first = true;
        int r;

        free(p->response.etag);
        p->response = (struct http_response){};
        while (n > 0) {
                const char *nl = memchr(s, '\n', n);
                size_t line_len = nl ? (size_t)(nl - s) : n, next = nl ? line_len + 1 : n;
                if (line_len > 0 && s[line_len - 1] == '\r')
                        line_len--;
                if (!valid_field_text(s, line_len))
                        return -EBADMSG;
                if (first)
                        r = parse_status_line(s, line_len, &h, &p->response.status);
                else if (line_len > 0 && (s[0] == ' ' || s[0] == '\t'))
                        r = -EBADMSG; /* obs-fold */
                else
                        r = parse_header_field(p, &h, s, line_len);
                if (r < 0)
                        return r;
                first = false;
                s += next;
                n -= next;
        }
        if (first)
                return -EBADMSG;

        int status = p->response.status;
        if (status >= 100 && status < 200) {
                if (status == 101 || ++p->interim > HTTP_MAX_INTERIM)
                        return -EBADMSG;
                p->state = HTTP_PARSE_HEADERS; /* the real answer follows */
                return 0;
        }
        if (h.chunked && h.has_length)
                return -EBADMSG; /* ambiguous framing: the smuggling kind */
        p->response.keep_alive = h.http11 && !h.close;
        if (status == 204 || status == 304)
                p->state = HTTP_PARSE_DONE;
        else if (h.chunked)
                p->state = HTTP_PARSE_CHUNK_SIZE;
        else if (h.has_length) {
                if (h.length > p->max_body)
                        return -EFBIG;
                p->remaining = h.length;
                p->state = h.length ? HTTP_PARSE_BODY_LENGTH : HTTP_PARSE_DONE;
        } else {
                p->response.keep_alive = false;
                p->state = HTTP_PARSE_BODY_CLOSE;
        }
        return 0;
}

static int body_append(struct http_parser *p, const char *data, size_t n)
{
        struct http_response *r = &p->response;
        if (n > p->max_body - r->size)
                return -EFBIG;
        if (r->size + n + 1 > p->body_allocated) {
                size_t want = MAX(MAX(p->body_allocated * 2, r->size + n + 1), (size_t)4096);
                if (p->max_body < SIZE_MAX)
                        want = MIN(want, p->max_body + 1);
                char *b = realloc(r->body, want);
                if (!b)
                        return -ENOMEM;
                r->body = b;
                p->body_allocated = want;
        }
        memcpy(r->body + r->size, data, n);
        r->size += n;
        r->body[r->size] = '\0';
        return 0;
}

/* The end of the header block in B[0..N): the offset just past the empty
 * line, 0 when not there yet. Lines end in CRLF or a bare LF. */
static size_t find_header_end(const char *b, size_t n, size_t from)
{
        for (size_t i = from; i < n; i++) {
                if (b[i] != '\n')
                        continue;
                if (i + 1 < n && b[i + 1] == '\n')
                        return i + 2;
                if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')
                        return i + 3;
        }
        return 0;
}

static int parse_chunk_size(struct http_parser *p, const char *s, size_t n)
{
        uint64_t v = 0;
        size_t i = 0;

        if (n > 0 && s[n - 1] == '\r')
                n--;
        for (; i < n && isxdigit((unsigned char)s[i]); i++) {
                if (v > (UINT64_MAX >> 4))
                        return -EBADMSG;
                v = (v << 4) | (uint64_t)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower(s[i]) - 'a' + 10));
        }
        if (i == 0)
                return -EBADMSG;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
        if (i < n && s[i] != ';')
                return -EBADMSG;
        if (!valid_field_text(s + i, n - i))
                return -EBADMSG;
        if (v == 0) {
                p->state = HTTP_PARSE_TRAILERS;
                return 0;
        }
        if (v > p->max_body - p->response.size)
                return -EFBIG;
        p->remaining = v;
        p->state = HTTP_PARSE_CHUNK_DATA;
        return 0;
}

/* One step on the pending bytes B[*pos..n): consumes what it can. 0: call
 * again, 1: more bytes needed, <0: error. */
static int parse_step(struct http_parser *p, const char *b, size_t n, size_t *pos)
{
        size_t avail = n - *pos, take, end;
        const char *s = b + *pos, *nl;
        int r;

        switch (p->state) {
        case HTTP_PARSE_HEADERS:
                end = find_header_end(s, avail, p->scanned > 2 ? p->scanned - 2 : 0);
                if (end == 0) {
                        p->scanned = avail;
                        return avail > HTTP_MAX_HEADER_SIZE ? -EBADMSG : 1;
                }
                if (end > HTTP_MAX_HEADER_SIZE)
                        return -EBADMSG;
                p->scanned = 0;
                *pos += end;
                /* Block without its empty line (CRLF CRLF or LF LF). */
                end -= s[end - 2] == '\r' ? 2 : 1;
                return parse_header_block(p, s, end);
        case HTTP_PARSE_BODY_LENGTH:
        case HTTP_PARSE_CHUNK_DATA:
                if (avail == 0)
                        return 1;
                take = (size_t)MIN((uint64_t)avail, p->remaining);
                r = body_append(p, s, take);
                if (r < 0)
                        return r;
                *pos += take;
                p->remaining -= take;
                if (p->remaining == 0)
                        p->state = p->state == HTTP_PARSE_CHUNK_DATA ? HTTP_PARSE_CHUNK_END : HTTP_PARSE_DONE;
                return 0;
        case HTTP_PARSE_BODY_CLOSE:
                if (avail == 0)
                        return 1;
                r = body_append(p, s, avail);
                if (r < 0)
                        return r;
                *pos += avail;
                return 1;
        case HTTP_PARSE_CHUNK_END:
                if (avail == 0 || (s[0] == '\r' && avail < 2))
                        return 1;
                if (s[0] == '\n')
                        *pos += 1;
                else if (s[0] == '\r' && s[1] == '\n')
                        *pos += 2;
                else
                        return -EBADMSG;
                p->state = HTTP_PARSE_CHUNK_SIZE;
                return 0;
        case HTTP_PARSE_CHUNK_SIZE:
                nl = memchr(s, '\n', MIN(avail, (size_t)HTTP_MAX_CHUNK_LINE + 1));
                if (!nl)
                        return avail > HTTP_MAX_CHUNK_LINE ? -EBADMSG : 1;
                *pos += (size_t)(nl - s) + 1;
                return parse_chunk_size(p, s, (size_t)(nl - s));
        case HTTP_PARSE_TRAILERS:
                /* Read and dropped; bounded like the headers. */
                nl = memchr(s, '\n', avail);
                if (!nl)
                        return p->trailer_size + avail > HTTP_MAX_HEADER_SIZE ? -EBADMSG : 1;
                take = (size_t)(nl - s) + 1;
                p->trailer_size += take;
                if (p->trailer_size > HTTP_MAX_HEADER_SIZE)
                        return -EBADMSG;
                *pos += take;
                if (take == 1 || (take == 2 && s[0] == '\r'))
                        p->state = HTTP_PARSE_DONE;
                else if (!valid_field_text(s, take - 1 - (s[take - 2] == '\r')))
                        return -EBADMSG;
                return 0;
        case HTTP_PARSE_DONE:
                if (avail > 0) {
                        /* Bytes nobody asked for: do not trust this connection again. */
                        p->response.keep_alive = false;
                        *pos = n;
                }
                return 1;
        }
        return -EINVAL;
}

int http_parser_feed(struct http_parser *p, const void *data, size_t size)
{
        size_t pos = 0;
        int r;

        if (size == 0)
                return p->state == HTTP_PARSE_DONE;
        p->received = true;
        if (p->pending_size + size > p->pending_allocated) {
                size_t want = MAX(p->pending_allocated * 2, p->pending_size + size);
                char *b = realloc(p->pending, want);
                if (!b)
                        return -ENOMEM;
                p->pending = b;
                p->pending_allocated = want;
        }
        memcpy(p->pending + p->pending_size, data, size);
        p->pending_size += size;

        do
                r = parse_step(p, p->pending, p->pending_size, &pos);
        while (r == 0);
        memmove(p->pending, p->pending + pos, p->pending_size - pos);
        p->pending_size -= pos;
        if (r < 0)
                return r;
        return p->state == HTTP_PARSE_DONE;
}

int http_parser_finish(struct http_parser *p)
{
        if (p->state == HTTP_PARSE_BODY_CLOSE || p->state == HTTP_PARSE_DONE) {
                p->state = HTTP_PARSE_DONE;
                p->response.keep_alive = false;
                return 1;
        }
        return p->received ? -EPIPE : -ECONNRESET;
}

void http_parser_take(struct http_parser *p, struct http_response *ret)
{
        *ret = p->response;
        p->response = (struct http_response){};
        if (!ret->body)
                ret->body = strdup(""); /* checked by the caller: may still be NULL */
}

/* ---- the connection ---- */

struct http_connection {
        char *host;      /* for getaddrinfo(): no brackets */
        char *port;      /* decimal */
        char *authority; /* the Host header: as in the URL */
        int fd;          /* -1: none open */
        uint64_t requests;
};

void http_connection_close(struct http_connection *c)
{
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
}

void http_connection_free(struct http_connection *c)
{
        if (!c)
                return;
        http_connection_close(c);
        free(c->host);
        free(c->port);
        free(c->authority);
        free(c);
}

uint64_t http_connection_requests(const struct http_connection *c)
{
        return c->requests;
}

static bool all_chars_in(const char *s, size_t n, const char *extra)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
                        return false;
        return true;
}

/* HOST[:PORT] or [V6][:PORT] into c->host and c->port. */
static int parse_authority(struct http_connection *c, const char *a, size_t n)
{
        const char *host = a, *port = NULL;
        size_t host_len;

        if (a[0] == '[') {
                const char *close = memchr(a, ']', n);
                if (!close)
                        return -EINVAL;
                host = a + 1;
                host_len = (size_t)(close - host);
                if (!all_chars_in(host, host_len, ":."))
                        return -EINVAL;
                if (close + 1 < a + n) {
                        if (close[1] != ':')
                                return -EINVAL;
                        port = close + 2;
                }
        } else {
                const char *colon = memchr(a, ':', n);
                host_len = colon ? (size_t)(colon - a) : n;
                if (!all_chars_in(host, host_len, ".-_"))
                        return -EINVAL;
                port = colon ? colon + 1 : NULL;
        }
        if (port) {
                size_t port_len = (size_t)(a + n - port);
                uint64_t v;
                if (port_len > 5 || parse_decimal(port, port_len, &v) < 0 || v == 0 || v > 65535)
                        return -EINVAL;
        }
        c->host = strndup(host, host_len);
        c->port = port ? strndup(port, (size_t)(a + n - port)) : strdup("80");
        return c->host && c->port ? 0 : -ENOMEM;
}

int http_connection_new(const char *url, struct http_connection **ret, char **ret_path)
{
        _cleanup_(http_connection_freep) struct http_connection *c = NULL;
        const char *a, *rest;
        size_t n;
        char *path;
        int r;

        if (strncasecmp(url, "http://", 7) != 0)
                return -EPROTONOSUPPORT; /* https:// included: see http.h */
        a = url + 7;
        n = strcspn(a, "/?#");
        rest = a + n;
        if (n == 0 || n > 255 || *rest == '#' || strchr(rest, '#'))
                return -EINVAL;
        for (const char *s = rest; *s; s++)
                if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
                        return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = -1;
        c->authority = strndup(a, n);
        if (!c->authority)
                return -ENOMEM;
        r = parse_authority(c, a, n);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s%s", *rest == '/' ? "" : "/", rest) < 0)
                return -ENOMEM;
        *ret_path = path;
        *ret = TAKE_PTR(c);
        return 0;
}

/* Waits for EVENTS on FD until DEADLINE: 0 (ready, or an error the next
 * call reports), -ETIMEDOUT. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = {.fd = fd, .events = events};
                int n = poll(&pfd, 1, (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT32_MAX));
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n > 0)
                        return 0;
        }
}

static int connect_one(const struct addrinfo *ai, uint64_t deadline, int *ret_fd)
{
        _cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1, err = 0, r;
        socklen_t len = sizeof(err);

        if (fd < 0)
                return -errno;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                if (errno != EINPROGRESS)
                        return -errno;
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        return -errno;
                if (err != 0)
                        return -err;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int resolve(const struct http_connection *c, struct addrinfo **ret)
{
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
        int r = getaddrinfo(c->host, c->port, &hints, ret);

        if (r == EAI_NONAME) {
                /* A name (metadata.google.internal): ask the resolver. */
                hints.ai_flags = AI_NUMERICSERV;
                r = getaddrinfo(c->host, c->port, &hints, ret);
        }
        if (r == 0)
                return 0;
        log_debug("Cannot resolve \"%s\": %s", c->host, gai_strerror(r));
        return r == EAI_MEMORY ? -ENOMEM : r == EAI_SYSTEM && errno > 0 ? -errno : -EHOSTUNREACH;
}

static int open_connection(struct http_connection *c, const struct http_limits *l)
{
        struct addrinfo *list = NULL;
        uint64_t deadline = MIN(now_monotonic_usec() + l->connect_timeout_usec, l->deadline_usec);
        int r = resolve(c, &list);

        if (r < 0)
                return r;
        r = -EHOSTUNREACH;
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                r = connect_one(ai, deadline, &c->fd);
                if (r >= 0 || r == -ETIMEDOUT)
                        break;
        }
        freeaddrinfo(list);
        return r;
}

/* An idle keep-alive connection the server has closed (or sent stray bytes
 * on) is readable: not worth a request. */
static bool connection_idle_usable(const struct http_connection *c)
{
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        return poll(&pfd, 1, 0) == 0;
}

static bool printable_token(const char *s, bool allow_space)
{
        if (isempty(s))
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x21 || (unsigned char)*s >= 0x7f) {
                        if (!(allow_space && *s == ' '))
                                return false;
                }
        return true;
}

static int format_request(const struct http_connection *c, const struct http_request *req, char **ret,
                          size_t *ret_size)
{
        char *head = NULL, *wire;
        int n;

        if (!all_chars_in(req->method, strlen(req->method), "") || req->target[0] != '/' ||
            !printable_token(req->target, false) || (req->body && !printable_token(req->content_type, true)))
                return -EINVAL;
        if (req->body)
                n = asprintf(&head,
                             "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: oslogin\r\nAccept: */*\r\n%s"
                             "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                             req->method, req->target, c->authority, req->headers ?: "", req->content_type,
                             req->body_size);
        else
                n = asprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: oslogin\r\nAccept: */*\r\n%s\r\n",
                             req->method, req->target, c->authority, req->headers ?: "");
        if (n < 0)
                return -ENOMEM;
        size_t body_size = req->body ? req->body_size : 0;
        wire = realloc(head, (size_t)n + body_size);
        if (!wire) {
                free(head);
                return -ENOMEM;
        }
        if (body_size)
                memcpy(wire + n, req->body, body_size);
        *ret = wire;
        *ret_size = (size_t)n + body_size;
        return 0;
}

static int send_all(int fd, const char *b, size_t n, uint64_t deadline)
{
        while (n > 0) {
                ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                return -errno;
                        int r = wait_fd(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                b += k;
                n -= (size_t)k;
        }
        return 0;
}

static int receive(int fd, uint64_t deadline, struct http_parser *p)
{
        char buf[16384];
        for (;;) {
                int r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                                continue;
                        return -errno;
                }
                r = n == 0 ? http_parser_finish(p) : http_parser_feed(p, buf, (size_t)n);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}

int http_exchange(struct http_connection *c, const struct http_request *req, const struct http_limits *limits,
                  struct http_response *ret)
{
        _cleanup_free_ char *wire = NULL;
        size_t wire_size;
        int r = format_request(c, req, &wire, &wire_size);

        if (r < 0)
                return r;
        for (unsigned round = 0;; round++) {
                struct http_parser p;
                bool reused;

                if (c->fd >= 0 && !connection_idle_usable(c))
                        http_connection_close(c);
                reused = c->fd >= 0;
                c->requests++;
                if (!reused) {
                        r = open_connection(c, limits);
                        if (r < 0)
                                return r;
                }
                http_parser_init(&p, limits->max_body);
                r = send_all(c->fd, wire, wire_size, limits->deadline_usec);
                if (r >= 0)
                        r = receive(c->fd, limits->deadline_usec, &p);
                if (r >= 0) {
                        http_parser_take(&p, ret);
                        http_parser_done(&p);
                        if (!ret->keep_alive)
                                http_connection_close(c);
                        if (!ret->body) {
                                http_response_done(ret);
                                return -ENOMEM;
                        }
                        return 0;
                }
                /* The server may close an idle connection just as we reuse
                 * it: then, and only then, once more on a fresh one. */
                bool retry = reused && round == 0 && !p.received && r != -ETIMEDOUT && r != -ENOMEM;
                http_parser_done(&p);
                http_connection_close(c);
                if (!retry)
                        return r;
                log_debug("Kept-alive connection to %s closed (%s), reconnecting.", c->authority, strerror(-r));
        }
}
