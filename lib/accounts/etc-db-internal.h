/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by etc-db.c (load, lookups, edits) and etc-db-commit.c (the
 * locked write); nothing else includes it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "accounts/etc-db.h"
#include "basic/strmap.h"
#include "basic/u32set.h"

#define ETC_FILE_MAX_SIZE (64u * 1024 * 1024)
/* As lckpwdf(): how long a commit waits for useradd, passwd and the like. */
#define ETC_LOCK_TIMEOUT_USEC (15u * 1000 * 1000)

extern const char *const etc_file_names[_ETC_FILE_MAX];

struct etc_file_state {
        char **lines;
        size_t n;
        /* Index by entry name: slot = line index + 1, 0 = empty. Rebuilt
         * lazily after lines move (append, remove). Not a strmap: the keys
         * are the lines' own name prefixes, so a rebuild copies nothing. */
        uint32_t *index;
        size_t index_size;
        bool index_valid;
        bool exists;
        bool changed;
        char *original;
        size_t original_size;
        struct stat st;
};

/* Members of one group (group or gshadow line), built on the first
 * membership question in a transaction: a pass asks it once per user. */
struct member_cache {
        enum etc_file file;
        char *group;
        struct strmap members;
};

struct etc_db {
        char *root;
        int etc_fd;
        bool stale_temps; /* left by a killed writer: removed under the lock */
        struct etc_file_state files[_ETC_FILE_MAX];
        struct u32set uids, gids; /* allocation asks "is X free?" thousands of times */
        struct member_cache *caches;
        size_t n_caches;
};

/* Field N (0-based) of a ':' line, copied; NULL when absent or out of memory. */
char *etc_line_field(const char *line, unsigned n);
/* The first line of WHICH whose entry name is NAME, or -1. */
ssize_t etc_db_find(const struct etc_db *db, enum etc_file which, const char *name);

/* In etc-db-members.c: forgets the member caches (after a removal). */
void etc_db_member_caches_clear(struct etc_db *db);
/* In etc-db-members.c: takes NAME out of every group and gshadow member list. */
void etc_db_members_drop_user(struct etc_db *db, const char *name);

/* In etc-db-commit.c: whether ETC_FD holds temps of a killed writer
 * (REMOVE: and unlink them; only under the lock). */
bool etc_db_find_stale_temps(int etc_fd, bool remove);

/* In etc-db-commit.c: takes the shadow-utils lock on ETC_FD/.pwd.lock (an
 * OFD lock, see there), waiting at most TIMEOUT_USEC. 0 and the descriptor
 * holding it (close() releases it); -ETIMEDOUT (logged, naming the holder)
 * or another -errno. */
int etc_lock_take(int etc_fd, uint64_t timeout_usec, int *ret_fd);
