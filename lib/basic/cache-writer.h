/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Builds a directory cache file (cache-format.h) for accountsd.
 *
 *   _cleanup_cache_writer_ struct cache_writer *w = NULL;
 *   r = cache_writer_new(&w);
 *   cache_writer_set_settings(w, uid_floor, socket_timeout_ms);
 *   cache_writer_set_generation(w, ++generation);
 *   r = cache_writer_add_user(w, "alice_example_com", 1000001, 1000001, "Alice", "/home/alice_example_com",
 * "/bin/bash"); r = cache_writer_add_group(w, "eng", 1000042, (const char *const[]){"alice_example_com",
 * NULL}); r = cache_writer_commit(w, dir_fd, CACHE_FILE_NAME);
 *
 * Output is deterministic: users are stored by UID, groups by GID, whatever
 * the order they were added in, so equal inputs give equal bytes (given the
 * same generation and creation time). 100 000 users and 10 000 groups build
 * in well under a second and a few tens of MB.
 *
 * Self groups (GID == UID, the user as sole member) are not invented here:
 * the caller adds them like any other group. The user → groups index is
 * derived from every group's member list. */

#include <stdint.h>

#include "basic/cache-reader.h"
#include "basic/macro.h"

struct cache_writer;

int cache_writer_new(struct cache_writer **ret);
struct cache_writer *cache_writer_free(struct cache_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cache_writer *, cache_writer_free);
#define _cleanup_cache_writer_ _cleanup_(cache_writer_freep)

/* Stored in the header so the NSS module never reads the config file.
 * Defaults: OSLOGIN_UID_FLOOR_DEFAULT, CACHE_SOCKET_TIMEOUT_MS_DEFAULT.
 * A timeout above CACHE_SOCKET_TIMEOUT_MS_MAX is clamped. */
void cache_writer_set_settings(struct cache_writer *w, uint32_t uid_floor, uint32_t socket_timeout_ms);
void cache_writer_set_generation(struct cache_writer *w, uint64_t generation);
/* Default: the time of the commit/build. */
void cache_writer_set_creation_time(struct cache_writer *w, uint64_t realtime_usec);

/* Every user of the file becomes a member of GID (0: none) in the
 * membership index, without being listed in that group's record (so the
 * record has no member limit): accountsd's synthetic group of all OS Login
 * users. The caller adds the group record itself. */
void cache_writer_set_users_group(struct cache_writer *w, uint32_t gid);

/* The caller's last say over each new user and group (valid, not a
 * duplicate), called before it is added: 0 lets it in; a negative errno keeps
 * it out and is what cache_writer_add_user/add_group return. -EPERM means
 * "not wanted" (accountsd: a name or id the host already has) and the
 * import skips those entries; any other error fails the import. */
enum cache_writer_kind {
        CACHE_WRITER_USER,
        CACHE_WRITER_GROUP,
        CACHE_WRITER_MEMBER, /* a name in the member list of a group let in (ID 0): -EPERM drops it */
};
typedef int (*cache_writer_filter_t)(
        void *userdata, enum cache_writer_kind kind, const char *name, uint32_t id);
void cache_writer_set_filter(struct cache_writer *w, cache_writer_filter_t filter, void *userdata);

/* -EINVAL: a string fails basic/valid.h, the UID fails valid_network_uid()
 * against the floor, or the GID is 0. -EEXIST: the name or UID is already
 * present (the writer is unchanged). The filter's error. -ENOMEM. */
int cache_writer_add_user(struct cache_writer *w, const char *name, uint32_t uid, uint32_t gid,
        const char *gecos, const char *home, const char *shell);
/* MEMBERS: NULL-terminated user names (need not be users of this cache;
 * local users may be members, unless the filter drops them), may be NULL;
 * duplicates are dropped.
 * -EINVAL: invalid name or member, GID fails valid_network_uid(). -EEXIST:
 * name or GID already present. The filter's error. */
int cache_writer_add_group(
        struct cache_writer *w, const char *name, uint32_t gid, const char *const *members);

/* Copies every user and group of MAP (an older generation) into W, for
 * accountsd to add one answered miss without refetching everything.
 * Entries already in W win: duplicates in MAP are skipped. */
int cache_writer_import(struct cache_writer *w, const struct cache_map *map);

/* The file image in memory (tests, benchmarks, fuzzing). */
int cache_writer_build(struct cache_writer *w, void **ret_data, size_t *ret_size);
/* Builds and replaces DIR_FD/NAME atomically (basic/atomic-file.h), mode
 * 0644, owned by the caller (root in production: the NSS module refuses a
 * cache not owned by root). */
int cache_writer_commit(struct cache_writer *w, int dir_fd, const char *name);
