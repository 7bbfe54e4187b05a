/* SPDX-License-Identifier: Apache-2.0 */
/* lib/basic/message-header.c: the framing the NSS and broker protocols
 * share, with a made-up format (the protocols' own tests cover theirs). */
#include "tests/unit/unit.h"

#include <sys/socket.h>
#include <unistd.h>

#include "basic/message-header.h"
#include "basic/time-util.h"

static bool request_ok(uint32_t kind)
{
        return kind >= 1 && kind <= 3;
}

static bool reply_ok(uint32_t kind)
{
        return kind <= 1;
}

static const struct message_format fmt = {
        .magic = 0x54534554u, /* "TEST" */
        .version = 7,
        .request_max = 64,
        .reply_max = 1024,
        .request_kind_valid = request_ok,
        .reply_kind_valid = reply_ok,
};

static void test_header_bytes(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(1024);
        static const uint8_t expected[] = {'T', 'E', 'S', 'T', 7, 0, 2, 0, 3, 0, 0, 0, 'a', 'b', 'c'};
        uint16_t kind;
        uint32_t size;

        (void)state;
        /* Placeholder size, payload, then the real size: little-endian on the wire. */
        assert_int_equal(message_header_put(&b, &fmt, 2, 0), 0);
        assert_int_equal(byte_buffer_put_bytes(&b, "abc", 3), 0);
        message_set_payload_size(&b, 0);
        assert_int_equal(b.size, sizeof(expected));
        assert_memory_equal(b.data, expected, sizeof(expected));
        assert_int_equal(message_header_decode(&fmt, b.data, false, &kind, &size), 0);
        assert_int_equal(kind, 2);
        assert_int_equal(size, 3);
}

static void test_header_refused(void **state)
{
        uint8_t h[MESSAGE_HEADER_SIZE];
        uint16_t kind;
        uint32_t size;
        struct byte_reader r;

        (void)state;
#define HEADER(k, s)                                                                                        \
        do {                                                                                                \
                _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(64);                          \
                assert_int_equal(message_header_put(&b, &fmt, (k), (s)), 0);                                \
                memcpy(h, b.data, sizeof(h));                                                               \
        } while (0)
        /* The size limits are of whole messages, header included. */
        HEADER(1, 64 - MESSAGE_HEADER_SIZE);
        assert_int_equal(message_header_decode(&fmt, h, false, &kind, &size), 0);
        HEADER(1, 64 - MESSAGE_HEADER_SIZE + 1);
        assert_int_equal(message_header_decode(&fmt, h, false, &kind, &size), -EBADMSG);
        assert_int_equal(message_header_decode(&fmt, h, true, &kind, &size), 0); /* the reply limit */
        HEADER(1, 1024 - MESSAGE_HEADER_SIZE + 1);
        assert_int_equal(message_header_decode(&fmt, h, true, &kind, &size), -EBADMSG);
        /* Kinds: each direction its own set. */
        HEADER(0, 0);
        assert_int_equal(message_header_decode(&fmt, h, false, &kind, &size), -EBADMSG);
        assert_int_equal(message_header_decode(&fmt, h, true, &kind, &size), 0);
        HEADER(3, 0);
        assert_int_equal(message_header_decode(&fmt, h, true, &kind, &size), -EBADMSG);
        /* Magic and version; output parameters are written only on success. */
        kind = 99, size = 99;
        HEADER(1, 0);
        h[0] ^= 1;
        assert_int_equal(message_header_decode(&fmt, h, false, &kind, &size), -EBADMSG);
        HEADER(1, 0);
        h[4] = 8;
        assert_int_equal(message_header_decode(&fmt, h, false, &kind, &size), -EBADMSG);
        assert_int_equal(kind, 99);
        assert_int_equal(size, 99);
#undef HEADER
        /* A whole message must be exactly what its header announces. */
        _cleanup_byte_buffer_ struct byte_buffer m = BYTE_BUFFER_INIT(64);
        assert_int_equal(message_header_put(&m, &fmt, 1, 2), 0);
        assert_int_equal(byte_buffer_put_bytes(&m, "xy", 2), 0);
        assert_int_equal(message_open(&fmt, m.data, m.size, false, &kind, &r), 0);
        assert_int_equal(r.left, 2);
        assert_memory_equal(r.p, "xy", 2);
        for (size_t len = 0; len < m.size; len++)
                assert_int_equal(message_open(&fmt, m.data, len, false, &kind, &r), -EBADMSG);
        assert_int_equal(byte_buffer_put_bytes(&m, "z", 1), 0);
        assert_int_equal(message_open(&fmt, m.data, m.size, false, &kind, &r), -EBADMSG);
}

static void test_receive(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(64);
        uint64_t deadline = now_monotonic_usec() + 1000000u;
        uint8_t *msg = NULL;
        size_t size = 0;
        int fds[2];

        (void)state;
        assert_int_equal(message_header_put(&b, &fmt, 1, 3), 0);
        assert_int_equal(byte_buffer_put_bytes(&b, "abc", 3), 0);

        /* One whole message. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(write(fds[1], b.data, b.size), (ssize_t)b.size);
        assert_int_equal(message_receive(fds[0], &fmt, false, deadline, &msg, &size), 0);
        assert_int_equal(size, b.size);
        assert_memory_equal(msg, b.data, b.size);
        free(msg);
        msg = NULL;
        close(fds[0]);
        close(fds[1]);

        /* The payload cut short by the peer. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(write(fds[1], b.data, b.size - 1), (ssize_t)b.size - 1);
        close(fds[1]);
        assert_int_equal(message_receive(fds[0], &fmt, false, deadline, &msg, &size), -ECONNRESET);
        assert_null(msg);
        close(fds[0]);

        /* A bad header: refused before any payload is read. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        b.data[6] = 9; /* kind 9 */
        assert_int_equal(write(fds[1], b.data, b.size), (ssize_t)b.size);
        assert_int_equal(message_receive(fds[0], &fmt, false, deadline, &msg, &size), -EBADMSG);
        assert_null(msg);
        close(fds[0]);
        close(fds[1]);

        /* Nothing comes: the deadline. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(message_receive(fds[0], &fmt, false, now_monotonic_usec() + 20000u, &msg, &size),
                -ETIMEDOUT);
        assert_null(msg);
        close(fds[0]);
        close(fds[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_bytes),
                cmocka_unit_test(test_header_refused),
                cmocka_unit_test(test_receive),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
