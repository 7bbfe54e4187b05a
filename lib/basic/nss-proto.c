/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "basic/message-header.h"
#include "basic/nss-proto.h"
#include "basic/socket-util.h"
#include "basic/time-util.h"

bool nss_proto_type_by_name(enum nss_proto_type type)
{
        return type == NSS_PROTO_GETPWNAM || type == NSS_PROTO_GETGRNAM || type == NSS_PROTO_INITGROUPS;
}

static bool type_valid(uint32_t type)
{
        return type >= NSS_PROTO_GETPWNAM && type <= NSS_PROTO_INITGROUPS;
}

static bool status_valid(uint32_t status)
{
        return status <= NSS_PROTO_TRYAGAIN;
}

static const struct message_format nss_format = {
        .magic = NSS_PROTO_MAGIC,
        .version = NSS_PROTO_VERSION,
        .request_max = NSS_PROTO_REQUEST_MAX,
        .reply_max = NSS_PROTO_REPLY_MAX,
        .request_kind_valid = type_valid,
        .reply_kind_valid = status_valid,
};

const char *nss_proto_type_to_string(enum nss_proto_type type)
{
        static const char *const names[] = {
                [NSS_PROTO_GETPWNAM] = "getpwnam",
                [NSS_PROTO_GETPWUID] = "getpwuid",
                [NSS_PROTO_GETGRNAM] = "getgrnam",
                [NSS_PROTO_GETGRGID] = "getgrgid",
                [NSS_PROTO_INITGROUPS] = "initgroups",
        };
        return type_valid(type) ? names[type] : "invalid";
}

const char *nss_proto_status_to_string(enum nss_proto_status status)
{
        static const char *const names[] = {
                [NSS_PROTO_FOUND] = "found",
                [NSS_PROTO_NOTFOUND] = "notfound",
                [NSS_PROTO_UNAVAIL] = "unavail",
                [NSS_PROTO_TRYAGAIN] = "tryagain",
        };
        return (unsigned)status < ELEMENTSOF(names) ? names[status] : "invalid";
}

int nss_proto_request_by_name(enum nss_proto_type type, const char *name, struct nss_proto_request *ret)
{
        if (!type_valid(type) || !nss_proto_type_by_name(type) || !valid_user_name(name))
                return -EINVAL;
        *ret = (struct nss_proto_request){.type = type};
        strcpy(ret->name, name); /* valid_user_name(): at most USER_NAME_MAX bytes */
        return 0;
}

int nss_proto_request_by_id(enum nss_proto_type type, uint32_t id, struct nss_proto_request *ret)
{
        if (!type_valid(type) || nss_proto_type_by_name(type))
                return -EINVAL;
        *ret = (struct nss_proto_request){.type = type, .id = id};
        return 0;
}

static int put_header(struct byte_buffer *b, uint16_t kind, uint32_t payload_size)
{
        return message_header_put(b, &nss_format, kind, payload_size);
}

int nss_proto_header_decode(
        const uint8_t *header, bool is_reply, uint16_t *ret_kind, uint32_t *ret_payload_size)
{
        return message_header_decode(&nss_format, header, is_reply, ret_kind, ret_payload_size);
}

int nss_proto_request_encode(const struct nss_proto_request *q, struct byte_buffer *b)
{
        size_t start = b->size;
        int k;

        if (!type_valid(q->type))
                return -EINVAL;
        if (nss_proto_type_by_name(q->type)) {
                if (!valid_user_name(q->name))
                        return -EINVAL;
                k = put_header(b, (uint16_t)q->type, (uint32_t)strlen(q->name));
                if (k >= 0)
                        k = byte_buffer_put_bytes(b, q->name, strlen(q->name));
        } else {
                k = put_header(b, (uint16_t)q->type, 4);
                if (k >= 0)
                        k = byte_buffer_put_u32(b, q->id);
        }
        if (k < 0)
                b->size = start;
        return k;
}

int nss_proto_request_decode(const uint8_t *msg, size_t size, struct nss_proto_request *ret)
{
        struct nss_proto_request q = {};
        struct byte_reader r;
        uint16_t kind;

        if (message_open(&nss_format, msg, size, false, &kind, &r) < 0)
                return -EBADMSG;
        q.type = kind;
        if (nss_proto_type_by_name(q.type)) {
                if (r.left == 0 || r.left > USER_NAME_MAX || memchr(r.p, 0, r.left))
                        return -EBADMSG;
                memcpy(q.name, r.p, r.left);
                if (!valid_user_name(q.name))
                        return -EBADMSG;
        } else if (byte_reader_get_u32(&r, &q.id) < 0 || byte_reader_end(&r) < 0)
                return -EBADMSG;
        *ret = q;
        return 0;
}

int nss_proto_reply_status(struct byte_buffer *b, enum nss_proto_status status)
{
        if (status == NSS_PROTO_FOUND || !status_valid(status))
                return -EINVAL;
        return put_header(b, (uint16_t)status, 0);
}

/* Header with a placeholder size, the record, then the real size. */
static int finish_found(struct byte_buffer *b, size_t start, int k)
{
        if (k < 0) {
                b->size = start;
                return k;
        }
        message_set_payload_size(b, start);
        return 0;
}

int nss_proto_reply_passwd(struct byte_buffer *b, uint32_t uid, uint32_t gid, const char *name,
        const char *gecos, const char *home, const char *shell)
{
        size_t start = b->size;
        int k = put_header(b, NSS_PROTO_FOUND, 0);

        if (k >= 0)
                k = passwd_record_encode(b, uid, gid, name, gecos, home, shell);
        return finish_found(b, start, k);
}

int nss_proto_reply_group(struct byte_buffer *b, uint32_t gid, const char *name, const char *const *members)
{
        size_t start = b->size;
        int k = put_header(b, NSS_PROTO_FOUND, 0);

        if (k >= 0)
                k = group_record_encode(b, gid, name, members);
        return finish_found(b, start, k);
}

int nss_proto_reply_gid_list(struct byte_buffer *b, const char *name, const uint32_t *gids, size_t n_gids)
{
        size_t start = b->size;
        int k = put_header(b, NSS_PROTO_FOUND, 0);

        if (k >= 0)
                k = gid_list_record_encode(b, name, gids, n_gids);
        return finish_found(b, start, k);
}

static int decode_found(
        const struct nss_proto_request *q, const uint8_t *p, size_t n, struct nss_proto_reply *r)
{
        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID:
                if (passwd_record_decode(p, n, &r->passwd) < 0)
                        return -EBADMSG;
                return (q->type == NSS_PROTO_GETPWNAM ? span_eq(r->passwd.name, q->name)
                                                      : r->passwd.uid == q->id)
                               ? 0
                               : -EBADMSG;
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID:
                if (group_record_decode(p, n, &r->group) < 0)
                        return -EBADMSG;
                return (q->type == NSS_PROTO_GETGRNAM ? span_eq(r->group.name, q->name)
                                                      : r->group.gid == q->id)
                               ? 0
                               : -EBADMSG;
        case NSS_PROTO_INITGROUPS:
                if (gid_list_record_decode(p, n, &r->gid_list) < 0)
                        return -EBADMSG;
                return span_eq(r->gid_list.name, q->name) ? 0 : -EBADMSG;
        }
        return -EBADMSG;
}

int nss_proto_reply_decode(
        const struct nss_proto_request *q, const uint8_t *msg, size_t size, struct nss_proto_reply *ret)
{
        struct nss_proto_reply r = {};
        struct byte_reader payload;
        uint16_t kind;

        if (message_open(&nss_format, msg, size, true, &kind, &payload) < 0)
                return -EBADMSG;
        r.status = kind;
        if (r.status != NSS_PROTO_FOUND) {
                if (payload.left != 0)
                        return -EBADMSG;
        } else if (decode_found(q, payload.p, payload.left, &r) < 0)
                return -EBADMSG;
        *ret = r;
        return 0;
}

int nss_proto_query(const char *socket_path, const struct nss_proto_request *q, unsigned timeout_ms,
        uint8_t **ret_msg, size_t *ret_size)
{
        _cleanup_byte_buffer_ struct byte_buffer request = BYTE_BUFFER_INIT(NSS_PROTO_REQUEST_MAX);
        uint64_t deadline = now_monotonic_usec() + (uint64_t)timeout_ms * 1000u;
        _cleanup_close_ int fd = -EBADF;
        int k;

        k = nss_proto_request_encode(q, &request);
        if (k < 0)
                return k;
        k = unix_connect(socket_path, &fd);
        if (k < 0)
                return k;
        k = send_all_until(fd, request.data, request.size, deadline);
        if (k < 0)
                return k;
        return message_receive(fd, &nss_format, true, deadline, ret_msg, ret_size);
}

int nss_proto_read_request(int fd, unsigned timeout_ms, struct nss_proto_request *ret)
{
        uint64_t deadline = now_monotonic_usec() + (uint64_t)timeout_ms * 1000u;
        _cleanup_free_ uint8_t *msg = NULL;
        size_t size;
        int k;

        k = message_receive(fd, &nss_format, false, deadline, &msg, &size);
        if (k < 0)
                return k;
        return nss_proto_request_decode(msg, size, ret);
}

int nss_proto_write_message(int fd, const struct byte_buffer *b, unsigned timeout_ms)
{
        return send_all_until(fd, b->data, b->size, now_monotonic_usec() + (uint64_t)timeout_ms * 1000u);
}
