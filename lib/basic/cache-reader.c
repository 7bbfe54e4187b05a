/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/cache-reader.h"
#include "basic/time-util.h"

struct cache_map {
        unsigned n_ref; /* __atomic */
        const uint8_t *data;
        size_t size;
        bool mapped; /* munmap on the last unref */
        dev_t dev;
        ino_t ino;
        struct timespec mtime;
        struct cache_header header; /* verified, host byte order */
};

struct cache_map *cache_map_ref(struct cache_map *m)
{
        __atomic_add_fetch(&m->n_ref, 1, __ATOMIC_RELAXED);
        return m;
}

struct cache_map *cache_map_unref(struct cache_map *m)
{
        if (!m || __atomic_sub_fetch(&m->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        if (m->mapped)
                munmap((void *)m->data, m->size);
        free(m);
        return NULL;
}

const struct cache_header *cache_map_header(const struct cache_map *m)
{
        return &m->header;
}

uint32_t cache_map_uid_floor(const struct cache_map *m)
{
        return m->header.uid_floor;
}

uint32_t cache_map_socket_timeout_ms(const struct cache_map *m)
{
        return m->header.socket_timeout_ms;
}

bool cache_map_same_file(const struct cache_map *m, const struct stat *st)
{
        return m->dev == st->st_dev && m->ino == st->st_ino && (off_t)m->size == st->st_size &&
               m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static bool range_ok(uint64_t offset, uint64_t size, uint64_t start, uint64_t end)
{
        return offset >= start && offset <= end && size <= end - offset;
}

/* Converts the header to host order and checks that everything it points
 * to lies inside the file. */
static int verify_header(const uint8_t *data, size_t size, uint64_t checksum, struct cache_header *ret)
{
        struct cache_header h;

        if (size < CACHE_HEADER_SIZE || size > CACHE_FILE_MAX)
                return -EBADMSG;
        memcpy(&h, data, sizeof(h));
        if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || le32toh(h.version) != CACHE_VERSION ||
                le32toh(h.header_size) != CACHE_HEADER_SIZE || le64toh(h.file_size) != size ||
                le64toh(h.checksum) != checksum)
                return -EBADMSG;
        h.version = CACHE_VERSION;
        h.header_size = CACHE_HEADER_SIZE;
        h.file_size = size;
        h.generation = le64toh(h.generation);
        h.created_usec = le64toh(h.created_usec);
        h.uid_floor = le32toh(h.uid_floor);
        h.socket_timeout_ms = MIN(le32toh(h.socket_timeout_ms), CACHE_SOCKET_TIMEOUT_MS_MAX);
        h.n_users = le32toh(h.n_users);
        h.n_groups = le32toh(h.n_groups);
        for (size_t i = 0; i < _CACHE_SECTION_MAX; i++) {
                struct cache_section *s = &h.sections[i];
                s->offset = le32toh(s->offset);
                s->size = le32toh(s->size);
                if (!range_ok(s->offset, s->size, CACHE_HEADER_SIZE, size))
                        return -EBADMSG;
        }
        for (size_t i = 0; i < _CACHE_INDEX_MAX; i++) {
                struct cache_index *x = &h.indexes[i];
                x->offset = le32toh(x->offset);
                x->n_slots = le32toh(x->n_slots);
                x->max_probe = le32toh(x->max_probe);
                x->n_entries = le32toh(x->n_entries);
                if ((x->n_slots & (x->n_slots - 1)) != 0 || x->offset % 8 != 0 ||
                        (x->n_slots > 0 && x->max_probe >= x->n_slots) ||
                        !range_ok(x->offset, (uint64_t)x->n_slots * sizeof(struct cache_index_entry),
                                CACHE_HEADER_SIZE, size))
                        return -EBADMSG;
        }
        *ret = h;
        return 0;
}

static int map_new(const uint8_t *data, size_t size, uint64_t checksum, struct cache_map **ret)
{
        struct cache_header h;
        int k = verify_header(data, size, checksum, &h);

        if (k < 0)
                return k;
        struct cache_map *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        *m = (struct cache_map){.n_ref = 1, .data = data, .size = size, .header = h};
        *ret = m;
        return 0;
}

int cache_map_from_memory(const void *data, size_t size, struct cache_map **ret)
{
        if (size < CACHE_HEADER_SIZE)
                return -EBADMSG;
        return map_new(data, size,
                cache_checksum((const uint8_t *)data + CACHE_CHECKSUM_START, size - CACHE_CHECKSUM_START),
                ret);
}

static int pread_full(int fd, uint8_t *buf, size_t size, uint64_t offset)
{
        for (size_t done = 0; done < size;) {
                ssize_t n = pread(fd, buf + done, size - done, (off_t)(offset + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EBADMSG; /* shorter than fstat said */
                done += (size_t)n;
        }
        return 0;
}

/* The checksum is computed from read(), not through the mapping: faulting
 * in every page of a large cache costs each process far more than copying
 * it once from the page cache, and afterwards only the pages lookups touch
 * become resident. The file is replaced by rename, never rewritten in place,
 * so what is read is what is mapped. */
static int checksum_fd(int fd, size_t size, uint64_t *ret)
{
        const size_t chunk = 64 * 1024; /* a multiple of 32 */
        _cleanup_free_ uint8_t *buf = malloc(chunk);
        struct cache_checksum c;
        int k;

        if (!buf)
                return -ENOMEM;
        cache_checksum_init(&c);
        for (uint64_t offset = CACHE_CHECKSUM_START; offset < size; offset += chunk) {
                size_t n = (size_t)MIN((uint64_t)chunk, size - offset);
                k = pread_full(fd, buf, n, offset);
                if (k < 0)
                        return k;
                if (offset + n < size) {
                        cache_checksum_update(&c, buf, n);
                        continue;
                }
                size_t blocks = n - n % 32;
                cache_checksum_update(&c, buf, blocks);
                *ret = cache_checksum_final(&c, buf + blocks, n - blocks);
                return 0;
        }
        return -EBADMSG;
}

int cache_map_open_fd(int fd, unsigned flags, struct cache_map **ret)
{
        struct cache_map *m;
        uint64_t checksum;
        struct stat st;
        void *p;
        int k;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((flags & CACHE_MAP_REQUIRE_ROOT_OWNED) && (st.st_uid != 0 || (st.st_mode & 0022)))
                return -EPERM;
        if (st.st_size < (off_t)CACHE_HEADER_SIZE || st.st_size > (off_t)CACHE_FILE_MAX)
                return -EBADMSG;
        k = checksum_fd(fd, (size_t)st.st_size, &checksum);
        if (k < 0)
                return k;
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return negative_errno();
        k = map_new(p, (size_t)st.st_size, checksum, &m);
        if (k < 0) {
                munmap(p, (size_t)st.st_size);
                return k;
        }
        m->mapped = true;
        m->dev = st.st_dev;
        m->ino = st.st_ino;
        m->mtime = st.st_mtim;
        *ret = m;
        return 0;
}

int cache_map_open(const char *path, unsigned flags, struct cache_map **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);

        if (fd < 0)
                return negative_errno();
        return cache_map_open_fd(fd, flags, ret);
}

/* The record framed at OFFSET, entirely inside section S. */
static int record_at(const struct cache_map *m, enum cache_section_id s, uint64_t offset,
        const uint8_t **ret, uint32_t *ret_size)
{
        const struct cache_section *sec = &m->header.sections[s];
        uint64_t end = (uint64_t)sec->offset + sec->size;
        uint32_t size;

        if (!range_ok(offset, 4, sec->offset, end))
                return -EBADMSG;
        memcpy(&size, m->data + offset, 4);
        size = le32toh(size);
        if (!range_ok(offset + 4, size, sec->offset, end))
                return -EBADMSG;
        *ret = m->data + offset + 4;
        *ret_size = size;
        return 0;
}

/* Candidate record offsets for HASH in index I, at most max_probe + 1. */
struct probe {
        const struct cache_index_entry *slots;
        uint32_t mask, slot, left, hash;
};

static struct probe probe_start(const struct cache_map *m, enum cache_index_id i, uint32_t hash)
{
        const struct cache_index *x = &m->header.indexes[i];

        if (x->n_slots == 0)
                return (struct probe){};
        return (struct probe){
                .slots = (const struct cache_index_entry *)(m->data + x->offset),
                .mask = x->n_slots - 1,
                .slot = hash & (x->n_slots - 1),
                .left = x->max_probe + 1,
                .hash = hash,
        };
}

static bool probe_next(struct probe *p, uint32_t *ret_offset)
{
        while (p->left > 0) {
                struct cache_index_entry e = p->slots[p->slot];
                p->left--;
                p->slot = (p->slot + 1) & p->mask;
                if (e.offset == 0) {
                        p->left = 0;
                        return false;
                }
                if (le32toh(e.hash) == p->hash) {
                        *ret_offset = le32toh(e.offset);
                        return true;
                }
        }
        return false;
}

/* By name when NAME is set, else by ID. */
static int find_user(const struct cache_map *m, const char *name, uint32_t uid, struct passwd_record *ret)
{
        struct probe p = name ? probe_start(m, CACHE_INDEX_USER_NAME, cache_hash_name(name, strlen(name)))
                              : probe_start(m, CACHE_INDEX_USER_UID, cache_hash_id(uid));
        uint32_t offset, size;
        const uint8_t *rec;

        while (probe_next(&p, &offset)) {
                struct passwd_record pw;
                if (record_at(m, CACHE_SECTION_USERS, offset, &rec, &size) < 0 ||
                        passwd_record_decode(rec, size, &pw) < 0)
                        return -EBADMSG;
                if (name ? span_eq(pw.name, name) : pw.uid == uid) {
                        *ret = pw;
                        return 0;
                }
        }
        return -ENOENT;
}

static int find_group(const struct cache_map *m, const char *name, uint32_t gid, struct group_record *ret)
{
        struct probe p = name ? probe_start(m, CACHE_INDEX_GROUP_NAME, cache_hash_name(name, strlen(name)))
                              : probe_start(m, CACHE_INDEX_GROUP_GID, cache_hash_id(gid));
        uint32_t offset, size;
        const uint8_t *rec;

        while (probe_next(&p, &offset)) {
                struct group_record gr;
                if (record_at(m, CACHE_SECTION_GROUPS, offset, &rec, &size) < 0 ||
                        group_record_decode(rec, size, &gr) < 0)
                        return -EBADMSG;
                if (name ? span_eq(gr.name, name) : gr.gid == gid) {
                        *ret = gr;
                        return 0;
                }
        }
        return -ENOENT;
}

int cache_map_find_user_by_name(const struct cache_map *m, const char *name, struct passwd_record *ret)
{
        return find_user(m, name, 0, ret);
}

int cache_map_find_user_by_uid(const struct cache_map *m, uint32_t uid, struct passwd_record *ret)
{
        return find_user(m, NULL, uid, ret);
}

int cache_map_find_group_by_name(const struct cache_map *m, const char *name, struct group_record *ret)
{
        return find_group(m, name, 0, ret);
}

int cache_map_find_group_by_gid(const struct cache_map *m, uint32_t gid, struct group_record *ret)
{
        return find_group(m, NULL, gid, ret);
}

int cache_map_find_memberships(const struct cache_map *m, const char *name, struct gid_list_record *ret)
{
        struct probe p = probe_start(m, CACHE_INDEX_MEMBER_NAME, cache_hash_name(name, strlen(name)));
        uint32_t offset, size;
        const uint8_t *rec;

        while (probe_next(&p, &offset)) {
                struct gid_list_record l;
                if (record_at(m, CACHE_SECTION_MEMBERSHIPS, offset, &rec, &size) < 0 ||
                        gid_list_record_decode(rec, size, &l) < 0)
                        return -EBADMSG;
                if (span_eq(l.name, name)) {
                        *ret = l;
                        return 0;
                }
        }
        return -ENOENT;
}

/* The record at *CURSOR (0: the first) of section S, and where the next one starts. */
static int next_record(const struct cache_map *m, enum cache_section_id s, uint32_t cursor,
        const uint8_t **ret, uint32_t *ret_size, uint32_t *ret_next)
{
        const struct cache_section *sec = &m->header.sections[s];
        uint64_t offset = cursor == 0 ? sec->offset : cursor;
        int k;

        if (offset >= (uint64_t)sec->offset + sec->size)
                return -ENOENT;
        k = record_at(m, s, offset, ret, ret_size);
        if (k < 0)
                return k;
        *ret_next = (uint32_t)(offset + 4 + *ret_size);
        return 0;
}

int cache_map_next_user(const struct cache_map *m, uint32_t *cursor, struct passwd_record *ret)
{
        uint32_t size, next;
        const uint8_t *rec;
        int k;

        k = next_record(m, CACHE_SECTION_USERS, *cursor, &rec, &size, &next);
        if (k < 0)
                return k;
        if (passwd_record_decode(rec, size, ret) < 0)
                return -EBADMSG;
        *cursor = next;
        return 0;
}

int cache_map_next_group(const struct cache_map *m, uint32_t *cursor, struct group_record *ret)
{
        uint32_t size, next;
        const uint8_t *rec;
        int k;

        k = next_record(m, CACHE_SECTION_GROUPS, *cursor, &rec, &size, &next);
        if (k < 0)
                return k;
        if (group_record_decode(rec, size, ret) < 0)
                return -EBADMSG;
        *cursor = next;
        return 0;
}

/* Called with the lock held. */
static void reader_refresh(struct cache_reader *r, uint64_t now)
{
        struct cache_map *m = NULL;
        struct stat st;
        int k;

        r->next_check_msec = now + CACHE_CHECK_INTERVAL_MS;
        if (stat(r->path, &st) < 0) {
                r->map = cache_map_unref(r->map);
                r->last_error = negative_errno();
                return;
        }
        if (r->map && cache_map_same_file(r->map, &st))
                return;
        k = cache_map_open(r->path, r->flags, &m);
        /* A replacement that fails to verify is not answered from the
         * previous generation either: every process sees what is on disk. */
        cache_map_unref(r->map);
        r->map = k < 0 ? NULL : m;
        r->last_error = k < 0 ? k : 0;
}

int cache_reader_get(struct cache_reader *r, struct cache_map **ret)
{
        uint64_t now = now_coarse_msec();
        int saved_errno = errno, k;

        pthread_mutex_lock(&r->lock);
        if (now >= r->next_check_msec)
                reader_refresh(r, now);
        if (r->map) {
                *ret = cache_map_ref(r->map);
                k = 0;
        } else
                k = r->last_error < 0 ? r->last_error : -ENOENT;
        pthread_mutex_unlock(&r->lock);
        errno = saved_errno;
        return k;
}

void cache_reader_invalidate(struct cache_reader *r)
{
        pthread_mutex_lock(&r->lock);
        r->next_check_msec = 0;
        pthread_mutex_unlock(&r->lock);
}

void cache_reader_close(struct cache_reader *r)
{
        pthread_mutex_lock(&r->lock);
        r->map = cache_map_unref(r->map);
        r->next_check_msec = 0;
        pthread_mutex_unlock(&r->lock);
}

void cache_reader_atfork_child(struct cache_reader *r)
{
        pthread_mutex_init(&r->lock, NULL);
}
