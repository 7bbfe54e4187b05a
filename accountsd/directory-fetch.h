/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The blocking half of the directory (worker threads): metadata requests
 * for a full cache build and for single misses. No shared state: each call
 * gets its client and the settings it needs. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/cache-writer.h"
#include "accountsd/directory-local.h"
#include "basic/local-db.h"
#include "basic/nss-proto.h"
#include "mds/mds-client.h"

/* A server that keeps handing out page tokens must not keep us forever. */
#define DIRECTORY_MAX_PAGES 100000u

struct directory_build_stats {
        uint32_t n_users, n_groups, n_self_groups;
        uint32_t n_skipped; /* entries the writer refused (invalid, duplicate) or the parser dropped */
        uint32_t n_local;   /* left out because the host has the name or id (the caller's writer filter) */
        int groups_error;   /* 0, or why the groups listing failed (the build went on without it) */
        bool groups_from_last_good; /* ... and the last good groups were used instead */
        /* The users skipped, "who (why); ...", as many as fit: the build's
         * event names them (once per build). */
        char skipped_detail[768];
};

/* How far the running build is (`osloginctl refresh` shows it on a
 * terminal): written by the build's worker after each page, read by the
 * loop; relaxed atomics, counts only. */
struct directory_progress {
        uint32_t users, groups, pages;
};
void directory_progress_get(struct directory_progress *ret);

/* The groups of one successful listing, members included: what a build
 * falls back on when the next listing fails. */
struct directory_group {
        char *name;
        uint32_t gid;
        char **members;
};

/* Reference-counted on the loop thread only: a build in a worker holds a
 * reference to the set it may fall back on, so the set outlives a
 * directory freed under a running build. */
struct directory_group_set {
        unsigned n_ref;
        struct directory_group *groups;
        size_t n;
};

struct directory_group_set *directory_group_set_ref(struct directory_group_set *s);
void directory_group_set_unref(struct directory_group_set *s);

/* Every user page, every group page and each group's members into W (its
 * filter leaves out what the host already has: a refusal is -EPERM).
 * A failed or unparsable users listing fails the whole build (the caller
 * keeps the previous cache). A failed groups listing (404 where POSIX
 * groups are off, 5xx, a bad page, a member list that fails) does not:
 * the users are built with LAST_GOOD's groups, or with none when there is
 * no LAST_GOOD, and ret->groups_error says why. On success *RET_GROUPS is
 * the new set when the listing worked, else NULL. The N_EXTRA clients in
 * EXTRA (may be none) fetch member lists alongside C, each in a thread. */
int directory_fetch_all(struct mds_client *c, struct mds_client *const *extra, size_t n_extra,
        uint32_t uid_floor, uint32_t page_size, struct cache_writer *w,
        const struct directory_group_set *last_good, struct directory_group_set **ret_groups,
        struct directory_build_stats *ret);

/* How many clients a full build fetches member lists with (C included). */
#define DIRECTORY_MEMBER_CLIENTS 4u

/* What the loop keeps between builds about the groups listing: the last
 * good set, and the current failure (logged once when it starts and once
 * when it ends). */
struct directory_groups_state {
        struct directory_group_set *last_good;
        int error;
        uint64_t failing_since_realtime;
        uint64_t failed_builds; /* in the current failure */
};

/* After a full build that succeeded: takes NEW_SET (may be NULL). */
void directory_groups_state_update(struct directory_groups_state *s, const struct directory_build_stats *st,
        struct directory_group_set *new_set);
void directory_groups_state_done(struct directory_groups_state *s);
/* "directory-groups: ..." for osloginctl status. */
void directory_groups_state_status(const struct directory_groups_state *s, FILE *f);

/* Asks the metadata server about Q and appends the reply message to B:
 * FOUND with the record, or NOTFOUND on a definite "no such thing" (404,
 * an answer that does not hold the name/ID asked for, or a user or group
 * that LOCAL, the host's own accounts, already has: accountsd/directory-local.h;
 * a gid list leaves out such groups). What was left out is added to
 * LEFT_OUT, for the caller to log. Returns the
 * status written, or -errno when the server could not be asked (nothing
 * written: the caller answers UNAVAIL). */
int directory_fetch_answer(struct mds_client *c, uint32_t uid_floor, const struct local_db *local,
        struct left_out_list *left_out, const struct nss_proto_request *q, struct byte_buffer *b);

/* The members of group NAME (users?groupname=, all pages). */
int directory_fetch_members(struct mds_client *c, const char *name, char ***ret);
/* Fills .members of the N GROUPS: C here and each of EXTRA in a thread of
 * its own. 0, or the first error (then some lists may be filled). */
int directory_fetch_members_all(struct mds_client *c, struct mds_client *const *extra, size_t n_extra,
        struct directory_group *groups, size_t n);
