/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Records shared by the cache file and the NSS socket protocol, and the one
 * bounds-checked reader every byte of either goes through.
 *
 * Encoding (all integers u32 little-endian; a "string" is a u32 length then
 * that many bytes, no terminating NUL, no NUL inside):
 *
 *   passwd record:   uid, gid, name, gecos, home, shell
 *   group record:    gid, name, n_members, n_members × member name
 *   gid-list record: name, n_gids, n_gids × gid   (user → supplementary groups)
 *
 * Decoders fail with -EBADMSG on short input, oversize lengths, embedded
 * NUL, characters a passwd/group line cannot carry (control characters,
 * ':'; ',' in names), and trailing bytes. Decoded strings are spans that
 * point into the input: copy them out before the input goes away. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

#define RECORD_PATH_MAX 4095u
#define RECORD_MEMBERS_MAX 65536u
#define RECORD_GIDS_MAX 65536u

/* A string inside a record: not NUL-terminated. */
struct span {
        const char *ptr;
        size_t len;
};

/* Compares a span with a C string. */
bool span_eq(struct span s, const char *str);

struct byte_reader {
        const uint8_t *p;
        size_t left;
};

static inline struct byte_reader byte_reader_make(const void *data, size_t size)
{
        return (struct byte_reader){.p = data, .left = size};
}
/* Each returns 0 or -EBADMSG (and then leaves the reader unusable). */
int byte_reader_get_u32(struct byte_reader *r, uint32_t *ret);
/* A string of at most MAX bytes, without NUL. */
int byte_reader_get_string(struct byte_reader *r, size_t max, struct span *ret);
int byte_reader_get_bytes(struct byte_reader *r, size_t n, const uint8_t **ret);
/* -EBADMSG when bytes are left over. */
int byte_reader_end(const struct byte_reader *r);

/* A growable output buffer with a size cap; put_* return 0, -ENOMEM, or
 * -EMSGSIZE past MAX. */
struct byte_buffer {
        uint8_t *data;
        size_t size, allocated, max;
};
#define BYTE_BUFFER_INIT(limit) ((struct byte_buffer){.max = (limit)})
int byte_buffer_put_u32(struct byte_buffer *b, uint32_t v);
int byte_buffer_put_bytes(struct byte_buffer *b, const void *p, size_t n);
int byte_buffer_put_string(struct byte_buffer *b, const char *s);
/* Overwrites 4 bytes at OFFSET (already written) with V. */
void byte_buffer_set_u32(struct byte_buffer *b, size_t offset, uint32_t v);
void byte_buffer_done(struct byte_buffer *b);
#define _cleanup_byte_buffer_ _cleanup_(byte_buffer_done)

struct passwd_record {
        uint32_t uid, gid;
        struct span name, gecos, home, shell;
};

struct group_record {
        uint32_t gid;
        struct span name;
        uint32_t n_members;
        /* Positioned at the first member; walk with group_record_next_member(). */
        struct byte_reader members;
};

struct gid_list_record {
        struct span name;
        uint32_t n_gids;
        const uint8_t *gids; /* n_gids little-endian u32; read with gid_list_record_get() */
};

/* Encoders validate with basic/valid.h (valid_user_name, valid_gecos,
 * valid_home, valid_shell) and return -EINVAL for anything a passwd or
 * group line must not carry; uid/gid are taken as given (callers apply the
 * floor). MEMBERS is NULL-terminated and may be NULL. */
int passwd_record_encode(struct byte_buffer *b, uint32_t uid, uint32_t gid, const char *name,
        const char *gecos, const char *home, const char *shell);
int group_record_encode(struct byte_buffer *b, uint32_t gid, const char *name, const char *const *members);
int gid_list_record_encode(struct byte_buffer *b, const char *name, const uint32_t *gids, size_t n_gids);

/* Decode exactly SIZE bytes; 0 or -EBADMSG. */
int passwd_record_decode(const void *data, size_t size, struct passwd_record *ret);
int group_record_decode(const void *data, size_t size, struct group_record *ret);
int gid_list_record_decode(const void *data, size_t size, struct gid_list_record *ret);

/* Next member of a decoded group (already validated by the decoder): 0, or
 * -ENOENT after the last one. IT starts as a copy of record->members. */
int group_record_next_member(struct byte_reader *it, struct span *ret);
uint32_t gid_list_record_get(const struct gid_list_record *l, size_t i);
