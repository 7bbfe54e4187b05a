/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <endian.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/broker-proto.h"
#include "basic/time-util.h"

static void keys_request(struct broker_request *q, const char *user, const char *fingerprint)
{
        *q = (struct broker_request){.kind = BROKER_KEYS};
        strcpy(q->user, user);
        strcpy(q->fingerprint, fingerprint);
}

/* Every prefix and one byte more are refused; the whole decodes. */
static void assert_request_exact(const struct byte_buffer *b)
{
        struct broker_request back;
        uint8_t longer[BROKER_REQUEST_MAX + 1];

        for (size_t len = 0; len < b->size; len++)
                assert_int_equal(broker_request_decode(b->data, len, &back), -EBADMSG);
        memcpy(longer, b->data, b->size);
        longer[b->size] = 0;
        assert_int_equal(broker_request_decode(longer, b->size + 1, &back), -EBADMSG);
}

static void test_request_round_trip(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REQUEST_MAX);
        struct broker_request q, back;

        (void)state;
        keys_request(&q, "alice_example_com", "SHA256:abcdef");
        assert_int_equal(broker_request_encode(&q, &b), 0);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), 0);
        assert_int_equal(back.kind, BROKER_KEYS);
        assert_string_equal(back.user, "alice_example_com");
        assert_string_equal(back.fingerprint, "SHA256:abcdef");
        assert_request_exact(&b);

        b.size = 0;
        q = (struct broker_request){.kind = BROKER_PRINCIPALS, .certificate = (char *)"AAAAB3NzaC1yc2E="};
        strcpy(q.user, "bob");
        assert_int_equal(broker_request_encode(&q, &b), 0);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), 0);
        assert_string_equal(back.certificate, "AAAAB3NzaC1yc2E=");
        broker_request_done(&back);
        assert_null(back.certificate);
        assert_request_exact(&b);

        b.size = 0;
        q = (struct broker_request){.kind = BROKER_ACCOUNT};
        strcpy(q.user, "bob");
        strcpy(q.service, "sshd");
        strcpy(q.rhost, "192.0.2.7");
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL); /* no UID: never 0 */
        b.size = 0;
        q.uid = 2000001002;
        assert_int_equal(broker_request_encode(&q, &b), 0);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), 0);
        assert_int_equal(back.kind, BROKER_ACCOUNT);
        assert_string_equal(back.service, "sshd");
        assert_string_equal(back.rhost, "192.0.2.7");
        assert_int_equal(back.uid, 2000001002);
        assert_request_exact(&b);

        b.size = 0;
        q = (struct broker_request){
                .kind = BROKER_AUTH_CONTINUE, .challenge_id = 3, .action = BROKER_AUTH_RESPOND};
        strcpy(q.user, "bob");
        strcpy(q.session, "s-1");
        strcpy(q.credential, "123456");
        assert_int_equal(broker_request_encode(&q, &b), 0);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), 0);
        assert_string_equal(back.session, "s-1");
        assert_int_equal(back.challenge_id, 3);
        assert_int_equal(back.action, BROKER_AUTH_RESPOND);
        assert_string_equal(back.credential, "123456");
        broker_request_done(&back);
        assert_int_equal(back.credential[0], 0);
        assert_request_exact(&b);
}

static void test_request_refused_by_encoder(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REQUEST_MAX);
        struct broker_request q;
        char big[BROKER_CERTIFICATE_MAX + 2];

        (void)state;
        keys_request(&q, "a:b", "");
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        keys_request(&q, "", "");
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        keys_request(&q, "alice", "SHA256:a\nb");
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        keys_request(&q, "alice", "");
        q.kind = 9;
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        q = (struct broker_request){.kind = BROKER_PRINCIPALS};
        strcpy(q.user, "alice");
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL); /* no certificate */
        memset(big, 'A', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        q.certificate = big;
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        q = (struct broker_request){.kind = BROKER_AUTH_CONTINUE, .action = 7};
        strcpy(q.user, "alice");
        strcpy(q.session, "s");
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        q.action = BROKER_AUTH_RESPOND;
        q.session[0] = 0;
        assert_int_equal(broker_request_encode(&q, &b), -EINVAL);
        /* Nothing half-written stays behind. */
        assert_int_equal(b.size, 0);
}

static size_t make_header(uint8_t *buf, uint32_t magic, uint16_t version, uint16_t kind, uint32_t size)
{
        magic = htole32(magic), version = htole16(version), kind = htole16(kind), size = htole32(size);
        memcpy(buf, &magic, 4);
        memcpy(buf + 4, &version, 2);
        memcpy(buf + 6, &kind, 2);
        memcpy(buf + 8, &size, 4);
        return 12;
}

static void test_request_hostile(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REQUEST_MAX);
        struct broker_request q, back;

        (void)state;
        keys_request(&q, "alice", "");
        assert_int_equal(broker_request_encode(&q, &b), 0);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), 0);
        /* Bad magic, version, kind. */
        make_header(b.data, BROKER_PROTO_MAGIC + 1, 1, BROKER_KEYS, (uint32_t)b.size - 12);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        make_header(b.data, BROKER_PROTO_MAGIC, 2, BROKER_KEYS, (uint32_t)b.size - 12);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        make_header(b.data, BROKER_PROTO_MAGIC, 1, 0, (uint32_t)b.size - 12);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        make_header(b.data, BROKER_PROTO_MAGIC, 1, 6, (uint32_t)b.size - 12);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        /* A size past the cap, and a size that disagrees with the bytes. */
        make_header(b.data, BROKER_PROTO_MAGIC, 1, BROKER_KEYS, BROKER_REQUEST_MAX);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        make_header(b.data, BROKER_PROTO_MAGIC, 1, BROKER_KEYS, (uint32_t)b.size - 13);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        make_header(b.data, BROKER_PROTO_MAGIC, 1, BROKER_KEYS, (uint32_t)b.size - 12);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), 0);
        /* Payload: user "alice" at 16..20. NUL, control character, invalid name. */
        b.data[18] = 0;
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        b.data[18] = '\n';
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        b.data[18] = ':';
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        b.data[18] = 'i';
        /* An oversize user length. */
        byte_buffer_set_u32(&b, 12, USER_NAME_MAX + 1);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
        byte_buffer_set_u32(&b, 12, 0xffffffffu);
        assert_int_equal(broker_request_decode(b.data, b.size, &back), -EBADMSG);
}

static void test_reply_round_trip(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);
        char *lines[] = {(char *)"ssh-ed25519 AAAA alice@laptop", (char *)"ssh-rsa BBBB", NULL};
        struct broker_reply r = {.status = BROKER_GRANTED, .lines = lines}, back;

        (void)state;
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), 0);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), 0);
        assert_int_equal(back.status, BROKER_GRANTED);
        assert_string_equal(back.lines[0], lines[0]);
        assert_string_equal(back.lines[1], lines[1]);
        assert_null(back.lines[2]);
        broker_reply_done(&back);
        for (size_t len = 0; len < b.size; len++)
                assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, len, &back), -EBADMSG);
        /* The same bytes are no answer to another question. */
        assert_int_equal(broker_reply_decode(BROKER_PRINCIPALS, b.data, b.size, &back), -EBADMSG);
        assert_int_equal(broker_reply_decode(BROKER_ACCOUNT, b.data, b.size, &back), -EBADMSG);

        /* KEYS GRANTED and PRINCIPALS GRANTED have the same shape: only the
         * echoed kind tells them apart. */
        b.size = 0;
        r = (struct broker_reply){.status = BROKER_GRANTED, .lines = (char *[]){NULL}};
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), 0);
        assert_int_equal(broker_reply_decode(BROKER_PRINCIPALS, b.data, b.size, &back), -EBADMSG);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), 0);
        assert_null(back.lines[0]);
        broker_reply_done(&back);

        b.size = 0;
        r = (struct broker_reply){
                .status = BROKER_GRANTED, .account_flags = BROKER_ACCOUNT_ADMIN, .uid = 2000001001};
        strcpy(r.message, "admin");
        assert_int_equal(broker_reply_encode(BROKER_ACCOUNT, &r, &b), 0);
        assert_int_equal(broker_reply_decode(BROKER_ACCOUNT, b.data, b.size, &back), 0);
        assert_int_equal(back.account_flags, BROKER_ACCOUNT_ADMIN);
        assert_int_equal(back.uid, 2000001001);
        /* UID 0 is never an OS Login profile's. */
        byte_buffer_set_u32(&b, b.size - 4, 0);
        assert_int_equal(broker_reply_decode(BROKER_ACCOUNT, b.data, b.size, &back), -EBADMSG);
        assert_string_equal(back.message, "admin");
        assert_null(back.lines);

        b.size = 0;
        r = (struct broker_reply){.status = BROKER_CHALLENGE, .n_challenges = 2};
        strcpy(r.session, "tok");
        r.challenges[0] = (struct broker_challenge){.id = 1, .type = "TOTP", .status = "READY"};
        r.challenges[1] = (struct broker_challenge){.id = 2, .type = "AUTHZEN", .status = "PROPOSED"};
        assert_int_equal(broker_reply_encode(BROKER_AUTH_START, &r, &b), 0);
        assert_int_equal(broker_reply_decode(BROKER_AUTH_START, b.data, b.size, &back), 0);
        assert_int_equal(back.n_challenges, 2);
        assert_string_equal(back.session, "tok");
        assert_int_equal(back.challenges[1].id, 2);
        assert_string_equal(back.challenges[1].type, "AUTHZEN");
        assert_string_equal(back.challenges[1].status, "PROPOSED");
        assert_int_equal(broker_reply_decode(BROKER_AUTH_CONTINUE, b.data, b.size, &back), -EBADMSG);

        /* Statuses that answer nothing of this kind. */
        r = (struct broker_reply){.status = BROKER_CHALLENGE, .n_challenges = 1};
        strcpy(r.session, "tok");
        strcpy(r.challenges[0].type, "TOTP");
        b.size = 0;
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), -EINVAL);
        r = (struct broker_reply){.status = BROKER_NO_FACTOR};
        assert_int_equal(broker_reply_encode(BROKER_ACCOUNT, &r, &b), -EINVAL);
        assert_int_equal(broker_reply_encode(BROKER_AUTH_START, &r, &b), 0);
        assert_false(broker_status_answers(BROKER_AUTH_CONTINUE, BROKER_NOT_OURS));
        assert_true(broker_status_answers(BROKER_ACCOUNT, BROKER_NOT_OURS));
        assert_true(broker_status_answers(BROKER_AUTH_START, BROKER_GRANTED));
}

static void test_reply_refused_by_encoder(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);
        char *bad_line[] = {(char *)"ssh-rsa AAAA\nssh-rsa BBBB", NULL};
        char *empty_line[] = {(char *)"", NULL};
        struct broker_reply r = {.status = BROKER_GRANTED, .lines = bad_line};

        (void)state;
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), -EINVAL);
        r.lines = empty_line;
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), -EINVAL);
        r = (struct broker_reply){.status = BROKER_GRANTED, .account_flags = 2, .uid = 5000};
        assert_int_equal(broker_reply_encode(BROKER_ACCOUNT, &r, &b), -EINVAL);
        r = (struct broker_reply){.status = BROKER_GRANTED};
        assert_int_equal(broker_reply_encode(BROKER_ACCOUNT, &r, &b), -EINVAL); /* no UID */
        r = (struct broker_reply){.status = BROKER_CHALLENGE};
        strcpy(r.session, "tok");
        assert_int_equal(broker_reply_encode(BROKER_AUTH_START, &r, &b), -EINVAL); /* no challenge */
        r = (struct broker_reply){.status = BROKER_DENIED};
        strcpy(r.message, "\033[2Jgotcha");
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), -EINVAL);
        assert_int_equal(b.size, 0);

        /* Too many keys. */
        char **many = calloc(BROKER_KEYS_MAX + 2, sizeof(char *));
        for (size_t i = 0; i <= BROKER_KEYS_MAX; i++)
                many[i] = (char *)"ssh-ed25519 AAAA";
        r = (struct broker_reply){.status = BROKER_GRANTED, .lines = many};
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), -EINVAL);
        many[BROKER_KEYS_MAX] = NULL;
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), 0);
        free(many);
}

static void test_reply_hostile(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);
        char *lines[] = {(char *)"ssh-ed25519 AAAA", NULL};
        struct broker_reply r = {.status = BROKER_GRANTED, .lines = lines}, back;

        (void)state;
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), 0);
        /* kind 12..15, message 16..19 (""), n 20..23, line length 24..27, line 28.. */
        b.data[28 + 3] = '\n';
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        b.data[28 + 3] = 0;
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        b.data[28 + 3] = '2';
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), 0);
        broker_reply_done(&back);
        /* A line count beyond the cap, and beyond the bytes present. */
        byte_buffer_set_u32(&b, 20, BROKER_KEYS_MAX + 1);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        byte_buffer_set_u32(&b, 20, 2);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        byte_buffer_set_u32(&b, 20, 1);
        /* Another kind echoed. */
        byte_buffer_set_u32(&b, 12, BROKER_PRINCIPALS);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        byte_buffer_set_u32(&b, 12, BROKER_KEYS);
        /* An unknown status; a status that answers another kind. */
        make_header(b.data, BROKER_PROTO_MAGIC, 1, 8, (uint32_t)b.size - 12);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        make_header(b.data, BROKER_PROTO_MAGIC, 1, BROKER_NO_FACTOR, (uint32_t)b.size - 12);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        /* A size past the reply cap. */
        make_header(b.data, BROKER_PROTO_MAGIC, 1, BROKER_GRANTED, BROKER_REPLY_MAX);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);

        /* DENIED carries nothing after the message. */
        b.size = 0;
        r = (struct broker_reply){.status = BROKER_DENIED};
        assert_int_equal(broker_reply_encode(BROKER_KEYS, &r, &b), 0);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), 0);
        assert_int_equal(back.status, BROKER_DENIED);
        assert_int_equal(byte_buffer_put_u32(&b, 0), 0);
        byte_buffer_set_u32(&b, 8, (uint32_t)b.size - 12);
        assert_int_equal(broker_reply_decode(BROKER_KEYS, b.data, b.size, &back), -EBADMSG);
        /* Zero or too many challenges. */
        b.size = 0;
        r = (struct broker_reply){.status = BROKER_CHALLENGE, .n_challenges = 1};
        strcpy(r.session, "t");
        strcpy(r.challenges[0].type, "TOTP");
        assert_int_equal(broker_reply_encode(BROKER_AUTH_START, &r, &b), 0);
        /* kind 12, message 16 (""), session 20 + 1 byte, n at 25. */
        byte_buffer_set_u32(&b, 25, 0);
        assert_int_equal(broker_reply_decode(BROKER_AUTH_START, b.data, b.size, &back), -EBADMSG);
        byte_buffer_set_u32(&b, 25, BROKER_CHALLENGES_MAX + 1);
        assert_int_equal(broker_reply_decode(BROKER_AUTH_START, b.data, b.size, &back), -EBADMSG);
        byte_buffer_set_u32(&b, 25, 1);
        assert_int_equal(broker_reply_decode(BROKER_AUTH_START, b.data, b.size, &back), 0);
}

enum server_mode { SERVE_ANSWER, SERVE_SILENT, SERVE_HUGE, SERVE_OTHER_KIND };

struct server {
        int listen_fd;
        enum server_mode mode;
        char path[108];
        char credential_seen[BROKER_CREDENTIAL_MAX + 1];
        struct thread_check check; /* asserted by stop_server() */
};

static void *server_thread(void *p)
{
        struct server *s = p;
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        struct broker_request q = {};
        struct broker_reply r = {.status = BROKER_GRANTED};

        if (!thread_check(&s->check, fd >= 0))
                return NULL;
        if (s->mode != SERVE_SILENT && !thread_check(&s->check, broker_read_request(fd, 1000, &q) == 0))
                goto out;
        if (s->mode == SERVE_ANSWER) {
                char *lines[] = {q.user, NULL};
                strcpy(s->credential_seen, q.credential);
                r.lines = lines;
                (void)thread_check(&s->check, broker_write_reply(fd, q.kind, &r, 1000) == 0);
        } else if (s->mode == SERVE_OTHER_KIND) {
                r.lines = (char *[]){NULL};
                (void)thread_check(&s->check, broker_write_reply(fd, BROKER_KEYS, &r, 1000) == 0);
        } else if (s->mode == SERVE_SILENT) {
                char c;
                if (read(fd, &c, 1) < 0)
                        c = 0;
                usleep(500 * 1000);
        } else if (s->mode == SERVE_HUGE) {
                uint8_t buf[12];
                make_header(buf, BROKER_PROTO_MAGIC, 1, BROKER_GRANTED, 0x7fffffff);
                (void)thread_check(&s->check, send(fd, buf, 12, MSG_NOSIGNAL) == 12);
        }
out:
        broker_request_done(&q);
        close(fd);
        return NULL;
}

static void start_server(struct server *s, enum server_mode mode, pthread_t *ret)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        s->mode = mode;
        s->check = (struct thread_check){};
        snprintf(s->path, sizeof(s->path), "/tmp/test-broker-proto.%d.sock", getpid());
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

static void test_query(void **state)
{
        struct server s;
        struct broker_request q;
        struct broker_reply r;
        pthread_t t;
        uint64_t start;

        (void)state;
        keys_request(&q, "alice", "");
        start_server(&s, SERVE_ANSWER, &t);
        assert_int_equal(broker_query(s.path, &q, 1000, &r), 0);
        assert_int_equal(r.status, BROKER_GRANTED);
        assert_string_equal(r.lines[0], "alice");
        broker_reply_done(&r);
        stop_server(&s, t);

        /* No daemon: fails at once. */
        start = now_monotonic_usec();
        assert_int_equal(broker_query(s.path, &q, 1000, &r), -ENOENT);
        assert_true(now_monotonic_usec() - start < wall_bound(50000));

        /* A daemon that never answers: bounded by the timeout. */
        start_server(&s, SERVE_SILENT, &t);
        start = now_monotonic_usec();
        assert_int_equal(broker_query(s.path, &q, 200, &r), -ETIMEDOUT);
        assert_true(
                now_monotonic_usec() - start >= 190000 && now_monotonic_usec() - start < wall_bound(450000));
        stop_server(&s, t);

        start_server(&s, SERVE_HUGE, &t);
        assert_int_equal(broker_query(s.path, &q, 1000, &r), -EBADMSG);
        stop_server(&s, t);

        /* An answer to another kind of question. */
        q = (struct broker_request){.kind = BROKER_ACCOUNT, .uid = 2000001001};
        strcpy(q.user, "alice");
        start_server(&s, SERVE_OTHER_KIND, &t);
        assert_int_equal(broker_query(s.path, &q, 1000, &r), -EBADMSG);
        stop_server(&s, t);
}

static void test_read_request(void **state)
{
        struct broker_request q;
        int sv[2];

        (void)state;
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(write(sv[0], "GET / HTTP/1.0\r\n\r\n", 18), 18);
        assert_int_equal(broker_read_request(sv[1], 1000, &q), -EBADMSG);
        close(sv[0]);
        close(sv[1]);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(write(sv[0], "OSLK", 4), 4);
        assert_int_equal(broker_read_request(sv[1], 100, &q), -ETIMEDOUT);
        close(sv[0]);
        assert_int_equal(broker_read_request(sv[1], 100, &q), -ECONNRESET);
        close(sv[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_round_trip),
                cmocka_unit_test(test_request_refused_by_encoder),
                cmocka_unit_test(test_request_hostile),
                cmocka_unit_test(test_reply_round_trip),
                cmocka_unit_test(test_reply_refused_by_encoder),
                cmocka_unit_test(test_reply_hostile),
                cmocka_unit_test(test_query),
                cmocka_unit_test(test_read_request),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
