/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The message framing both socket protocols share (basic/nss-proto.h,
 * basic/broker-proto.h), written once. Every message is a 12-byte header,
 * then PAYLOAD_SIZE bytes (little-endian):
 *   u32 magic   the protocol's
 *   u16 version the protocol's
 *   u16 kind    request: the question's kind; reply: its status
 *   u32 payload_size
 * A protocol is described by a struct message_format: its magic, version,
 * size limits and which kinds are valid each way. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/cache-record.h"

#define MESSAGE_HEADER_SIZE 12u

struct message_format {
        uint32_t magic;
        uint16_t version;
        size_t request_max, reply_max; /* whole messages, header included */
        bool (*request_kind_valid)(uint32_t kind);
        bool (*reply_kind_valid)(uint32_t kind);
};

/* Appends a header. PAYLOAD_SIZE may be a placeholder (0) that
 * message_set_payload_size() corrects once the payload is written. */
int message_header_put(
        struct byte_buffer *b, const struct message_format *f, uint16_t kind, uint32_t payload_size);
/* The message that starts at START in B: its header's size becomes what
 * follows the header. */
void message_set_payload_size(struct byte_buffer *b, size_t start);

/* Parses the MESSAGE_HEADER_SIZE bytes at HEADER. IS_REPLY selects the
 * size limit and the kind check. 0 with the kind and payload size, or
 * -EBADMSG (magic, version, oversize payload, invalid kind). */
int message_header_decode(const struct message_format *f, const uint8_t *header, bool is_reply,
        uint16_t *ret_kind, uint32_t *ret_payload_size);
/* A whole message: its header must announce exactly the SIZE bytes that
 * follow. 0 with the kind and a reader over the payload, or -EBADMSG. */
int message_open(const struct message_format *f, const uint8_t *msg, size_t size, bool is_reply,
        uint16_t *ret_kind, struct byte_reader *ret_payload);

/* Reads one whole message from FD until DEADLINE (CLOCK_MONOTONIC usec):
 * the header, checked, then the payload it announces. 0 with the message
 * (malloc'd, header included), -EBADMSG, -ETIMEDOUT, -ECONNRESET, -errno.
 * On failure what was read is wiped: it may hold a secret. */
int message_receive(int fd, const struct message_format *f, bool is_reply, uint64_t deadline,
        uint8_t **ret_msg, size_t *ret_size);
