/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Reads the directory cache (cache-format.h) through mmap. libc only: the
 * NSS module uses it in every process.
 *
 * Two layers:
 *
 * struct cache_map: one verified, immutable generation. Opening checks the
 * magic, version, header size, that file_size equals st_size and is at most
 * CACHE_FILE_MAX, the checksum, and that every section and index lies
 * inside the file; afterwards every record offset and length is checked
 * again on use (overflow-safe), and every index walk is bounded by the
 * index's max_probe. A corrupted or truncated file gives -EBADMSG, never a
 * crash. Reference-counted: enumeration and lookups each hold their own
 * reference, so a replaced file stays mapped until its last user is done.
 *
 * struct cache_reader: the current map of one path, for long-lived
 * processes. cache_reader_get() hands out a reference to the current map;
 * at most every CACHE_CHECK_INTERVAL_MS (measured with
 * CLOCK_MONOTONIC_COARSE, no syscall) it stat()s the path and remaps when
 * dev/ino/size/mtime changed, so a hit normally costs no syscall.
 * Thread-safe (one mutex around the swap); call cache_reader_atfork_child()
 * in a fork child (the NSS module registers it with pthread_atfork). */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "basic/cache-format.h"
#include "basic/cache-record.h"
#include "basic/macro.h"

struct cache_map;

enum {
        /* Refuse a file not owned by root or writable by group/others. */
        CACHE_MAP_REQUIRE_ROOT_OWNED = 1 << 0,
};

/* Opens PATH (absolute, last component not followed) and maps it.
 * -ENOENT: no cache; -EBADMSG: corrupt; -EPERM: ownership/mode refused. */
int cache_map_open(const char *path, unsigned flags, struct cache_map **ret);
/* Maps an already open regular file (the descriptor is not kept). */
int cache_map_open_fd(int fd, unsigned flags, struct cache_map **ret);
/* Verifies a borrowed image in memory (tests, fuzzing); DATA must stay
 * valid and unchanged until the last unref. */
int cache_map_from_memory(const void *data, size_t size, struct cache_map **ret);

struct cache_map *cache_map_ref(struct cache_map *m);
/* Atomic; the last reference unmaps. Returns NULL. */
struct cache_map *cache_map_unref(struct cache_map *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cache_map *, cache_map_unref);
#define _cleanup_cache_map_ _cleanup_(cache_map_unrefp)

/* The verified header (host byte order on little-endian hosts). */
const struct cache_header *cache_map_header(const struct cache_map *m);
uint32_t cache_map_uid_floor(const struct cache_map *m);
uint32_t cache_map_socket_timeout_ms(const struct cache_map *m);
/* stat identity the map was opened from (zero for memory maps). */
bool cache_map_same_file(const struct cache_map *m, const struct stat *st);

/* Point lookups: 0 and *ret, -ENOENT when absent, -EBADMSG when the entry
 * found is corrupt. Spans in *ret point into the map: keep a reference
 * while using them. NAME must be NUL-terminated. */
int cache_map_find_user_by_name(const struct cache_map *m, const char *name, struct passwd_record *ret);
int cache_map_find_user_by_uid(const struct cache_map *m, uint32_t uid, struct passwd_record *ret);
int cache_map_find_group_by_name(const struct cache_map *m, const char *name, struct group_record *ret);
int cache_map_find_group_by_gid(const struct cache_map *m, uint32_t gid, struct group_record *ret);
/* The groups NAME is a member of (from every group's member list). */
int cache_map_find_memberships(const struct cache_map *m, const char *name, struct gid_list_record *ret);

/* Enumeration in file order (users by UID, groups by GID). *CURSOR starts
 * at 0 and is advanced only on success; -ENOENT after the last record,
 * -EBADMSG on a corrupt one (enumeration should stop). */
int cache_map_next_user(const struct cache_map *m, uint32_t *cursor, struct passwd_record *ret);
int cache_map_next_group(const struct cache_map *m, uint32_t *cursor, struct group_record *ret);

struct cache_reader {
        pthread_mutex_t lock;
        const char *path; /* borrowed, absolute */
        unsigned flags;   /* CACHE_MAP_* */
        struct cache_map *map;
        uint64_t next_check_msec; /* CLOCK_MONOTONIC_COARSE */
        int last_error;           /* of the last failed open, returned until the next check */
};
#define CACHE_READER_INIT(p, f)                                                                             \
        {                                                                                                   \
                .lock = PTHREAD_MUTEX_INITIALIZER, .path = (p), .flags = (f)                                \
        }

/* A new reference to the current map (unref it when done), or -ENOENT /
 * -EBADMSG / -EPERM / -errno when there is no usable cache. Failures are
 * also remembered for CACHE_CHECK_INTERVAL_MS, so a process without a
 * cache does not retry the open on every lookup. */
int cache_reader_get(struct cache_reader *r, struct cache_map **ret);
/* Forces the next cache_reader_get() to look at the path again. */
void cache_reader_invalidate(struct cache_reader *r);
/* Drops the current map (other references stay valid). */
void cache_reader_close(struct cache_reader *r);
/* In the child after fork(): the lock may have been held by a thread that
 * does not exist here. */
void cache_reader_atfork_child(struct cache_reader *r);
