/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/message-header.h"
#include "basic/socket-util.h"

int message_header_put(
        struct byte_buffer *b, const struct message_format *f, uint16_t kind, uint32_t payload_size)
{
        uint8_t h[MESSAGE_HEADER_SIZE];
        uint32_t magic = htole32(f->magic), size = htole32(payload_size);
        uint16_t version = htole16(f->version), k = htole16(kind);

        memcpy(h, &magic, 4);
        memcpy(h + 4, &version, 2);
        memcpy(h + 6, &k, 2);
        memcpy(h + 8, &size, 4);
        return byte_buffer_put_bytes(b, h, sizeof(h));
}

void message_set_payload_size(struct byte_buffer *b, size_t start)
{
        byte_buffer_set_u32(b, start + 8, (uint32_t)(b->size - start - MESSAGE_HEADER_SIZE));
}

int message_header_decode(const struct message_format *f, const uint8_t *header, bool is_reply,
        uint16_t *ret_kind, uint32_t *ret_payload_size)
{
        uint32_t magic, size;
        uint16_t version, kind;
        size_t max = is_reply ? f->reply_max : f->request_max;

        memcpy(&magic, header, 4);
        memcpy(&version, header + 4, 2);
        memcpy(&kind, header + 6, 2);
        memcpy(&size, header + 8, 4);
        kind = le16toh(kind);
        size = le32toh(size);
        if (le32toh(magic) != f->magic || le16toh(version) != f->version || size > max - MESSAGE_HEADER_SIZE)
                return -EBADMSG;
        if (!(is_reply ? f->reply_kind_valid(kind) : f->request_kind_valid(kind)))
                return -EBADMSG;
        *ret_kind = kind;
        *ret_payload_size = size;
        return 0;
}

int message_open(const struct message_format *f, const uint8_t *msg, size_t size, bool is_reply,
        uint16_t *ret_kind, struct byte_reader *ret_payload)
{
        uint32_t payload_size;

        if (size < MESSAGE_HEADER_SIZE ||
                message_header_decode(f, msg, is_reply, ret_kind, &payload_size) < 0 ||
                payload_size != size - MESSAGE_HEADER_SIZE)
                return -EBADMSG;
        *ret_payload = byte_reader_make(msg + MESSAGE_HEADER_SIZE, payload_size);
        return 0;
}

int message_receive(int fd, const struct message_format *f, bool is_reply, uint64_t deadline,
        uint8_t **ret_msg, size_t *ret_size)
{
        uint8_t header[MESSAGE_HEADER_SIZE];
        uint32_t payload_size;
        uint16_t kind;
        uint8_t *msg;
        int k;

        k = recv_exact_until(fd, header, sizeof(header), deadline);
        if (k < 0)
                return k;
        if (message_header_decode(f, header, is_reply, &kind, &payload_size) < 0)
                return -EBADMSG;
        msg = malloc(MESSAGE_HEADER_SIZE + payload_size);
        if (!msg)
                return -ENOMEM;
        memcpy(msg, header, sizeof(header));
        k = recv_exact_until(fd, msg + MESSAGE_HEADER_SIZE, payload_size, deadline);
        if (k < 0) {
                explicit_bzero(msg, MESSAGE_HEADER_SIZE + payload_size);
                free(msg);
                return k;
        }
        *ret_msg = msg;
        *ret_size = MESSAGE_HEADER_SIZE + payload_size;
        return 0;
}
