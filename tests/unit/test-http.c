/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mds/http.h"

#define CAP 1024

/* Feeds S in pieces of STEP bytes (0: at once), then EOF when CLOSE. */
static int parse(const char *s, size_t step, bool close, struct http_response *ret)
{
        struct http_parser p;
        size_t n = strlen(s);
        int r = 0;

        http_parser_init(&p, CAP);
        for (size_t i = 0; i < n && r == 0; i += step ? step : n)
                r = http_parser_feed(&p, s + i, MIN(step ? step : n, n - i));
        if (r == 0 && close)
                r = http_parser_finish(&p);
        if (r == 1)
                http_parser_take(&p, ret);
        http_parser_done(&p);
        return r;
}

#define OK_HEAD "HTTP/1.1 200 OK\r\nMetadata-Flavor: Google\r\n"

static void test_content_length(void **state)
{
        static const char a[] = OK_HEAD "ETag: abc\r\nContent-Length: 5\r\n\r\nhello";
        (void)state;
        for (size_t step = 0; step <= 7; step++) {
                struct http_response r = {};
                assert_int_equal(parse(a, step, false, &r), 1);
                assert_int_equal(r.status, 200);
                assert_string_equal(r.body, "hello");
                assert_int_equal(r.size, 5);
                assert_string_equal(r.etag, "abc");
                assert_true(r.flavor);
                assert_true(r.keep_alive);
                http_response_done(&r);
        }
}

static void test_chunked(void **state)
{
        static const char a[] = OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
                                        "4;name=value\r\nhell\r\n1\r\no\r\n00\r\nX-Trailer: 1\r\n\r\n";
        (void)state;
        /* Every split, a byte at a time included. */
        for (size_t step = 0; step <= 9; step++) {
                struct http_response r = {};
                assert_int_equal(parse(a, step, false, &r), 1);
                assert_string_equal(r.body, "hello");
                assert_int_equal(r.size, 5);
                assert_true(r.keep_alive);
                assert_null(r.etag);
                http_response_done(&r);
        }
}

static void test_close_delimited(void **state)
{
        struct http_response r = {};
        (void)state;
        assert_int_equal(parse(OK_HEAD "\r\nuntil close", 3, true, &r), 1);
        assert_string_equal(r.body, "until close");
        assert_false(r.keep_alive);
        http_response_done(&r);
        /* Without the close it is not complete. */
        assert_int_equal(parse(OK_HEAD "\r\nuntil close", 0, false, &r), 0);
        /* An empty body is a body. */
        assert_int_equal(parse(OK_HEAD "Content-Length: 0\r\n\r\n", 0, false, &r), 1);
        assert_string_equal(r.body, "");
        http_response_done(&r);
        assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", 0, false, &r), 1);
        assert_int_equal(r.status, 204);
        assert_false(r.flavor);
        http_response_done(&r);
}

static void test_truncated(void **state)
{
        struct http_response r = {};
        struct http_parser p;
        (void)state;
        assert_int_equal(parse(OK_HEAD "Content-Length: 10\r\n\r\nhello", 0, true, &r), -EPIPE);
        assert_int_equal(parse(OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0, true, &r), -EPIPE);
        assert_int_equal(parse("HTTP/1.1 200", 0, true, &r), -EPIPE);
        http_parser_init(&p, CAP);
        assert_int_equal(http_parser_finish(&p), -ECONNRESET);
        http_parser_done(&p);
}

static void test_oversize(void **state)
{
        char big[CAP + 200];
        struct http_response r = {};
        (void)state;
        assert_int_equal(parse(OK_HEAD "Content-Length: 1025\r\n\r\n", 0, false, &r), -EFBIG);
        assert_int_equal(parse(OK_HEAD "Content-Length: 99999999999999999999\r\n\r\n", 0, false, &r), -EBADMSG);
        snprintf(big, sizeof(big), OK_HEAD "\r\n%01100d", 0);
        assert_int_equal(parse(big, 100, true, &r), -EFBIG);
        assert_int_equal(parse(OK_HEAD "Transfer-Encoding: chunked\r\n\r\n401\r\n", 0, false, &r), -EFBIG);
        /* Chunks that each fit but together do not. */
        snprintf(big, sizeof(big), OK_HEAD "Transfer-Encoding: chunked\r\n\r\n3ff\r\n%01023d\r\n2\r\n", 0);
        assert_int_equal(parse(big, 0, false, &r), -EFBIG);
        /* Exactly the cap is fine. */
        snprintf(big, sizeof(big), OK_HEAD "Content-Length: 1024\r\n\r\n%01024d", 0);
        assert_int_equal(parse(big, 0, false, &r), 1);
        assert_int_equal(r.size, CAP);
        http_response_done(&r);
}

static void test_bad_chunk_sizes(void **state)
{
        static const char *const bad[] = {
                "zz\r\n", "\r\n", "-1\r\n", " 5\r\n", "5 x\r\n", "5\x01\r\n", "0x5\r\n",
                "10000000000000000\r\n", /* 2^64: overflow */
                "5\r\nhelloX\r\n",       /* no CRLF after the data */
        };
        char a[256];
        struct http_response r = {};
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(a, sizeof(a), OK_HEAD "Transfer-Encoding: chunked\r\n\r\n%s", bad[i]);
                assert_int_equal(parse(a, 0, false, &r), -EBADMSG);
                assert_int_equal(parse(a, 1, false, &r), -EBADMSG);
        }
        /* Big but not overflowing: over the cap. */
        assert_int_equal(parse(OK_HEAD "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n", 0, false, &r),
                         -EFBIG);
        /* An endless chunk-size line. */
        char *line = malloc(HTTP_MAX_CHUNK_LINE + 200);
        assert_non_null(line);
        int n = snprintf(line, 200, OK_HEAD "Transfer-Encoding: chunked\r\n\r\n5;");
        memset(line + n, 'x', HTTP_MAX_CHUNK_LINE);
        line[n + HTTP_MAX_CHUNK_LINE] = '\0';
        assert_int_equal(parse(line, 512, false, &r), -EBADMSG);
        free(line);
}

static void test_bad_headers(void **state)
{
        static const char *const bad[] = {
                "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",
                "HTTP/1.1 200 OK\r\n: 1\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "HTTP/2 200\r\n\r\n",
                "HTTP/1.1 20 OK\r\n\r\n",
                "HTTP/1.1 200OK\r\n\r\n",
                "HTTP/1.1 999 OK\r\n\r\n",
                "HTTP/1.1 101 Switching\r\n\r\n",
                "SSH-2.0-OpenSSH\r\n\r\n",
                "\r\n\r\n",
        };
        struct http_response r = {};
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(parse(bad[i], 0, true, &r), -EBADMSG);
                assert_int_equal(parse(bad[i], 1, true, &r), -EBADMSG);
        }
        /* NUL inside a header line. */
        struct http_parser p;
        static const char nul[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n";
        http_parser_init(&p, CAP);
        assert_int_equal(http_parser_feed(&p, nul, sizeof(nul) - 1), -EBADMSG);
        http_parser_done(&p);
}

static void test_huge_header(void **state)
{
        size_t n = HTTP_MAX_HEADER_SIZE + 100;
        char *a = malloc(n + 100);
        struct http_response r = {};
        (void)state;
        assert_non_null(a);
        int k = snprintf(a, 100, OK_HEAD "X-Big: ");
        memset(a + k, 'x', n);
        strcpy(a + k + n, "\r\n\r\n");
        assert_int_equal(parse(a, 0, false, &r), -EBADMSG);
        assert_int_equal(parse(a, 4096, false, &r), -EBADMSG);
        /* Never ending: refused once past the bound, not buffered forever. */
        a[k + n] = '\0';
        assert_int_equal(parse(a, 4096, false, &r), -EBADMSG);
        free(a);
}

static void test_flavor(void **state)
{
        struct http_response r = {};
        (void)state;
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, false, &r), 1);
        assert_false(r.flavor);
        http_response_done(&r);
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nmetadata-flavor:Google\r\nContent-Length: 0\r\n\r\n", 0, false, &r),
                         1);
        assert_true(r.flavor); /* names are case-insensitive */
        http_response_done(&r);
        assert_int_equal(parse("HTTP/1.1 200 OK\r\nMetadata-Flavor: google\r\nContent-Length: 0\r\n\r\n", 0, false,
                               &r),
                         1);
        assert_false(r.flavor); /* the value is not */
        http_response_done(&r);
        assert_int_equal(parse(OK_HEAD "Metadata-Flavor: Other\r\nContent-Length: 0\r\n\r\n", 0, false, &r), 1);
        assert_false(r.flavor);
        http_response_done(&r);
}

static void test_framing(void **state)
{
        struct http_response r = {};
        (void)state;
        /* Interim answers are skipped; their headers do not count. */
        assert_int_equal(parse("HTTP/1.1 100 Continue\r\nMetadata-Flavor: Google\r\n\r\n"
                               "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
                               5, false, &r),
                         1);
        assert_int_equal(r.status, 404);
        assert_false(r.flavor);
        assert_string_equal(r.body, "no");
        http_response_done(&r);
        assert_int_equal(parse(OK_HEAD "Connection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", 0, false, &r), 1);
        assert_false(r.keep_alive);
        http_response_done(&r);
        assert_int_equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0, false, &r), 1);
        assert_false(r.keep_alive);
        http_response_done(&r);
        /* Bytes past the answer: the connection is not reused. */
        assert_int_equal(parse(OK_HEAD "Content-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n", 0, false, &r), 1);
        assert_false(r.keep_alive);
        assert_string_equal(r.body, "x");
        http_response_done(&r);
        /* Bare LF line ends are tolerated. */
        assert_int_equal(parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 1, false, &r), 1);
        assert_string_equal(r.body, "ok");
        http_response_done(&r);
}

static void test_url(void **state)
{
        struct http_connection *c = NULL;
        char *path = NULL;
        (void)state;
        assert_int_equal(http_connection_new("http://169.254.169.254/computeMetadata/v1/", &c, &path), 0);
        assert_string_equal(path, "/computeMetadata/v1/");
        http_connection_free(c);
        free(path);
        assert_int_equal(http_connection_new("http://[::1]:8080", &c, &path), 0);
        assert_string_equal(path, "/");
        http_connection_free(c);
        free(path);
        assert_int_equal(http_connection_new("HTTP://metadata.google.internal:80/x?y=1", &c, &path), 0);
        assert_string_equal(path, "/x?y=1");
        http_connection_free(c);
        free(path);
        assert_int_equal(http_connection_new("https://169.254.169.254/", &c, &path), -EPROTONOSUPPORT);
        assert_int_equal(http_connection_new("ftp://x/", &c, &path), -EPROTONOSUPPORT);
        static const char *const bad[] = {
                "http://", "http:///x", "http://user@host/", "http://host:0/", "http://host:65536/",
                "http://host:/", "http://host:8a/", "http://[::1/", "http://[::1]x/", "http://ho st/",
                "http://host/a b", "http://host/a#frag", "http://host/\x01",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(http_connection_new(bad[i], &c, &path), -EINVAL);
}

/* ---- the connection against a canned server on 127.0.0.1 ---- */

struct server {
        int listener;
        int port;
        unsigned accepts;
        /* Per connection: answers before closing; the last request read is
         * then left unanswered (0: answer until the client closes). */
        unsigned answers_per_connection;
        bool silent;
};

static const char ANSWER[] = OK_HEAD "Content-Length: 2\r\n\r\nok";

static bool read_request(int fd)
{
        char buf[4096];
        size_t n = 0;
        while (n < sizeof(buf)) {
                ssize_t k = read(fd, buf + n, sizeof(buf) - n);
                if (k <= 0)
                        return false;
                n += (size_t)k;
                if (memmem(buf, n, "\r\n\r\n", 4))
                        return true;
        }
        return false;
}

static void *serve(void *arg)
{
        struct server *s = arg;
        for (;;) {
                int fd = accept(s->listener, NULL, NULL);
                if (fd < 0)
                        return NULL;
                s->accepts++;
                for (unsigned i = 0; read_request(fd); i++) {
                        if (s->silent) {
                                sleep(2);
                                break;
                        }
                        if (s->answers_per_connection && i == s->answers_per_connection)
                                break; /* read, then closed without a byte */
                        if (write(fd, ANSWER, sizeof(ANSWER) - 1) < 0)
                                break;
                }
                close(fd);
        }
}

static void server_start(struct server *s, pthread_t *t)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        s->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listener >= 0);
        assert_int_equal(bind(s->listener, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->listener, 8), 0);
        assert_int_equal(getsockname(s->listener, (struct sockaddr *)&a, &len), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(t, NULL, serve, s), 0);
}

static void server_stop(struct server *s, pthread_t t)
{
        shutdown(s->listener, SHUT_RDWR);
        close(s->listener);
        pthread_join(t, NULL);
}

static int get(struct http_connection *c, uint64_t timeout_usec)
{
        const struct http_request req = {.method = "GET", .target = "/x", .headers = "Metadata-Flavor: Google\r\n"};
        const struct http_limits l = {.connect_timeout_usec = 1000000,
                                      .deadline_usec = now_monotonic_usec() + timeout_usec,
                                      .max_body = CAP};
        struct http_response r = {};
        int ret = http_exchange(c, &req, &l, &r);
        if (ret == 0) {
                assert_string_equal(r.body, "ok");
                http_response_done(&r);
        }
        return ret;
}

static struct http_connection *connect_to(const struct server *s)
{
        struct http_connection *c = NULL;
        char url[64], *path = NULL;
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port);
        assert_int_equal(http_connection_new(url, &c, &path), 0);
        free(path);
        return c;
}

static void test_keep_alive(void **state)
{
        struct server s = {};
        pthread_t t;
        (void)state;
        server_start(&s, &t);
        struct http_connection *c = connect_to(&s);
        for (int i = 0; i < 5; i++)
                assert_int_equal(get(c, 2000000), 0);
        assert_int_equal(http_connection_requests(c), 5);
        http_connection_free(c);
        server_stop(&s, t);
        assert_int_equal(s.accepts, 1);
}

static void test_stale_connection_retried_once(void **state)
{
        struct server s = {.answers_per_connection = 1};
        pthread_t t;
        (void)state;
        server_start(&s, &t);
        struct http_connection *c = connect_to(&s);
        assert_int_equal(get(c, 2000000), 0);
        /* The server reads the next request and closes without a byte:
         * the client sends it once more on a fresh connection. */
        assert_int_equal(get(c, 2000000), 0);
        assert_int_equal(http_connection_requests(c), 3);
        http_connection_free(c);
        server_stop(&s, t);
        assert_int_equal(s.accepts, 2);
}

static void test_deadline(void **state)
{
        struct server s = {.silent = true};
        pthread_t t;
        (void)state;
        server_start(&s, &t);
        struct http_connection *c = connect_to(&s);
        uint64_t t0 = now_monotonic_usec();
        assert_int_equal(get(c, 300000), -ETIMEDOUT);
        uint64_t took = now_monotonic_usec() - t0;
        assert_true(took >= 290000 && took < 1500000);
        http_connection_free(c);
        server_stop(&s, t);
}

static void test_refused(void **state)
{
        struct server s = {};
        pthread_t t;
        (void)state;
        server_start(&s, &t);
        struct http_connection *c = connect_to(&s);
        server_stop(&s, t); /* nobody listens on the port any more */
        int r = get(c, 1000000);
        assert_true(r < 0 && r != -ETIMEDOUT && r != -EBADMSG);
        http_connection_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_content_length),
                cmocka_unit_test(test_chunked),
                cmocka_unit_test(test_close_delimited),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_oversize),
                cmocka_unit_test(test_bad_chunk_sizes),
                cmocka_unit_test(test_bad_headers),
                cmocka_unit_test(test_huge_header),
                cmocka_unit_test(test_flavor),
                cmocka_unit_test(test_framing),
                cmocka_unit_test(test_url),
                cmocka_unit_test(test_keep_alive),
                cmocka_unit_test(test_stale_connection_retried_once),
                cmocka_unit_test(test_deadline),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
