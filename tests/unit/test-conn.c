/* SPDX-License-Identifier: Apache-2.0 */
/* accountsd/conn.c, the connection handling of the daemon's sockets, with
 * a line protocol ("...\n", at most REQUEST_MAX bytes). The client is a
 * non-blocking socket in the test's own thread: each test turns the loop
 * (sd_event_run) and reads what the server wrote, so no assertion runs
 * anywhere but in the test's thread. */
#include "tests/unit/unit.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accountsd/conn.h"
#include "basic/macro.h"
#include "basic/socket-util.h"
#include "basic/time-util.h"

#define REQUEST_MAX 64u
#define READ_USEC 200000u
#define LARGE_REPLY (8u * 1024u * 1024u)

struct fixture {
        char dir[64];
        char path[128];
        sd_event *event;
        struct conn_server *server;
        /* what the callbacks saw and what they are told to do */
        unsigned requests, closed, allowed_calls;
        uint32_t allowed_uid;
        char request[REQUEST_MAX + 1];
        size_t request_size;
        bool refuse;       /* peer_allowed() says no */
        bool hold;         /* request(): no reply now; the test answers through HELD */
        size_t reply_size; /* >0: a reply of that many pattern bytes, else an echo */
        struct conn *held;
};

static struct fixture *fixture_of(void *userdata)
{
        return userdata;
}

static ssize_t frame_line(const uint8_t *in, size_t size)
{
        const uint8_t *nl = memchr(in, '\n', size);
        if (in[0] == '!') /* the protocol's framing says: malformed */
                return -EBADMSG;
        return nl ? nl - in + 1 : 0;
}

static bool peer_allowed(uint32_t uid, void *userdata)
{
        struct fixture *f = fixture_of(userdata);

        f->allowed_calls++;
        f->allowed_uid = uid;
        return !f->refuse;
}

static uint8_t pattern(size_t i)
{
        return (uint8_t)(i * 7u + (i >> 13));
}

static int on_request(struct conn *c, const uint8_t *in, size_t size, void *userdata)
{
        struct fixture *f = fixture_of(userdata);

        f->requests++;
        if (size == 4 && memcmp(in, "bad\n", 4) == 0) /* the decoder says: malformed */
                return -EBADMSG;
        f->request_size = MIN(size, (size_t)REQUEST_MAX);
        memcpy(f->request, in, f->request_size);
        f->request[f->request_size] = '\0';
        if (f->hold) {
                f->held = c;
                conn_set_data(c, &f->held); /* closed() forgets it */
                return 0;
        }
        if (f->reply_size > 0) {
                uint8_t *big = malloc(f->reply_size);
                if (!big)
                        return -ENOMEM;
                for (size_t i = 0; i < f->reply_size; i++)
                        big[i] = pattern(i);
                /* As the servers do: the reply gets its own time (the read
                 * deadline would cut a slow reader's, valgrind's, short). */
                assert_int_equal(conn_set_deadline(c, 60000000u), 0);
                conn_reply(c, big, f->reply_size);
                free(big);
                return 0;
        }
        char echo[REQUEST_MAX + 16];
        int n = snprintf(echo, sizeof(echo), "echo: %.*s", (int)size, (const char *)in);
        conn_reply(c, echo, (size_t)n);
        return 0;
}

static void on_closed(struct conn *c, void *userdata)
{
        struct fixture *f = fixture_of(userdata);
        struct conn **held = conn_data(c);

        f->closed++;
        if (held)
                *held = NULL;
}

static const struct conn_server_ops line_ops = {
        .request_max = REQUEST_MAX,
        .read_usec = READ_USEC,
        .frame = frame_line,
        .peer_allowed = peer_allowed,
        .request = on_request,
        .closed = on_closed,
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        int fd;

        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/test-conn-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/t.sock", f->dir);
        assert_int_equal(unix_listen(f->dir, "t.sock", 0666, &fd), 0);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(conn_server_new(f->event, fd, &line_ops, f, &f->server), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        conn_server_free(f->server);
        sd_event_unref(f->event);
        unlink(f->path);
        rmdir(f->dir);
        free(f);
        return 0;
}

static int client_connect(struct fixture *f)
{
        int fd = -EBADF;

        assert_int_equal(unix_connect(f->path, &fd), 0);
        return fd;
}

static void client_send(int fd, const char *text)
{
        assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Turns the loop and reads FD until the server closes it (or LIMIT_USEC
 * passes: -ETIMEDOUT). What was read is in *BUF (malloc'd), *SIZE. */
static int pump_until_closed(struct fixture *f, int fd, uint64_t limit_usec, uint8_t **buf, size_t *size)
{
        uint64_t until = now_monotonic_usec() + limit_usec;
        size_t allocated = 0;

        *buf = NULL;
        *size = 0;
        while (now_monotonic_usec() < until) {
                assert_true(sd_event_run(f->event, 10000) >= 0);
                for (;;) {
                        if (*size == allocated) {
                                allocated = allocated ? 2 * allocated : 65536;
                                *buf = realloc(*buf, allocated);
                                assert_non_null(*buf);
                        }
                        ssize_t n = recv(fd, *buf + *size, allocated - *size, MSG_DONTWAIT);
                        if (n > 0) {
                                *size += (size_t)n;
                                continue;
                        }
                        /* A server that closes with our bytes unread resets the connection. */
                        if (n == 0 || errno == ECONNRESET)
                                return 0;
                        assert_true(errno == EAGAIN || errno == EINTR);
                        break;
                }
        }
        return -ETIMEDOUT;
}

/* Sends TEXT on a new connection; returns what came back before the close. */
static char *exchange(struct fixture *f, const char *text)
{
        int fd = client_connect(f);
        uint8_t *buf;
        size_t size;

        if (text)
                client_send(fd, text);
        assert_int_equal(pump_until_closed(f, fd, 30000000u, &buf, &size), 0);
        safe_close(fd);
        buf = realloc(buf, size + 1);
        assert_non_null(buf);
        buf[size] = '\0';
        return (char *)buf;
}

static void test_serves_one_request(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;

        /* The bytes after the request are never read as a second one. */
        char *got = exchange(f, "hello\nsecond\n");
        assert_string_equal(got, "echo: hello\n");
        free(got);
        assert_int_equal(f->requests, 1);
        assert_int_equal(f->request_size, 6);
        assert_string_equal(f->request, "hello\n");
        assert_int_equal(f->allowed_calls, 1);
        assert_int_equal(f->allowed_uid, getuid());
        assert_int_equal(f->closed, 1);
        assert_int_equal(conn_server_open(f->server), 0);
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.accepted, 1);
        assert_int_equal(st.refused + st.malformed + st.oversized + st.timed_out, 0);
}

static void test_refused_peer_closed_without_reply(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;
        char *got;

        /* The same peer is served while the callback allows it ... */
        got = exchange(f, "first\n");
        assert_string_equal(got, "echo: first\n");
        free(got);
        /* ... and closed unread and unanswered once it does not. */
        f->refuse = true;
        got = exchange(f, "second\n");
        assert_string_equal(got, "");
        free(got);
        assert_int_equal(f->allowed_calls, 2);
        assert_int_equal(f->allowed_uid, getuid());
        assert_int_equal(f->requests, 1);
        assert_string_equal(f->request, "first\n");
        assert_int_equal(f->closed, 1); /* the refused one never was a connection */
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.accepted, 1);
        assert_int_equal(st.refused, 1);
}

static void test_request_over_the_bound_refused(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;
        char at_bound[REQUEST_MAX + 1], over[2 * REQUEST_MAX + 2];
        char *got;

        /* Exactly REQUEST_MAX bytes, newline included: served. */
        memset(at_bound, 'a', REQUEST_MAX - 1);
        at_bound[REQUEST_MAX - 1] = '\n';
        at_bound[REQUEST_MAX] = '\0';
        got = exchange(f, at_bound);
        assert_int_equal(strlen(got), strlen("echo: ") + REQUEST_MAX);
        free(got);
        assert_int_equal(f->requests, 1);
        /* One byte more (its newline past the bound): closed, no reply. */
        memset(over, 'b', REQUEST_MAX);
        over[REQUEST_MAX] = '\n';
        over[REQUEST_MAX + 1] = '\0';
        got = exchange(f, over);
        assert_string_equal(got, "");
        free(got);
        /* Far more, no newline at all: the same. */
        memset(over, 'c', sizeof(over) - 1);
        over[sizeof(over) - 1] = '\0';
        got = exchange(f, over);
        assert_string_equal(got, "");
        free(got);
        assert_int_equal(f->requests, 1);
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.accepted, 3);
        assert_int_equal(st.oversized, 2);
        assert_int_equal(f->closed, 3);
        assert_int_equal(conn_server_open(f->server), 0);
}

/* What the framing or the decoder calls malformed is closed unanswered. */
static void test_malformed_closed_without_reply(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;
        char *got;

        got = exchange(f, "good\n");
        assert_string_equal(got, "echo: good\n");
        free(got);
        got = exchange(f, "!framing\n");
        assert_string_equal(got, "");
        free(got);
        got = exchange(f, "bad\n");
        assert_string_equal(got, "");
        free(got);
        assert_int_equal(f->requests, 2); /* good, and bad (refused by the decoder) */
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.accepted, 3);
        assert_int_equal(st.malformed, 2);
        assert_int_equal(st.oversized, 0);
        assert_int_equal(f->closed, 3);
}

/* A peer that sends nothing (or half a request) is closed at READ_USEC. */
static void test_silent_peer_dropped_at_deadline(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;

        for (int half = 0; half <= 1; half++) {
                uint64_t start = now_monotonic_usec();
                int fd = client_connect(f);
                uint8_t *buf;
                size_t size;

                if (half)
                        client_send(fd, "hel");
                /* The close is checked everywhere (within a limit that allows
                 * for valgrind), its upper bound not under valgrind (wall_bound). */
                assert_int_equal(pump_until_closed(f, fd, 30000000u, &buf, &size), 0);
                uint64_t elapsed = now_monotonic_usec() - start;
                assert_int_equal(size, 0);
                free(buf);
                safe_close(fd);
                assert_true(elapsed >= READ_USEC);
                assert_true(elapsed < wall_bound(10 * READ_USEC));
        }
        assert_int_equal(f->requests, 0);
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.timed_out, 2);
        assert_int_equal(f->closed, 2);
}

static void test_large_reply_delivered_whole(void **state)
{
        struct fixture *f = *state;
        int fd = client_connect(f), sndbuf = 0;
        socklen_t len = sizeof(sndbuf);
        uint8_t *buf;
        size_t size;

        /* Larger than a socket buffer (the server's is as large as ours):
         * written as the client reads, the loop never blocks. */
        assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), 0);
        assert_true((size_t)sndbuf < LARGE_REPLY / 4);
        f->reply_size = LARGE_REPLY;
        client_send(fd, "big\n");
        assert_int_equal(pump_until_closed(f, fd, 120000000u, &buf, &size), 0);
        safe_close(fd);
        assert_int_equal(size, LARGE_REPLY);
        size_t bad = 0;
        for (size_t i = 0; i < size; i++)
                bad += buf[i] != pattern(i);
        assert_int_equal(bad, 0);
        free(buf);
        assert_int_equal(f->requests, 1);
        assert_int_equal(f->closed, 1);
}

/* A request handed on is answered later, in parts; or its own deadline
 * closes it (closed() runs, the caller's state is released). */
static void test_answer_later_or_at_deadline(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;
        uint8_t *buf;
        size_t size;
        int fd;

        f->hold = true;
        fd = client_connect(f);
        client_send(fd, "later\n");
        for (int i = 0; i < 100 && !f->held; i++)
                assert_true(sd_event_run(f->event, 10000) >= 0);
        assert_non_null(f->held);
        assert_int_equal(conn_set_deadline(f->held, 60000000u), 0); /* past the read deadline */
        conn_send(f->held, "part 1, ", 8, false);
        assert_non_null(f->held); /* not the final part: still open */
        for (int i = 0; i < 30; i++)
                assert_true(sd_event_run(f->event, 10000) >= 0);
        assert_non_null(f->held);
        conn_send(f->held, "part 2\n", 7, true);
        assert_int_equal(pump_until_closed(f, fd, 30000000u, &buf, &size), 0);
        safe_close(fd);
        assert_int_equal(size, 15);
        assert_memory_equal(buf, "part 1, part 2\n", 15);
        free(buf);
        assert_null(f->held);
        assert_int_equal(f->closed, 1);

        fd = client_connect(f);
        client_send(fd, "never\n");
        for (int i = 0; i < 100 && !f->held; i++)
                assert_true(sd_event_run(f->event, 10000) >= 0);
        assert_non_null(f->held);
        assert_int_equal(conn_set_deadline(f->held, 50000u), 0);
        assert_int_equal(pump_until_closed(f, fd, 30000000u, &buf, &size), 0);
        safe_close(fd);
        assert_int_equal(size, 0);
        free(buf);
        assert_null(f->held);
        assert_int_equal(f->closed, 2);
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.timed_out, 1);
}

/* The total limit refuses at accept; conn_server_free() closes the rest. */
static void test_limits_and_teardown(void **state)
{
        struct fixture *f = *state;
        struct conn_server_stats st;
        int fds[3];
        uint8_t *buf;
        size_t size;

        conn_server_set_limits(f->server, 2, UINT_MAX);
        f->hold = true;
        for (int i = 0; i < 3; i++)
                fds[i] = client_connect(f);
        for (int i = 0; i < 2; i++)
                client_send(fds[i], "held\n");
        /* (Before READ_USEC: a request handed on keeps the read deadline
         * unless the caller moves it.) */
        for (int i = 0; i < 100 && f->requests < 2; i++)
                assert_true(sd_event_run(f->event, 1000) >= 0);
        assert_int_equal(conn_server_open(f->server), 2);
        assert_int_equal(f->requests, 2);
        conn_server_get_stats(f->server, &st);
        assert_int_equal(st.accepted, 2);
        assert_int_equal(st.refused, 1);
        assert_int_equal(st.refused_total, 1);
        assert_int_equal(pump_until_closed(f, fds[2], 30000000u, &buf, &size), 0);
        assert_int_equal(size, 0);
        free(buf);

        conn_server_free(TAKE_PTR(f->server));
        assert_int_equal(f->closed, 2);
        assert_null(f->held);
        for (int i = 0; i < 2; i++) {
                char c;
                assert_int_equal(recv(fds[i], &c, 1, MSG_DONTWAIT), 0);
        }
        for (int i = 0; i < 3; i++)
                safe_close(fds[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_serves_one_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_peer_closed_without_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_over_the_bound_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_closed_without_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_silent_peer_dropped_at_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_large_reply_delivered_whole, setup, teardown),
                cmocka_unit_test_setup_teardown(test_answer_later_or_at_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_limits_and_teardown, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
