/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <endian.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "basic/nss-proto.h"

static void test_request_round_trip(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REQUEST_MAX);
        struct nss_proto_request q, back;

        (void)state;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "alice_example_com", &q), 0);
        assert_int_equal(nss_proto_request_encode(&q, &b), 0);
        assert_int_equal(b.size, NSS_PROTO_HEADER_SIZE + strlen("alice_example_com"));
        assert_int_equal(nss_proto_request_decode(b.data, b.size, &back), 0);
        assert_int_equal(back.type, NSS_PROTO_GETPWNAM);
        assert_string_equal(back.name, "alice_example_com");

        b.size = 0;
        assert_int_equal(nss_proto_request_by_id(NSS_PROTO_GETGRGID, 1000042, &q), 0);
        assert_int_equal(nss_proto_request_encode(&q, &b), 0);
        assert_int_equal(nss_proto_request_decode(b.data, b.size, &back), 0);
        assert_int_equal(back.type, NSS_PROTO_GETGRGID);
        assert_int_equal(back.id, 1000042);

        /* Truncated anywhere, or with a byte more: refused. */
        for (size_t len = 0; len < b.size; len++)
                assert_int_equal(nss_proto_request_decode(b.data, len, &back), -EBADMSG);
        assert_int_equal(byte_buffer_put_u32(&b, 0), 0);
        assert_int_equal(nss_proto_request_decode(b.data, b.size, &back), -EBADMSG);

        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "a:b", &q), -EINVAL);
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWUID, "alice", &q), -EINVAL);
        assert_int_equal(nss_proto_request_by_id(NSS_PROTO_GETPWNAM, 5, &q), -EINVAL);
        assert_int_equal(nss_proto_request_by_id(9, 5, &q), -EINVAL);
}

/* A hand-made request: header fields then payload. */
static size_t make_request(uint8_t *buf, uint32_t magic, uint16_t version, uint16_t kind, uint32_t size,
        const void *payload, size_t payload_len)
{
        magic = htole32(magic), version = htole16(version), kind = htole16(kind), size = htole32(size);
        memcpy(buf, &magic, 4);
        memcpy(buf + 4, &version, 2);
        memcpy(buf + 6, &kind, 2);
        memcpy(buf + 8, &size, 4);
        memcpy(buf + 12, payload, payload_len);
        return 12 + payload_len;
}

static void test_request_hostile(void **state)
{
        uint8_t buf[512];
        struct nss_proto_request q;
        size_t n;

        (void)state;
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, 5, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), 0);
        n = make_request(buf, NSS_PROTO_MAGIC + 1, 1, NSS_PROTO_GETPWNAM, 5, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 2, NSS_PROTO_GETPWNAM, 5, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, 0, 5, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, 6, 5, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, 5, "al\0ce", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, 5, "al:ce", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, 0, "", 0);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(
                buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, 33, "abcdefghijabcdefghijabcdefghijabc", 33);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        /* Declared size larger than the bytes present, and over the cap. */
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, 6, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWNAM, UINT32_MAX, "alice", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWUID, 3, "\1\2\3", 3);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_GETPWUID, 5, "\1\2\3\4\5", 5);
        assert_int_equal(nss_proto_request_decode(buf, n, &q), -EBADMSG);
}

static void test_reply_round_trip(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        struct nss_proto_request q;
        struct nss_proto_reply r;
        struct span s;

        (void)state;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "alice", &q), 0);
        assert_int_equal(
                nss_proto_reply_passwd(&b, 1000001, 1000001, "alice", "Alice", "/home/alice", "/bin/bash"),
                0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), 0);
        assert_int_equal(r.status, NSS_PROTO_FOUND);
        assert_int_equal(r.passwd.uid, 1000001);
        assert_true(span_eq(r.passwd.home, "/home/alice"));

        /* The answer must match the question. */
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "mallory", &q), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), -EBADMSG);
        assert_int_equal(nss_proto_request_by_id(NSS_PROTO_GETPWUID, 1000002, &q), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), -EBADMSG);
        assert_int_equal(nss_proto_request_by_id(NSS_PROTO_GETPWUID, 1000001, &q), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), 0);
        /* A passwd record is not a group record. */
        assert_int_equal(nss_proto_request_by_id(NSS_PROTO_GETGRGID, 1000001, &q), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), -EBADMSG);

        b.size = 0;
        assert_int_equal(
                nss_proto_reply_group(&b, 1000042, "eng", (const char *const[]){"alice", "bob", NULL}), 0);
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETGRNAM, "eng", &q), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), 0);
        assert_int_equal(r.group.n_members, 2);
        struct byte_reader it = r.group.members;
        assert_int_equal(group_record_next_member(&it, &s), 0);
        assert_true(span_eq(s, "alice"));

        b.size = 0;
        assert_int_equal(nss_proto_reply_gid_list(&b, "alice", (const uint32_t[]){1000042, 1000001}, 2), 0);
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_INITGROUPS, "alice", &q), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), 0);
        assert_int_equal(r.gid_list.n_gids, 2);
        assert_int_equal(gid_list_record_get(&r.gid_list, 1), 1000001);

        b.size = 0;
        assert_int_equal(nss_proto_reply_status(&b, NSS_PROTO_NOTFOUND), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), 0);
        assert_int_equal(r.status, NSS_PROTO_NOTFOUND);
        assert_int_equal(nss_proto_reply_status(&b, NSS_PROTO_FOUND), -EINVAL);

        /* Encoders refuse what a passwd line cannot carry. */
        b.size = 0;
        assert_int_equal(
                nss_proto_reply_passwd(&b, 1, 1, "alice", "A:B", "/home/alice", "/bin/sh"), -EINVAL);
        assert_int_equal(nss_proto_reply_passwd(&b, 1, 1, "alice", "A", "home", "/bin/sh"), -EINVAL);
        assert_int_equal(nss_proto_reply_group(&b, 1, "eng", (const char *const[]){"a\nb", NULL}), -EINVAL);
        assert_int_equal(b.size, 0);
}

/* Every truncation, extension and byte change of a valid reply decodes to
 * an error or to a record that still answers the question. */
static void test_reply_hostile(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        struct nss_proto_request q;
        struct nss_proto_reply r;

        (void)state;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETGRNAM, "eng", &q), 0);
        assert_int_equal(
                nss_proto_reply_group(&b, 1000042, "eng", (const char *const[]){"alice", "bob", NULL}), 0);
        for (size_t len = 0; len < b.size; len++) {
                _cleanup_free_ uint8_t *copy = malloc(len + 1);
                memcpy(copy, b.data, len);
                assert_int_equal(nss_proto_reply_decode(&q, copy, len, &r), -EBADMSG);
        }
        for (size_t i = 0; i < b.size; i++)
                for (unsigned v = 0; v < 256; v += 17) {
                        _cleanup_free_ uint8_t *copy = malloc(b.size);
                        memcpy(copy, b.data, b.size);
                        copy[i] = (uint8_t)v;
                        if (nss_proto_reply_decode(&q, copy, b.size, &r) == 0 && r.status == NSS_PROTO_FOUND)
                                assert_true(span_eq(r.group.name, "eng"));
                }
        assert_int_equal(byte_buffer_put_u32(&b, 0), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &r), -EBADMSG);

        /* NOTFOUND with a payload, a status out of range. */
        uint8_t buf[64];
        size_t n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_NOTFOUND, 4, "abcd", 4);
        assert_int_equal(nss_proto_reply_decode(&q, buf, n, &r), -EBADMSG);
        n = make_request(buf, NSS_PROTO_MAGIC, 1, 4, 0, "", 0);
        assert_int_equal(nss_proto_reply_decode(&q, buf, n, &r), -EBADMSG);
        /* A member count far beyond the bytes present. */
        _cleanup_byte_buffer_ struct byte_buffer g = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        assert_int_equal(nss_proto_reply_group(&g, 1000042, "eng", NULL), 0);
        byte_buffer_set_u32(&g, g.size - 4, 1000);
        assert_int_equal(nss_proto_reply_decode(&q, g.data, g.size, &r), -EBADMSG);
}

enum server_mode { SERVE_ANSWER, SERVE_SILENT, SERVE_CLOSE, SERVE_HUGE };

struct server {
        int listen_fd;
        enum server_mode mode;
        char path[108];
        struct thread_check check; /* asserted by stop_server() */
};

static void *server_thread(void *p)
{
        struct server *s = p;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        struct nss_proto_request q;

        if (!thread_check(&s->check, fd >= 0))
                return NULL;
        if (s->mode == SERVE_ANSWER) {
                _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
                (void)(thread_check(&s->check, nss_proto_read_request(fd, 1000, &q) == 0) &&
                        thread_check(&s->check, nss_proto_reply_passwd(&b, 1000001, 1000001, q.name, "",
                                                        "/home/x", "/bin/sh") == 0) &&
                        thread_check(&s->check, nss_proto_write_message(fd, &b, 1000) == 0));
        } else if (s->mode == SERVE_SILENT) {
                char c;
                if (read(fd, &c, 1) < 0)
                        c = 0;
                usleep(500 * 1000);
        } else if (s->mode == SERVE_HUGE) {
                uint8_t buf[16];
                size_t n = make_request(buf, NSS_PROTO_MAGIC, 1, NSS_PROTO_FOUND, 0x7fffffff, "", 0);
                (void)(thread_check(&s->check, nss_proto_read_request(fd, 1000, &q) == 0) &&
                        thread_check(&s->check, send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n));
        }
        close(fd);
        return NULL;
}

static void start_server(struct server *s, enum server_mode mode, pthread_t *ret)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        s->mode = mode;
        s->check = (struct thread_check){};
        snprintf(s->path, sizeof(s->path), "/tmp/test-nss-proto.%d.sock", getpid());
        unlink(s->path);
        strcpy(sa.sun_path, s->path);
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listen_fd >= 0);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(s->listen_fd, 4), 0);
        assert_int_equal(pthread_create(ret, NULL, server_thread, s), 0);
}

static void stop_server(struct server *s, pthread_t t)
{
        pthread_join(t, NULL);
        close(s->listen_fd);
        unlink(s->path);
        assert_thread_checks(&s->check);
}

static uint64_t msec_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_query(void **state)
{
        struct server s;
        struct nss_proto_request q;
        struct nss_proto_reply r;
        uint8_t *msg = NULL;
        size_t size;
        pthread_t t;
        uint64_t start;

        (void)state;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "alice", &q), 0);

        start_server(&s, SERVE_ANSWER, &t);
        assert_int_equal(nss_proto_query(s.path, &q, 1000, &msg, &size), 0);
        assert_int_equal(nss_proto_reply_decode(&q, msg, size, &r), 0);
        assert_true(span_eq(r.passwd.name, "alice"));
        free(msg);
        stop_server(&s, t);

        /* No daemon: fails at once. */
        start = msec_now();
        assert_int_equal(nss_proto_query(s.path, &q, 1000, &msg, &size), -ENOENT);
        assert_true(msec_now() - start < wall_bound(50));

        start_server(&s, SERVE_SILENT, &t);
        start = msec_now();
        assert_int_equal(nss_proto_query(s.path, &q, 200, &msg, &size), -ETIMEDOUT);
        assert_true(msec_now() - start >= 190 && msec_now() - start < wall_bound(450));
        stop_server(&s, t);

        start_server(&s, SERVE_CLOSE, &t);
        int k = nss_proto_query(s.path, &q, 1000, &msg, &size);
        /* EPIPE when the server closed before the request was sent. */
        assert_true(k == -ECONNRESET || k == -EPIPE);
        stop_server(&s, t);

        start_server(&s, SERVE_HUGE, &t);
        assert_int_equal(nss_proto_query(s.path, &q, 1000, &msg, &size), -EBADMSG);
        stop_server(&s, t);
}

static void test_read_request(void **state)
{
        struct nss_proto_request q;
        int sv[2];

        (void)state;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(write(sv[0], "GET / HTTP/1.0\r\n\r\n", 18), 18);
        assert_int_equal(nss_proto_read_request(sv[1], 1000, &q), -EBADMSG);
        close(sv[0]);
        close(sv[1]);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(write(sv[0], "OSLN", 4), 4);
        assert_int_equal(nss_proto_read_request(sv[1], 100, &q), -ETIMEDOUT);
        close(sv[0]);
        assert_int_equal(nss_proto_read_request(sv[1], 100, &q), -ECONNRESET);
        close(sv[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_round_trip),
                cmocka_unit_test(test_request_hostile),
                cmocka_unit_test(test_reply_round_trip),
                cmocka_unit_test(test_reply_hostile),
                cmocka_unit_test(test_query),
                cmocka_unit_test(test_read_request),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
