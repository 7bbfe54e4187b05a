/* SPDX-License-Identifier: Apache-2.0 */
/* Both sides of the broker protocol (basic/broker-proto.h) on hostile
 * bytes.
 *
 * The input is what travels on one connection: a request message, then
 * the reply to it. The request (its header says where it ends) goes to
 * both readers, broker_read_request() over a socketpair (the blocking one)
 * and broker_header_decode() + broker_request_decode() (what accountsd's
 * broker-server.c runs), which must agree, and a request that decodes
 * must encode back to the same bytes. The rest goes to what the key
 * helper and pam_oslogin run on a reply, broker_reply_decode() for that
 * request's kind (or, when the request is no good, for every kind); a
 * reply that decodes must encode back to the same bytes, and carry only
 * what its kind and status allow. Seeds: tests/fuzz/gen-seeds.c
 * (`make fuzz-seeds`). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "basic/broker-proto.h"
#include "tests/fuzz/fuzz-check.h"

/* The blocking reader (the test servers') on one connection's bytes. */
static int read_request_socket(const uint8_t *data, size_t size, struct broker_request *ret)
{
        int fds[2], k;

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        /* The server never reads more than a whole request. */
        size = MIN(size, (size_t)BROKER_REQUEST_MAX);
        CHECK(send(fds[1], data, size, MSG_NOSIGNAL) == (ssize_t)size);
        CHECK(shutdown(fds[1], SHUT_WR) == 0);
        /* Everything is queued and the peer has shut down: no waiting. */
        k = broker_read_request(fds[0], 1000, ret);
        close(fds[0]);
        close(fds[1]);
        return k;
}

static bool same_request(const struct broker_request *a, const struct broker_request *b)
{
        return a->kind == b->kind && streq(a->user, b->user) && streq(a->fingerprint, b->fingerprint) &&
               !a->certificate == !b->certificate &&
               (!a->certificate || streq(a->certificate, b->certificate)) && streq(a->service, b->service) &&
               streq(a->rhost, b->rhost) && streq(a->session, b->session) &&
               a->challenge_id == b->challenge_id && a->action == b->action &&
               streq(a->credential, b->credential);
}

/* Returns the request's length in DATA (0 when there is no request). */
static size_t fuzz_request(const uint8_t *data, size_t size, enum broker_kind *ret_kind)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REQUEST_MAX);
        struct broker_request q = {}, q_socket = {};
        uint32_t payload_size;
        uint16_t kind;
        size_t n = 0;
        int k, k_socket;

        k_socket = read_request_socket(data, size, &q_socket);
        CHECK(k_socket == 0 || k_socket == -EBADMSG || k_socket == -ECONNRESET);
        if (size < BROKER_PROTO_HEADER_SIZE || broker_header_decode(data, false, &kind, &payload_size) < 0) {
                CHECK(k_socket < 0);
                goto out;
        }
        n = BROKER_PROTO_HEADER_SIZE + (size_t)payload_size;
        if (n > size) {
                CHECK(k_socket == -ECONNRESET);
                n = 0;
                goto out;
        }
        k = broker_request_decode(data, n, &q);
        CHECK(k == 0 || k == -EBADMSG);
        CHECK(k == k_socket);
        if (k < 0) {
                n = 0;
                goto out;
        }
        CHECK(same_request(&q, &q_socket));
        CHECK((unsigned)q.kind == kind);
        (void)broker_kind_to_string(q.kind);

        /* One encoding per request. */
        CHECK(broker_request_encode(&q, &b) == 0);
        CHECK(b.size == n && memcmp(b.data, data, n) == 0);
        *ret_kind = q.kind;
out:
        broker_request_done(&q);
        broker_request_done(&q_socket);
        CHECK(q.credential[0] == 0 && q_socket.credential[0] == 0);
        return n;
}

static void fuzz_reply(enum broker_kind kind, const uint8_t *msg, size_t size)
{
        struct broker_reply r = {};
        int k = broker_reply_decode(kind, msg, size, &r);

        CHECK(k == 0 || k == -EBADMSG);
        if (k < 0)
                return;
        CHECK(broker_status_answers(kind, r.status));
        (void)broker_status_to_string(r.status);
        /* Lines only in a granted KEYS/PRINCIPALS answer, none with a
         * control character (sshd reads one key per line). */
        CHECK(!r.lines ==
                !(r.status == BROKER_GRANTED && (kind == BROKER_KEYS || kind == BROKER_PRINCIPALS)));
        size_t n = 0;
        STRV_FOREACH (l, r.lines) {
                CHECK(**l != '\0' && !strpbrk(*l, "\n\r"));
                n++;
        }
        CHECK(n <= BROKER_KEYS_MAX);
        CHECK(r.n_challenges <= BROKER_CHALLENGES_MAX);
        CHECK((r.n_challenges > 0) == (r.status == BROKER_CHALLENGE));
        if (kind == BROKER_ACCOUNT && r.status == BROKER_GRANTED)
                CHECK(r.uid != 0);

        /* One encoding per reply. */
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);
        CHECK(broker_reply_encode(kind, &r, &b) == 0);
        CHECK(b.size == size && memcmp(b.data, msg, size) == 0);
        broker_reply_done(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        enum broker_kind kind;
        size_t n = fuzz_request(data, size, &kind);

        if (n > 0) {
                fuzz_reply(kind, data + n, size - n);
                return 0;
        }
        /* No usable request: the whole input is a reply to each kind. */
        for (kind = BROKER_KEYS; kind <= BROKER_AUTH_CONTINUE; kind++)
                fuzz_reply(kind, data, size);
        return 0;
}
