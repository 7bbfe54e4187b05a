/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the files of the directory (directory.h): directory.c builds
 * and rewrites the cache file, directory-lookup.c answers misses. Nothing
 * outside directory*.c includes this. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "accountsd/directory-answers.h"
#include "accountsd/directory-fetch.h"
#include "accountsd/directory.h"
#include "basic/cache-reader.h"
#include "basic/local-db-watch.h"
#include "basic/strmap.h"

struct inflight;
struct file_job;

struct directory {
        const struct daemon_context *ctx;
        struct directory_callbacks callbacks;
        void *userdata;
        bool enabled, built_once;
        struct cache_map *map; /* what the file holds now */
        uint64_t generation;
        sd_event_source *refresh_timer, *rewrite_timer;
        struct file_job *file_job; /* at most one write at a time */
        bool build_wanted, rewrite_wanted;

        struct answer_store answers;
        struct inflight *inflight;
        unsigned n_inflight;
        struct breaker breaker;
        /* The host's own accounts, for answers given from memory; the names
         * left out that were logged since the last build. */
        struct local_db_watch local;
        struct strmap reported;

        /* For `osloginctl status`. */
        uint64_t builds, builds_failed, rewrites, last_build_usec, last_build_realtime;
        int last_build_error;
        uint64_t misses, mds_lookups, answered_from_memory, unavail;
        struct directory_build_stats last_stats;
        struct directory_groups_state groups;
        int users_group_error, ca_result; /* the last build's */
};

/* directory.c: a rewrite of the cache file soon (several misses answered
 * close together become one). */
void directory_schedule_rewrite(struct directory *d);
