/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/broker-proto.h"
#include "basic/message-header.h"
#include "basic/socket-util.h"
#include "basic/time-util.h"

#define SERVICE_MAX 64u
#define RHOST_MAX 256u

static bool kind_valid(uint32_t kind)
{
        return kind >= BROKER_KEYS && kind <= BROKER_AUTH_CONTINUE;
}

static bool status_valid(uint32_t status)
{
        return status <= BROKER_REFUSED;
}

static const struct message_format broker_format = {
        .magic = BROKER_PROTO_MAGIC,
        .version = BROKER_PROTO_VERSION,
        .request_max = BROKER_REQUEST_MAX,
        .reply_max = BROKER_REPLY_MAX,
        .request_kind_valid = kind_valid,
        .reply_kind_valid = status_valid,
};

const char *broker_kind_to_string(enum broker_kind k)
{
        static const char *const names[] = {
                [BROKER_KEYS] = "keys",
                [BROKER_PRINCIPALS] = "principals",
                [BROKER_ACCOUNT] = "account",
                [BROKER_AUTH_START] = "auth-start",
                [BROKER_AUTH_CONTINUE] = "auth-continue",
        };
        return kind_valid(k) ? names[k] : "invalid";
}

const char *broker_status_to_string(enum broker_status s)
{
        static const char *const names[] = {
                [BROKER_GRANTED] = "granted",
                [BROKER_DENIED] = "denied",
                [BROKER_NOT_OURS] = "not-ours",
                [BROKER_UNKNOWN_USER] = "unknown-user",
                [BROKER_UNAVAILABLE] = "unavailable",
                [BROKER_CHALLENGE] = "challenge",
                [BROKER_NO_FACTOR] = "no-factor",
                [BROKER_REFUSED] = "refused",
        };
        return status_valid(s) ? names[s] : "invalid";
}

bool broker_status_answers(enum broker_kind kind, enum broker_status status)
{
        static const uint32_t allowed[] = {
                [BROKER_KEYS] = 1u << BROKER_GRANTED | 1u << BROKER_DENIED | 1u << BROKER_NOT_OURS |
                                1u << BROKER_UNKNOWN_USER | 1u << BROKER_UNAVAILABLE | 1u << BROKER_REFUSED,
                [BROKER_PRINCIPALS] = 1u << BROKER_GRANTED | 1u << BROKER_DENIED | 1u << BROKER_NOT_OURS |
                                      1u << BROKER_UNKNOWN_USER | 1u << BROKER_UNAVAILABLE |
                                      1u << BROKER_REFUSED,
                [BROKER_ACCOUNT] = 1u << BROKER_GRANTED | 1u << BROKER_DENIED | 1u << BROKER_NOT_OURS |
                                   1u << BROKER_UNKNOWN_USER | 1u << BROKER_UNAVAILABLE |
                                   1u << BROKER_REFUSED,
                /* GRANTED: the server may authenticate at start, without a challenge. */
                [BROKER_AUTH_START] = 1u << BROKER_GRANTED | 1u << BROKER_CHALLENGE |
                                      1u << BROKER_NO_FACTOR | 1u << BROKER_DENIED | 1u << BROKER_NOT_OURS |
                                      1u << BROKER_UNKNOWN_USER | 1u << BROKER_UNAVAILABLE |
                                      1u << BROKER_REFUSED,
                [BROKER_AUTH_CONTINUE] = 1u << BROKER_GRANTED | 1u << BROKER_CHALLENGE |
                                         1u << BROKER_DENIED | 1u << BROKER_UNAVAILABLE |
                                         1u << BROKER_REFUSED,
        };
        return kind_valid(kind) && status_valid(status) && (allowed[kind] & (1u << status));
}

void broker_request_done(struct broker_request *q)
{
        explicit_bzero(q->credential, sizeof(q->credential));
        free(q->certificate);
        q->certificate = NULL;
}

void broker_reply_done(struct broker_reply *r)
{
        strv_free(r->lines);
        r->lines = NULL;
}

/* --- writing --- */

/* No control characters: the same rule the decoder applies. */
static bool text_ok(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < 0x20 || c == 0x7f)
                        return false;
        }
        return true;
}

/* A string field bounded by MAX (and at least MIN bytes long). */
static int put_text(struct byte_buffer *b, const char *s, size_t min, size_t max)
{
        size_t len = strlen(s);

        if (len < min || len > max || !text_ok(s, len))
                return -EINVAL;
        return byte_buffer_put_string(b, s);
}

static int put_request_payload(const struct broker_request *q, struct byte_buffer *b)
{
        int k;

        if (!valid_user_name(q->user))
                return -EINVAL;
        k = byte_buffer_put_string(b, q->user);
        if (k < 0)
                return k;
        switch (q->kind) {
        case BROKER_KEYS:
                return put_text(b, q->fingerprint, 0, BROKER_MESSAGE_MAX);
        case BROKER_PRINCIPALS:
                return q->certificate ? put_text(b, q->certificate, 1, BROKER_CERTIFICATE_MAX) : -EINVAL;
        case BROKER_ACCOUNT:
                if (q->uid == 0 || q->uid == UINT32_MAX)
                        return -EINVAL;
                if ((k = put_text(b, q->service, 0, SERVICE_MAX)) < 0 ||
                        (k = put_text(b, q->rhost, 0, RHOST_MAX)) < 0)
                        return k;
                return byte_buffer_put_u32(b, q->uid);
        case BROKER_AUTH_START:
                k = put_text(b, q->service, 0, SERVICE_MAX);
                return k < 0 ? k : put_text(b, q->rhost, 0, RHOST_MAX);
        case BROKER_AUTH_CONTINUE:
                if (q->action != BROKER_AUTH_RESPOND && q->action != BROKER_AUTH_START_ALTERNATE)
                        return -EINVAL;
                if ((k = put_text(b, q->session, 1, BROKER_SESSION_MAX)) < 0 ||
                        (k = byte_buffer_put_u32(b, q->challenge_id)) < 0 ||
                        (k = byte_buffer_put_u32(b, q->action)) < 0)
                        return k;
                return put_text(b, q->credential, 0, BROKER_CREDENTIAL_MAX);
        }
        return -EINVAL;
}

/* Header with a placeholder size, the payload, then the real size; on
 * failure the buffer is wiped back to where it was (a credential may have
 * been half written). */
static int finish(struct byte_buffer *b, size_t start, int k)
{
        if (k < 0) {
                if (b->data && b->size > start)
                        explicit_bzero(b->data + start, b->size - start);
                b->size = start;
                return k == -EMSGSIZE ? -EINVAL : k;
        }
        message_set_payload_size(b, start);
        return 0;
}

int broker_request_encode(const struct broker_request *q, struct byte_buffer *b)
{
        size_t start = b->size;
        int k;

        if (!kind_valid(q->kind))
                return -EINVAL;
        k = message_header_put(b, &broker_format, (uint16_t)q->kind, 0);
        if (k >= 0)
                k = put_request_payload(q, b);
        if (k >= 0 && b->size - start > BROKER_REQUEST_MAX)
                k = -EINVAL;
        return finish(b, start, k);
}

static int put_reply_payload(enum broker_kind kind, const struct broker_reply *r, struct byte_buffer *b)
{
        int k;

        if ((k = byte_buffer_put_u32(b, kind)) < 0 ||
                (k = put_text(b, r->message, 0, BROKER_MESSAGE_MAX)) < 0)
                return k;
        if (r->status == BROKER_GRANTED && (kind == BROKER_KEYS || kind == BROKER_PRINCIPALS)) {
                size_t n = 0;
                size_t max = kind == BROKER_KEYS ? BROKER_KEY_LINE_MAX : BROKER_MESSAGE_MAX;

                STRV_FOREACH (l, r->lines)
                        n++;
                if (n > BROKER_KEYS_MAX)
                        return -EINVAL;
                if ((k = byte_buffer_put_u32(b, (uint32_t)n)) < 0)
                        return k;
                STRV_FOREACH (l, r->lines)
                        if ((k = put_text(b, *l, 1, max)) < 0)
                                return k;
                return 0;
        }
        if (r->status == BROKER_GRANTED && kind == BROKER_ACCOUNT) {
                if ((r->account_flags & ~(uint32_t)BROKER_ACCOUNT_ADMIN) || r->uid == 0)
                        return -EINVAL;
                if ((k = byte_buffer_put_u32(b, r->account_flags)) < 0)
                        return k;
                return byte_buffer_put_u32(b, r->uid);
        }
        if (r->status == BROKER_CHALLENGE) {
                if (r->n_challenges < 1 || r->n_challenges > BROKER_CHALLENGES_MAX)
                        return -EINVAL;
                if ((k = put_text(b, r->session, 1, BROKER_SESSION_MAX)) < 0 ||
                        (k = byte_buffer_put_u32(b, (uint32_t)r->n_challenges)) < 0)
                        return k;
                for (size_t i = 0; i < r->n_challenges; i++) {
                        const struct broker_challenge *c = &r->challenges[i];
                        if ((k = byte_buffer_put_u32(b, c->id)) < 0 ||
                                (k = put_text(b, c->type, 1, BROKER_CHALLENGE_TYPE_MAX)) < 0 ||
                                (k = put_text(b, c->status, 0, BROKER_CHALLENGE_TYPE_MAX)) < 0)
                                return k;
                }
        }
        return 0;
}

int broker_reply_encode(enum broker_kind kind, const struct broker_reply *r, struct byte_buffer *b)
{
        size_t start = b->size;
        int k;

        if (!broker_status_answers(kind, r->status))
                return -EINVAL;
        k = message_header_put(b, &broker_format, (uint16_t)r->status, 0);
        if (k >= 0)
                k = put_reply_payload(kind, r, b);
        if (k >= 0 && b->size - start > BROKER_REPLY_MAX)
                k = -EINVAL;
        return finish(b, start, k);
}

/* --- reading --- */

int broker_header_decode(
        const uint8_t *header, bool is_reply, uint16_t *ret_kind, uint32_t *ret_payload_size)
{
        return message_header_decode(&broker_format, header, is_reply, ret_kind, ret_payload_size);
}

/* A string of MIN..MAX bytes without control characters, copied into
 * DEST (at least MAX + 1 bytes). */
static int get_text(struct byte_reader *r, size_t min, size_t max, char *dest)
{
        struct span s;

        if (byte_reader_get_string(r, max, &s) < 0 || s.len < min || !text_ok(s.ptr, s.len))
                return -EBADMSG;
        memcpy(dest, s.ptr, s.len);
        dest[s.len] = 0;
        return 0;
}

static int get_text_alloc(struct byte_reader *r, size_t min, size_t max, char **ret)
{
        struct span s;
        char *p;

        if (byte_reader_get_string(r, max, &s) < 0 || s.len < min || !text_ok(s.ptr, s.len))
                return -EBADMSG;
        p = strndup(s.ptr, s.len);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int get_request_payload(struct byte_reader *r, struct broker_request *q)
{
        if (get_text(r, 1, USER_NAME_MAX, q->user) < 0 || !valid_user_name(q->user))
                return -EBADMSG;
        switch (q->kind) {
        case BROKER_KEYS:
                return get_text(r, 0, BROKER_MESSAGE_MAX, q->fingerprint);
        case BROKER_PRINCIPALS:
                return get_text_alloc(r, 1, BROKER_CERTIFICATE_MAX, &q->certificate);
        case BROKER_ACCOUNT:
                if (get_text(r, 0, SERVICE_MAX, q->service) < 0 || get_text(r, 0, RHOST_MAX, q->rhost) < 0 ||
                        byte_reader_get_u32(r, &q->uid) < 0 || q->uid == 0 || q->uid == UINT32_MAX)
                        return -EBADMSG;
                return 0;
        case BROKER_AUTH_START:
                if (get_text(r, 0, SERVICE_MAX, q->service) < 0)
                        return -EBADMSG;
                return get_text(r, 0, RHOST_MAX, q->rhost);
        case BROKER_AUTH_CONTINUE:
                if (get_text(r, 1, BROKER_SESSION_MAX, q->session) < 0 ||
                        byte_reader_get_u32(r, &q->challenge_id) < 0 ||
                        byte_reader_get_u32(r, &q->action) < 0 ||
                        (q->action != BROKER_AUTH_RESPOND && q->action != BROKER_AUTH_START_ALTERNATE))
                        return -EBADMSG;
                return get_text(r, 0, BROKER_CREDENTIAL_MAX, q->credential);
        }
        return -EBADMSG;
}

int broker_request_decode(const uint8_t *msg, size_t size, struct broker_request *ret)
{
        struct broker_request q = {};
        struct byte_reader r;
        uint16_t kind;
        int k;

        if (message_open(&broker_format, msg, size, false, &kind, &r) < 0)
                return -EBADMSG;
        q.kind = kind;
        k = get_request_payload(&r, &q);
        if (k >= 0 && byte_reader_end(&r) < 0)
                k = -EBADMSG;
        if (k < 0) {
                broker_request_done(&q);
                return k;
        }
        *ret = q;
        explicit_bzero(q.credential, sizeof(q.credential));
        return 0;
}

static int get_lines(struct byte_reader *r, size_t max, char ***ret)
{
        _cleanup_strv_free_ char **lines = NULL;
        uint32_t n;
        int k;

        if (byte_reader_get_u32(r, &n) < 0 || n > BROKER_KEYS_MAX)
                return -EBADMSG;
        lines = calloc((size_t)n + 1, sizeof(char *));
        if (!lines)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                k = get_text_alloc(r, 1, max, &lines[i]);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(lines);
        return 0;
}

static int get_challenges(struct byte_reader *r, struct broker_reply *p)
{
        uint32_t n;

        if (get_text(r, 1, BROKER_SESSION_MAX, p->session) < 0 || byte_reader_get_u32(r, &n) < 0 || n < 1 ||
                n > BROKER_CHALLENGES_MAX)
                return -EBADMSG;
        for (uint32_t i = 0; i < n; i++) {
                struct broker_challenge *c = &p->challenges[i];
                if (byte_reader_get_u32(r, &c->id) < 0 ||
                        get_text(r, 1, BROKER_CHALLENGE_TYPE_MAX, c->type) < 0 ||
                        get_text(r, 0, BROKER_CHALLENGE_TYPE_MAX, c->status) < 0)
                        return -EBADMSG;
        }
        p->n_challenges = n;
        return 0;
}

static int get_reply_payload(enum broker_kind kind, struct byte_reader *r, struct broker_reply *p)
{
        uint32_t echoed;

        if (byte_reader_get_u32(r, &echoed) < 0 || echoed != (uint32_t)kind ||
                get_text(r, 0, BROKER_MESSAGE_MAX, p->message) < 0)
                return -EBADMSG;
        if (p->status == BROKER_GRANTED && (kind == BROKER_KEYS || kind == BROKER_PRINCIPALS))
                return get_lines(
                        r, kind == BROKER_KEYS ? BROKER_KEY_LINE_MAX : BROKER_MESSAGE_MAX, &p->lines);
        if (p->status == BROKER_GRANTED && kind == BROKER_ACCOUNT)
                return byte_reader_get_u32(r, &p->account_flags) < 0 ||
                                       (p->account_flags & ~(uint32_t)BROKER_ACCOUNT_ADMIN) ||
                                       byte_reader_get_u32(r, &p->uid) < 0 || p->uid == 0
                               ? -EBADMSG
                               : 0;
        if (p->status == BROKER_CHALLENGE)
                return get_challenges(r, p);
        return 0;
}

int broker_reply_decode(enum broker_kind kind, const uint8_t *msg, size_t size, struct broker_reply *ret)
{
        struct broker_reply p = {};
        struct byte_reader r;
        uint16_t status;
        int k;

        if (!kind_valid(kind) || message_open(&broker_format, msg, size, true, &status, &r) < 0)
                return -EBADMSG;
        p.status = status;
        if (!broker_status_answers(kind, p.status))
                return -EBADMSG;
        k = get_reply_payload(kind, &r, &p);
        if (k >= 0 && byte_reader_end(&r) < 0)
                k = -EBADMSG;
        if (k < 0) {
                broker_reply_done(&p);
                return k;
        }
        *ret = p;
        return 0;
}

/* --- sockets --- */

static void wipe_buffer(struct byte_buffer *b)
{
        if (b->data)
                explicit_bzero(b->data, b->allocated);
        byte_buffer_done(b);
}

static int exchange(int fd, const struct byte_buffer *request, enum broker_kind kind, uint64_t deadline,
        struct broker_reply *ret)
{
        _cleanup_free_ uint8_t *msg = NULL;
        size_t size;
        int k;

        k = send_all_until(fd, request->data, request->size, deadline);
        if (k < 0)
                return k;
        /* Nothing more to say: a daemon that waits for EOF sees it now. */
        (void)shutdown(fd, SHUT_WR);
        k = message_receive(fd, &broker_format, true, deadline, &msg, &size);
        if (k < 0)
                return k;
        return broker_reply_decode(kind, msg, size, ret);
}

int broker_query(const char *socket_path, const struct broker_request *q, unsigned timeout_ms,
        struct broker_reply *ret)
{
        struct byte_buffer request = BYTE_BUFFER_INIT(BROKER_REQUEST_MAX);
        uint64_t deadline = now_monotonic_usec() + (uint64_t)timeout_ms * 1000u;
        _cleanup_close_ int fd = -EBADF;
        int k;

        k = broker_request_encode(q, &request);
        if (k >= 0)
                k = unix_connect(socket_path, &fd);
        if (k >= 0)
                k = exchange(fd, &request, q->kind, deadline, ret);
        wipe_buffer(&request);
        return k;
}

int broker_read_request(int fd, unsigned timeout_ms, struct broker_request *ret)
{
        uint64_t deadline = now_monotonic_usec() + (uint64_t)timeout_ms * 1000u;
        uint8_t *msg;
        size_t size;
        int k;

        k = message_receive(fd, &broker_format, false, deadline, &msg, &size);
        if (k < 0)
                return k;
        k = broker_request_decode(msg, size, ret);
        explicit_bzero(msg, size); /* a credential */
        free(msg);
        return k;
}

int broker_write_reply(int fd, enum broker_kind kind, const struct broker_reply *r, unsigned timeout_ms)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);
        int k;

        k = broker_reply_encode(kind, r, &b);
        if (k < 0)
                return k;
        return send_all_until(fd, b.data, b.size, now_monotonic_usec() + (uint64_t)timeout_ms * 1000u);
}
