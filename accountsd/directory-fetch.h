/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The blocking half of the directory (worker threads): metadata requests
 * for a full cache build and for single misses. No shared state: each call
 * gets its client and the settings it needs. */

#include <stdint.h>

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
};

/* Every user page, every group page and each group's members into W (its
 * filter leaves out what the host already has: a refusal is -EPERM).
 * Any failed request or unparsable page fails the whole build (the caller
 * keeps the previous cache). */
int directory_fetch_all(struct mds_client *c, uint32_t uid_floor, uint32_t page_size, struct cache_writer *w,
                        struct directory_build_stats *ret);

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
