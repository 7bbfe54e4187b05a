/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/cache-writer.h"
#include "basic/strmap.h"
#include "basic/time-util.h"
#include "basic/u32set.h"
#include "basic/valid.h"

/* One added user or group: its encoded record lives in the writer's arena. */
struct entry {
        uint32_t id;
        uint32_t name_hash;
        uint32_t size;
        size_t offset; /* in the arena */
};

struct entry_list {
        struct entry *items;
        size_t n, allocated;
        struct byte_buffer arena;
        struct strmap names; /* names present */
        struct u32set ids;   /* ids present */
};

struct cache_writer {
        struct entry_list users, groups;
        uint32_t uid_floor, socket_timeout_ms;
        uint64_t generation, created_usec;
        cache_writer_filter_t filter;
        void *filter_userdata;
        uint32_t users_gid; /* every user's extra group, 0: none */
};

int cache_writer_new(struct cache_writer **ret)
{
        struct cache_writer *w = calloc(1, sizeof(*w));

        if (!w)
                return -ENOMEM;
        w->users.arena = BYTE_BUFFER_INIT(CACHE_FILE_MAX);
        w->groups.arena = BYTE_BUFFER_INIT(CACHE_FILE_MAX);
        w->uid_floor = OSLOGIN_UID_FLOOR_DEFAULT;
        w->socket_timeout_ms = CACHE_SOCKET_TIMEOUT_MS_DEFAULT;
        *ret = w;
        return 0;
}

static void entry_list_done(struct entry_list *l)
{
        free(l->items);
        byte_buffer_done(&l->arena);
        strmap_done(&l->names);
        u32set_done(&l->ids);
}

struct cache_writer *cache_writer_free(struct cache_writer *w)
{
        if (!w)
                return NULL;
        entry_list_done(&w->users);
        entry_list_done(&w->groups);
        free(w);
        return NULL;
}

void cache_writer_set_settings(struct cache_writer *w, uint32_t uid_floor, uint32_t socket_timeout_ms)
{
        w->uid_floor = uid_floor;
        w->socket_timeout_ms = MIN(socket_timeout_ms, CACHE_SOCKET_TIMEOUT_MS_MAX);
}

void cache_writer_set_generation(struct cache_writer *w, uint64_t generation)
{
        w->generation = generation;
}

void cache_writer_set_creation_time(struct cache_writer *w, uint64_t realtime_usec)
{
        w->created_usec = realtime_usec;
}

void cache_writer_set_users_group(struct cache_writer *w, uint32_t gid)
{
        w->users_gid = gid;
}

void cache_writer_set_filter(struct cache_writer *w, cache_writer_filter_t filter, void *userdata)
{
        w->filter = filter;
        w->filter_userdata = userdata;
}

/* Records the record just encoded at arena offset START. */
static int entry_list_commit(struct entry_list *l, const char *name, uint32_t id, size_t start)
{
        int k;

        if (GROW_ARRAY(l->items, &l->allocated, l->n + 1) < 0)
                return -ENOMEM;
        k = u32set_add(&l->ids, id);
        if (k < 0)
                return k;
        k = strmap_put(&l->names, name, 0); /* presence only: items get sorted */
        if (k < 0)
                return k;
        l->items[l->n++] = (struct entry){
                .id = id,
                .name_hash = cache_hash_name(name, strlen(name)),
                .size = (uint32_t)(l->arena.size - start),
                .offset = start,
        };
        return 0;
}

static int entry_list_check_new(const struct entry_list *l, const char *name, uint32_t id)
{
        if (strmap_get(&l->names, name, NULL) || u32set_contains(&l->ids, id))
                return -EEXIST;
        return 0;
}

int cache_writer_add_user(struct cache_writer *w, const char *name, uint32_t uid, uint32_t gid,
        const char *gecos, const char *home, const char *shell)
{
        size_t start = w->users.arena.size;
        int k;

        if (!valid_network_uid(uid, w->uid_floor) || gid == 0 || !valid_user_name(name))
                return -EINVAL;
        k = entry_list_check_new(&w->users, name, uid);
        if (k >= 0 && w->filter)
                k = w->filter(w->filter_userdata, CACHE_WRITER_USER, name, uid);
        if (k < 0)
                return k;
        k = passwd_record_encode(&w->users.arena, uid, gid, name, gecos, home, shell);
        if (k < 0)
                return k;
        k = entry_list_commit(&w->users, name, uid, start);
        if (k < 0)
                w->users.arena.size = start;
        return k;
}

/* MEMBERS without repeats, in their first-seen order (a NULL-terminated
 * array of borrowed pointers). */
static int unique_members(const char *const *members, const char ***ret)
{
        size_t n = 0, m = 0;
        _cleanup_(strmap_done) struct strmap seen = {};

        for (const char *const *p = members; p && *p; p++)
                n++;
        const char **out = calloc(n + 1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (strmap_get(&seen, members[i], NULL))
                        continue;
                if (strmap_put(&seen, members[i], 0) < 0) {
                        free(out);
                        return -ENOMEM;
                }
                out[m++] = members[i];
        }
        *ret = out;
        return 0;
}

/* Drops the members the filter refuses (-EPERM), in place. */
static int filter_members(struct cache_writer *w, const char **members)
{
        size_t n = 0;

        if (!w->filter)
                return 0;
        for (const char **p = members; *p; p++) {
                int k = w->filter(w->filter_userdata, CACHE_WRITER_MEMBER, *p, 0);
                if (k == -EPERM)
                        continue;
                if (k < 0)
                        return k;
                members[n++] = *p;
        }
        members[n] = NULL;
        return 0;
}

int cache_writer_add_group(
        struct cache_writer *w, const char *name, uint32_t gid, const char *const *members)
{
        size_t start = w->groups.arena.size;
        _cleanup_free_ const char **unique = NULL;
        int k;

        if (!valid_network_uid(gid, w->uid_floor) || !valid_group_name(name))
                return -EINVAL;
        k = entry_list_check_new(&w->groups, name, gid);
        if (k >= 0 && w->filter)
                k = w->filter(w->filter_userdata, CACHE_WRITER_GROUP, name, gid);
        if (k < 0)
                return k;
        k = unique_members(members, &unique);
        if (k < 0)
                return k;
        k = filter_members(w, unique);
        if (k < 0)
                return k;
        k = group_record_encode(&w->groups.arena, gid, name, unique);
        if (k < 0)
                return k;
        k = entry_list_commit(&w->groups, name, gid, start);
        if (k < 0)
                w->groups.arena.size = start;
        return k;
}

static int compare_entry_id(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

static int put_zeros(struct byte_buffer *img, size_t n)
{
        static const uint8_t zeros[64];
        int k;

        for (; n > 0; n -= MIN(n, sizeof(zeros))) {
                k = byte_buffer_put_bytes(img, zeros, MIN(n, sizeof(zeros)));
                if (k < 0)
                        return k;
        }
        return 0;
}

/* Appends one record framed by its length; its file offset to *RET. */
static int put_record(struct byte_buffer *img, const void *record, size_t size, uint32_t *ret_offset)
{
        size_t offset = img->size;
        int k;

        k = byte_buffer_put_u32(img, (uint32_t)size);
        if (k < 0)
                return k;
        k = byte_buffer_put_bytes(img, record, size);
        if (k < 0)
                return k;
        *ret_offset = (uint32_t)offset;
        return 0;
}

/* A hash index of N entries, 8-byte aligned, at least half empty. */
static int put_index(struct byte_buffer *img, size_t n, const uint32_t *hashes, const uint32_t *offsets,
        struct cache_index *ret)
{
        size_t n_slots = 0, max_probe = 0, start;
        int k;

        k = put_zeros(img, (8 - img->size % 8) % 8);
        if (k < 0)
                return k;
        if (n > 0)
                for (n_slots = 2; n_slots < 2 * n; n_slots *= 2)
                        ;
        start = img->size;
        if (n_slots > CACHE_FILE_MAX / sizeof(struct cache_index_entry))
                return -EMSGSIZE;
        k = put_zeros(img, n_slots * sizeof(struct cache_index_entry));
        if (k < 0)
                return k;
        struct cache_index_entry *slots = (struct cache_index_entry *)(img->data + start);
        for (size_t i = 0; i < n; i++) {
                size_t slot = hashes[i] & (n_slots - 1), displacement = 0;
                while (slots[slot].offset != 0) {
                        slot = (slot + 1) & (n_slots - 1);
                        displacement++;
                }
                slots[slot] = (struct cache_index_entry){
                        .hash = htole32(hashes[i]), .offset = htole32(offsets[i])};
                max_probe = MAX(max_probe, displacement);
        }
        *ret = (struct cache_index){
                .offset = htole32((uint32_t)start),
                .n_slots = htole32((uint32_t)n_slots),
                .max_probe = htole32((uint32_t)max_probe),
                .n_entries = htole32((uint32_t)n),
        };
        return 0;
}

/* Writes one entry list's records (sorted by id) and its name and id indexes. */
struct built_list {
        uint32_t *name_hashes, *id_hashes, *offsets;
        size_t n;
};

static void built_list_done(struct built_list *b)
{
        free(b->name_hashes);
        free(b->id_hashes);
        free(b->offsets);
}

static int put_records(
        struct byte_buffer *img, struct entry_list *l, struct cache_section *section, struct built_list *ret)
{
        int k;

        if (l->n > 0) /* items is NULL when nothing was added */
                qsort(l->items, l->n, sizeof(struct entry), compare_entry_id);
        ret->n = l->n;
        ret->name_hashes = calloc(l->n + 1, sizeof(uint32_t));
        ret->id_hashes = calloc(l->n + 1, sizeof(uint32_t));
        ret->offsets = calloc(l->n + 1, sizeof(uint32_t));
        if (!ret->name_hashes || !ret->id_hashes || !ret->offsets)
                return -ENOMEM;
        section->offset = htole32((uint32_t)img->size);
        for (size_t i = 0; i < l->n; i++) {
                const struct entry *e = &l->items[i];
                k = put_record(img, l->arena.data + e->offset, e->size, &ret->offsets[i]);
                if (k < 0)
                        return k;
                ret->name_hashes[i] = e->name_hash;
                ret->id_hashes[i] = cache_hash_id(e->id);
        }
        section->size = htole32((uint32_t)(img->size - le32toh(section->offset)));
        return 0;
}

/* user name → the GIDs of the groups listing it, in GID order. */
struct membership {
        char *name;
        uint32_t *gids;
        size_t n, allocated;
};

struct membership_table {
        struct membership *items;
        size_t n, allocated;
        struct strmap index; /* name → position in items */
};

static void membership_table_done(struct membership_table *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->items[i].name);
                free(t->items[i].gids);
        }
        free(t->items);
        strmap_done(&t->index);
}

static int membership_add(struct membership_table *t, const char *name, uint32_t gid)
{
        size_t pos;

        if (!strmap_get(&t->index, name, &pos)) {
                if (GROW_ARRAY(t->items, &t->allocated, t->n + 1) < 0)
                        return -ENOMEM;
                pos = t->n;
                t->items[pos] = (struct membership){.name = strdup(name)};
                if (!t->items[pos].name || strmap_put(&t->index, name, pos) < 0) {
                        free(t->items[pos].name);
                        return -ENOMEM;
                }
                t->n++;
        }
        struct membership *m = &t->items[pos];
        if (GROW_ARRAY(m->gids, &m->allocated, m->n + 1) < 0)
                return -ENOMEM;
        m->gids[m->n++] = gid;
        return 0;
}

static int compare_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

/* Every user gets USERS_GID, kept in GID order with the rest. */
static int collect_users_group(
        const struct entry_list *users, uint32_t users_gid, struct membership_table *t)
{
        char name[USER_NAME_MAX + 1];
        size_t pos;
        int k;

        for (size_t i = 0; i < users->n; i++) {
                struct passwd_record pw;
                k = passwd_record_decode(
                        users->arena.data + users->items[i].offset, users->items[i].size, &pw);
                if (k < 0)
                        return k;
                memcpy(name, pw.name.ptr, pw.name.len);
                name[pw.name.len] = 0;
                k = membership_add(t, name, users_gid);
                if (k < 0)
                        return k;
                if (!strmap_get(&t->index, name, &pos))
                        return -EIO; /* cannot happen: just added */
                struct membership *m = &t->items[pos];
                bool twice = false;
                for (size_t j = 0; j + 1 < m->n; j++)
                        twice = twice || m->gids[j] == users_gid;
                if (twice)
                        m->n--; /* a real group with that GID listed them already */
                else
                        qsort(m->gids, m->n, sizeof(uint32_t), compare_u32);
        }
        return 0;
}

/* Walks the (sorted) groups' member lists. */
static int collect_memberships(const struct entry_list *groups, struct membership_table *t)
{
        char name[USER_NAME_MAX + 1];
        int k;

        for (size_t i = 0; i < groups->n; i++) {
                const struct entry *e = &groups->items[i];
                struct group_record gr;
                struct span member;

                k = group_record_decode(groups->arena.data + e->offset, e->size, &gr);
                if (k < 0)
                        return k; /* cannot happen: we encoded it */
                for (struct byte_reader it = gr.members; group_record_next_member(&it, &member) == 0;) {
                        memcpy(name, member.ptr, member.len);
                        name[member.len] = 0;
                        k = membership_add(t, name, gr.gid);
                        if (k < 0)
                                return k;
                }
        }
        return 0;
}

static int put_memberships(struct byte_buffer *img, const struct membership_table *t,
        struct cache_section *section, struct built_list *ret)
{
        _cleanup_byte_buffer_ struct byte_buffer record = BYTE_BUFFER_INIT(CACHE_FILE_MAX);
        int k;

        ret->n = t->n;
        ret->name_hashes = calloc(t->n + 1, sizeof(uint32_t));
        ret->offsets = calloc(t->n + 1, sizeof(uint32_t));
        if (!ret->name_hashes || !ret->offsets)
                return -ENOMEM;
        section->offset = htole32((uint32_t)img->size);
        for (size_t i = 0; i < t->n; i++) {
                const struct membership *m = &t->items[i];
                record.size = 0;
                k = gid_list_record_encode(&record, m->name, m->gids, m->n);
                if (k < 0)
                        return k;
                k = put_record(img, record.data, record.size, &ret->offsets[i]);
                if (k < 0)
                        return k;
                ret->name_hashes[i] = cache_hash_name(m->name, strlen(m->name));
        }
        section->size = htole32((uint32_t)(img->size - le32toh(section->offset)));
        return 0;
}

static void fill_header(struct cache_writer *w, struct byte_buffer *img, struct cache_header *h)
{
        memcpy(h->magic, CACHE_MAGIC, sizeof(h->magic));
        h->version = htole32(CACHE_VERSION);
        h->header_size = htole32(CACHE_HEADER_SIZE);
        h->file_size = htole64(img->size);
        h->generation = htole64(w->generation);
        h->created_usec = htole64(w->created_usec ?: now_realtime_usec());
        h->uid_floor = htole32(w->uid_floor);
        h->socket_timeout_ms = htole32(w->socket_timeout_ms);
        h->n_users = htole32((uint32_t)w->users.n);
        h->n_groups = htole32((uint32_t)w->groups.n);
        memcpy(img->data, h, sizeof(*h));
        h->checksum =
                htole64(cache_checksum(img->data + CACHE_CHECKSUM_START, img->size - CACHE_CHECKSUM_START));
        memcpy(img->data, h, sizeof(*h));
}

int cache_writer_build(struct cache_writer *w, void **ret_data, size_t *ret_size)
{
        _cleanup_byte_buffer_ struct byte_buffer img = BYTE_BUFFER_INIT(CACHE_FILE_MAX);
        _cleanup_(built_list_done) struct built_list users = {}, groups = {}, members = {};
        _cleanup_(membership_table_done) struct membership_table table = {};
        struct cache_header h = {};
        int k;

        k = put_zeros(&img, CACHE_HEADER_SIZE);
        if (k < 0)
                return k;
        k = put_records(&img, &w->users, &h.sections[CACHE_SECTION_USERS], &users);
        if (k < 0)
                return k;
        k = put_records(&img, &w->groups, &h.sections[CACHE_SECTION_GROUPS], &groups);
        if (k < 0)
                return k;
        k = collect_memberships(&w->groups, &table);
        if (k >= 0 && w->users_gid != 0)
                k = collect_users_group(&w->users, w->users_gid, &table);
        if (k < 0)
                return k;
        k = put_memberships(&img, &table, &h.sections[CACHE_SECTION_MEMBERSHIPS], &members);
        if (k < 0)
                return k;

        struct {
                const struct built_list *list;
                const uint32_t *hashes;
        } idx[_CACHE_INDEX_MAX] = {
                [CACHE_INDEX_USER_NAME] = {&users, users.name_hashes},
                [CACHE_INDEX_USER_UID] = {&users, users.id_hashes},
                [CACHE_INDEX_GROUP_NAME] = {&groups, groups.name_hashes},
                [CACHE_INDEX_GROUP_GID] = {&groups, groups.id_hashes},
                [CACHE_INDEX_MEMBER_NAME] = {&members, members.name_hashes},
        };
        for (size_t i = 0; i < _CACHE_INDEX_MAX; i++) {
                k = put_index(&img, idx[i].list->n, idx[i].hashes, idx[i].list->offsets, &h.indexes[i]);
                if (k < 0)
                        return k;
        }
        fill_header(w, &img, &h);
        *ret_size = img.size;
        *ret_data = TAKE_PTR(img.data);
        return 0;
}

int cache_writer_commit(struct cache_writer *w, int dir_fd, const char *name)
{
        _cleanup_free_ void *data = NULL;
        size_t size;
        int k;

        k = cache_writer_build(w, &data, &size);
        if (k < 0)
                return k;
        return write_file_atomic(dir_fd, name, data, size, 0644, (uid_t)-1, (gid_t)-1);
}

static char *span_dup(struct span s)
{
        return strndup(s.ptr, s.len);
}

static int import_group(struct cache_writer *w, const struct group_record *gr)
{
        _cleanup_strv_free_ char **members = calloc((size_t)gr->n_members + 1, sizeof(char *));
        _cleanup_free_ char *name = span_dup(gr->name);
        struct span member;
        size_t n = 0;
        int k;

        if (!members || !name)
                return -ENOMEM;
        for (struct byte_reader it = gr->members; group_record_next_member(&it, &member) == 0; n++)
                if (n >= gr->n_members || !(members[n] = span_dup(member)))
                        return -ENOMEM;
        k = cache_writer_add_group(w, name, gr->gid, (const char *const *)members);
        /* Already present, no longer valid (the floor changed) or refused by the filter: dropped. */
        return k == -EEXIST || k == -EINVAL || k == -EPERM ? 0 : k;
}

int cache_writer_import(struct cache_writer *w, const struct cache_map *map)
{
        struct passwd_record pw;
        struct group_record gr;
        uint32_t cursor = 0;
        int k;

        while ((k = cache_map_next_user(map, &cursor, &pw)) == 0) {
                _cleanup_free_ char *name = span_dup(pw.name), *gecos = span_dup(pw.gecos),
                                    *home = span_dup(pw.home), *shell = span_dup(pw.shell);
                if (!name || !gecos || !home || !shell)
                        return -ENOMEM;
                k = cache_writer_add_user(w, name, pw.uid, pw.gid, gecos, home, shell);
                if (k < 0 && k != -EEXIST && k != -EINVAL && k != -EPERM)
                        return k;
        }
        if (k != -ENOENT)
                return k;
        cursor = 0;
        while ((k = cache_map_next_group(map, &cursor, &gr)) == 0) {
                k = import_group(w, &gr);
                if (k < 0)
                        return k;
        }
        return k == -ENOENT ? 0 : k;
}
