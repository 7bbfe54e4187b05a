/* SPDX-License-Identifier: Apache-2.0 */
/* The socket side of lib/mds/http.h: non-blocking connect with a timeout,
 * poll() until the deadline, one keep-alive connection reused. The answer
 * parser is in http-parser.c. */
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
                if (port_len > 5 || http_parse_decimal(port, port_len, &v) < 0 || v == 0 || v > 65535)
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
