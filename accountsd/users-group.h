/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The synthetic group of every OS Login user ([sshd] users_group and
 * users_gid, default "oslogin-users"): what lets the sshd drop-in say
 * `Match Group oslogin-users` / `AuthorizedKeysFile none`, so that an OS
 * Login user's own ~/.ssh/authorized_keys never counts and only the keys
 * and certificates of the key decision do. Local users are never in it
 * (the NSS module answers only for directory users), and neither are
 * metadata-key users (they are local accounts).
 *
 * sshd finds it through initgroups (getgrouplist) and then the group's
 * name through getgrgid, so both are answered: the cache holds the group
 * record (no member list, so no member limit) and every user's membership
 * (cache_writer_set_users_group()); a miss adds it here. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/cache-record.h"
#include "basic/nss-proto.h"

struct cache_writer;
struct local_db;

/* Whether NAME/GID may serve: a valid group name, a GID at or above
 * UID_FLOOR that is no reserved one, and neither in the host's /etc/group.
 * 0, -EINVAL (invalid), -EEXIST (a local group has the name or the GID). */
int users_group_check(const struct local_db *db, const char *name, uint32_t gid, uint32_t uid_floor);

/* Q asks for the group itself (GETGRNAM NAME or GETGRGID GID): 1 and the
 * FOUND reply (no members) appended to B; 0 when Q is about something
 * else; -ENOMEM. */
int users_group_reply(
        const char *name, uint32_t gid, const struct nss_proto_request *q, struct byte_buffer *b);

/* A FOUND INITGROUPS reply in REPLY gets GID added (once); any other
 * reply is left alone. 0, -EBADMSG, -ENOMEM. */
int users_group_extend_reply(const struct nss_proto_request *q, struct byte_buffer *reply, uint32_t gid);

/* A directory write: the group's record and every user's membership in W,
 * unless users_group_check() refuses NAME/GID (then *RET_REFUSED is its
 * error and W is unchanged). 0, or the writer's error. */
int users_group_add(struct cache_writer *w, const struct local_db *db, const char *name, uint32_t gid,
        uint32_t uid_floor, int *ret_refused);
