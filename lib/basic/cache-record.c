/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "basic/alloc-util.h"
#include "basic/cache-record.h"
#include "basic/valid.h"

bool span_eq(struct span s, const char *str)
{
        return strlen(str) == s.len && memcmp(s.ptr, str, s.len) == 0;
}

int byte_reader_get_bytes(struct byte_reader *r, size_t n, const uint8_t **ret)
{
        if (n > r->left) {
                r->left = 0;
                r->p = NULL;
                return -EBADMSG;
        }
        *ret = r->p;
        r->p += n;
        r->left -= n;
        return 0;
}

int byte_reader_get_u32(struct byte_reader *r, uint32_t *ret)
{
        const uint8_t *p;
        uint32_t v;
        int k = byte_reader_get_bytes(r, 4, &p);

        if (k < 0)
                return k;
        memcpy(&v, p, 4);
        *ret = le32toh(v);
        return 0;
}

int byte_reader_get_string(struct byte_reader *r, size_t max, struct span *ret)
{
        const uint8_t *p;
        uint32_t len;
        int k;

        k = byte_reader_get_u32(r, &len);
        if (k < 0)
                return k;
        if (len > max)
                return -EBADMSG;
        k = byte_reader_get_bytes(r, len, &p);
        if (k < 0)
                return k;
        if (memchr(p, 0, len))
                return -EBADMSG;
        *ret = (struct span){.ptr = (const char *)p, .len = len};
        return 0;
}

int byte_reader_end(const struct byte_reader *r)
{
        return r->left == 0 ? 0 : -EBADMSG;
}

static int byte_buffer_reserve(struct byte_buffer *b, size_t n)
{
        if (n > b->max || b->size > b->max - n)
                return -EMSGSIZE;
        return GROW_ARRAY(b->data, &b->allocated, b->size + n);
}

int byte_buffer_put_bytes(struct byte_buffer *b, const void *p, size_t n)
{
        int k = byte_buffer_reserve(b, n);
        if (k < 0)
                return k;
        if (n > 0)
                memcpy(b->data + b->size, p, n);
        b->size += n;
        return 0;
}

int byte_buffer_put_u32(struct byte_buffer *b, uint32_t v)
{
        v = htole32(v);
        return byte_buffer_put_bytes(b, &v, 4);
}

int byte_buffer_put_string(struct byte_buffer *b, const char *s)
{
        size_t len = strlen(s);
        int k;

        if (len > UINT32_MAX)
                return -EMSGSIZE;
        k = byte_buffer_put_u32(b, (uint32_t)len);
        if (k < 0)
                return k;
        return byte_buffer_put_bytes(b, s, len);
}

void byte_buffer_set_u32(struct byte_buffer *b, size_t offset, uint32_t v)
{
        v = htole32(v);
        memcpy(b->data + offset, &v, 4);
}

void byte_buffer_done(struct byte_buffer *b)
{
        free(b->data);
        b->data = NULL;
        b->size = b->allocated = 0;
}

/* Encoders put all fields or restore the buffer's size, so a failed
 * encode leaves no half record behind. */
#define PUT_OR_UNDO(b, start, expr)                                                                         \
        do {                                                                                                \
                int _k_ = (expr);                                                                           \
                if (_k_ < 0) {                                                                              \
                        (b)->size = (start);                                                                \
                        return _k_;                                                                         \
                }                                                                                           \
        } while (0)

int passwd_record_encode(struct byte_buffer *b, uint32_t uid, uint32_t gid, const char *name,
        const char *gecos, const char *home, const char *shell)
{
        size_t start = b->size;

        if (!valid_user_name(name) || !valid_gecos(gecos) || !valid_home(home) || !valid_shell(shell))
                return -EINVAL;
        if (strlen(home) > RECORD_PATH_MAX || strlen(shell) > RECORD_PATH_MAX)
                return -EINVAL;
        PUT_OR_UNDO(b, start, byte_buffer_put_u32(b, uid));
        PUT_OR_UNDO(b, start, byte_buffer_put_u32(b, gid));
        PUT_OR_UNDO(b, start, byte_buffer_put_string(b, name));
        PUT_OR_UNDO(b, start, byte_buffer_put_string(b, gecos));
        PUT_OR_UNDO(b, start, byte_buffer_put_string(b, home));
        PUT_OR_UNDO(b, start, byte_buffer_put_string(b, shell));
        return 0;
}

int group_record_encode(struct byte_buffer *b, uint32_t gid, const char *name, const char *const *members)
{
        size_t start = b->size, n = 0;

        if (!valid_group_name(name))
                return -EINVAL;
        for (const char *const *m = members; m && *m; m++, n++)
                if (!valid_user_name(*m) || n >= RECORD_MEMBERS_MAX)
                        return -EINVAL;
        PUT_OR_UNDO(b, start, byte_buffer_put_u32(b, gid));
        PUT_OR_UNDO(b, start, byte_buffer_put_string(b, name));
        PUT_OR_UNDO(b, start, byte_buffer_put_u32(b, (uint32_t)n));
        for (const char *const *m = members; m && *m; m++)
                PUT_OR_UNDO(b, start, byte_buffer_put_string(b, *m));
        return 0;
}

int gid_list_record_encode(struct byte_buffer *b, const char *name, const uint32_t *gids, size_t n_gids)
{
        size_t start = b->size;

        if (!valid_user_name(name) || n_gids > RECORD_GIDS_MAX)
                return -EINVAL;
        PUT_OR_UNDO(b, start, byte_buffer_put_string(b, name));
        PUT_OR_UNDO(b, start, byte_buffer_put_u32(b, (uint32_t)n_gids));
        for (size_t i = 0; i < n_gids; i++)
                PUT_OR_UNDO(b, start, byte_buffer_put_u32(b, gids[i]));
        return 0;
}

/* Names are checked with the same validator the encoder used. */
static int get_name(struct byte_reader *r, struct span *ret)
{
        char copy[USER_NAME_MAX + 1];
        struct span s;
        int k;

        k = byte_reader_get_string(r, USER_NAME_MAX, &s);
        if (k < 0)
                return k;
        memcpy(copy, s.ptr, s.len);
        copy[s.len] = 0;
        if (!valid_user_name(copy))
                return -EBADMSG;
        *ret = s;
        return 0;
}

/* GECOS, home, shell: nothing a passwd line cannot carry. */
static int get_field(struct byte_reader *r, size_t max, bool absolute, struct span *ret)
{
        struct span s;
        int k;

        k = byte_reader_get_string(r, max, &s);
        if (k < 0)
                return k;
        for (size_t i = 0; i < s.len; i++) {
                unsigned char c = (unsigned char)s.ptr[i];
                if (c < 0x20 || c == 0x7f || c == ':')
                        return -EBADMSG;
        }
        if (absolute && (s.len == 0 || s.ptr[0] != '/'))
                return -EBADMSG;
        *ret = s;
        return 0;
}

int passwd_record_decode(const void *data, size_t size, struct passwd_record *ret)
{
        struct byte_reader r = byte_reader_make(data, size);
        struct passwd_record pw;

        if (byte_reader_get_u32(&r, &pw.uid) < 0 || byte_reader_get_u32(&r, &pw.gid) < 0 ||
                get_name(&r, &pw.name) < 0 || get_field(&r, GECOS_MAX, false, &pw.gecos) < 0 ||
                get_field(&r, RECORD_PATH_MAX, true, &pw.home) < 0 ||
                get_field(&r, RECORD_PATH_MAX, true, &pw.shell) < 0 || byte_reader_end(&r) < 0)
                return -EBADMSG;
        *ret = pw;
        return 0;
}

int group_record_decode(const void *data, size_t size, struct group_record *ret)
{
        struct byte_reader r = byte_reader_make(data, size);
        struct group_record gr;
        struct span member;

        if (byte_reader_get_u32(&r, &gr.gid) < 0 || get_name(&r, &gr.name) < 0 ||
                byte_reader_get_u32(&r, &gr.n_members) < 0 || gr.n_members > RECORD_MEMBERS_MAX)
                return -EBADMSG;
        gr.members = r;
        /* Validate every member now, so packing can trust them. */
        for (uint32_t i = 0; i < gr.n_members; i++)
                if (get_name(&r, &member) < 0)
                        return -EBADMSG;
        if (byte_reader_end(&r) < 0)
                return -EBADMSG;
        *ret = gr;
        return 0;
}

int group_record_next_member(struct byte_reader *it, struct span *ret)
{
        if (it->left == 0)
                return -ENOENT;
        return byte_reader_get_string(it, USER_NAME_MAX, ret) < 0 ? -EBADMSG : 0;
}

int gid_list_record_decode(const void *data, size_t size, struct gid_list_record *ret)
{
        struct byte_reader r = byte_reader_make(data, size);
        struct gid_list_record l;

        if (get_name(&r, &l.name) < 0 || byte_reader_get_u32(&r, &l.n_gids) < 0 ||
                l.n_gids > RECORD_GIDS_MAX || byte_reader_get_bytes(&r, (size_t)l.n_gids * 4, &l.gids) < 0 ||
                byte_reader_end(&r) < 0)
                return -EBADMSG;
        *ret = l;
        return 0;
}

uint32_t gid_list_record_get(const struct gid_list_record *l, size_t i)
{
        uint32_t v;

        memcpy(&v, l->gids + 4 * i, 4);
        return le32toh(v);
}
