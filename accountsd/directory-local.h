/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Names from the directory against the host's own accounts
 * (basic/local-db.h), before they mean anything here. A directory user
 * whose name or UID is in /etc/passwd, and a directory group (a user's
 * self group included) whose name or GID is in /etc/group, are left out of
 * the cache and of every answer. Otherwise `id` lists the local "sudo" for
 * a directory group named sudo or holding sudo's GID, and sudo's %sudo
 * rules, sshd's AllowGroups and Match Group follow; and a directory user
 * gives a second name to a local UID or shadows a local name.
 *
 * Builds and miss questions (worker threads) load their own snapshot; the
 * loop checks the answers it gives from memory against a watched one
 * (basic/local-db-watch.h), since the host may have changed since. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/cache-reader.h"
#include "basic/cache-writer.h"
#include "basic/local-db.h"
#include "basic/nss-proto.h"
#include "basic/strmap.h"

/* Why a directory user or group must stay out ("a local user has that
 * name", ...), or NULL when it may be used. */
const char *directory_local_user_clash(const struct local_db *db, const char *name, uint32_t uid);
const char *directory_local_group_clash(const struct local_db *db, const char *name, uint32_t gid);

/* What was left out, collected in a worker and logged by the loop: once
 * per build, and by a miss only when the build has not named it already
 * (directory_local_report()). */
enum left_out_kind {
        LEFT_OUT_USER,
        LEFT_OUT_GROUP,
        LEFT_OUT_MEMBER, /* a name in a group's member list (ID 0) */
};

struct left_out {
        char *name;
        uint32_t id;
        enum left_out_kind kind;
        const char *why; /* static */
};
struct left_out_list {
        struct left_out *items;
        size_t n;
};
void left_out_list_done(struct left_out_list *l);

/* True when the user, group or member name must stay out; it is then
 * added to OUT (on ENOMEM it is logged at once instead). A member name is
 * refused when it is a local user's: a directory membership must not give
 * a local account the group (initgroups), nor match sudo's %group rules
 * through the group's member list. */
bool directory_local_refuse_user(
        const struct local_db *db, struct left_out_list *out, const char *name, uint32_t uid);
bool directory_local_refuse_group(
        const struct local_db *db, struct left_out_list *out, const char *name, uint32_t gid);
bool directory_local_refuse_member(const struct local_db *db, struct left_out_list *out, const char *name);
/* How many entries of L are users or groups (not member names). */
size_t left_out_list_entries(const struct left_out_list *l);

/* cache_writer_set_filter() for a build or rewrite: refuses with -EPERM
 * and collects what clashes with DB (users, groups, member names). */
struct directory_local_filter {
        const struct local_db *db;
        struct left_out_list left_out;
};
int directory_local_writer_filter(
        void *userdata, enum cache_writer_kind kind, const char *name, uint32_t id);

/* In the loop: one log line for each entry of L that REPORTED (names
 * already logged since the last build) does not hold yet
 * ('Directory group "sudo" (GID 2000100005) left out: a local group has
 * that name.'), which is then added to it. */
void directory_local_report(struct strmap *reported, const struct left_out_list *l);

/* Checks the reply to Q in B once more: a FOUND user or group that clashes
 * becomes NOTFOUND; GIDs that clash (by GID, or by the name MAP gives the
 * group; MAP may be NULL) leave a gid list, and the gid list of a local
 * user's name is NOTFOUND. 1 when B was rewritten, 0 when
 * it stands, -ENOMEM. Logs at debug only: the build logged them. */
int directory_local_check_reply(const struct local_db *db, const struct cache_map *map,
        const struct nss_proto_request *q, struct byte_buffer *b);
