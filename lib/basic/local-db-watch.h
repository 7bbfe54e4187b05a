/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A local_db snapshot (basic/local-db.h) that follows the files:
 * local_db_watch_get() stat()s ROOT/etc/passwd and ROOT/etc/group (one
 * stat each, no open) and loads a new snapshot only when the identity of
 * either (dev, ino, size, mtime in ns) changed. With interval_msec set, it
 * looks at most that often (CLOCK_MONOTONIC_COARSE, no syscall): the NSS
 * module checks every answer against it, and two stat() calls per lookup
 * cost 2.3 us against a 0.4 us hit (BENCHMARKS.md).
 *
 * Not locked: the owner serialises (accountsd: its event loop; the NSS
 * module: one mutex around get and use). The stamp is taken before the
 * files are read, so a change during the read is seen by the next call. */

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "basic/local-db.h"

struct file_stamp {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
        int error; /* of the stat(): 0, -ENOENT (counts as an empty file), ... */
};

struct local_db_watch {
        const char *root; /* borrowed; NULL or "/" in production */
        char *passwd_path, *group_path;
        unsigned interval_msec; /* 0: stat() on every call */
        uint64_t next_check_msec;
        struct local_db *db;
        struct file_stamp passwd, group;
};
#define LOCAL_DB_WATCH_INIT(r, interval)                                                                    \
        {                                                                                                   \
                .root = (r), .interval_msec = (interval)                                                    \
        }

/* The current snapshot, borrowed until the next call or
 * local_db_watch_done(): 1 when it was (re)loaded by this call, 0 when
 * unchanged, -errno when a file cannot be stat()ed or read (the previous
 * snapshot is dropped: callers fail closed). */
int local_db_watch_get(struct local_db_watch *w, const struct local_db **ret);
/* Frees the snapshot and paths; the next get loads again. */
void local_db_watch_done(struct local_db_watch *w);
