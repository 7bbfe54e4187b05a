/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "basic/local-db-watch.h"
#include "nss_oslogin/local.h"
#include "nss_oslogin/lookup.h"
#include "nss_oslogin/pack.h"

/* Variables, not macros, so the unit test can point them elsewhere. The
 * files are looked at as often as the cache file (cache-reader.h): a stat()
 * of both on every lookup would make a hit 7 times dearer (BENCHMARKS.md). */
static const char *local_root = "/";
static unsigned local_check_interval_msec = CACHE_CHECK_INTERVAL_MS;
static struct local_db_watch watch;
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t local_once = PTHREAD_ONCE_INIT;

/* Our writers refuse names longer than USER_NAME_MAX; a longer one in a
 * record is not ours to vouch for. */
#define LOCAL_NAME_MAX 256u

static void local_init_once(void)
{
        watch = (struct local_db_watch)LOCAL_DB_WATCH_INIT(local_root, local_check_interval_msec);
        lookup_register_inner_lock(&watch_lock);
}

/* Locks the snapshot: 0 and *ret, valid until unlock_local(); -errno (unlocked). */
static int lock_local(const struct local_db **ret)
{
        int r;

        pthread_once(&local_once, local_init_once);
        pthread_mutex_lock(&watch_lock);
        r = local_db_watch_get(&watch, ret);
        if (r < 0) {
                pthread_mutex_unlock(&watch_lock);
                return r;
        }
        return 0;
}

static void unlock_local(void)
{
        pthread_mutex_unlock(&watch_lock);
}

/* NAME as a C string in BUF; false when it does not fit (then: local). */
static bool span_to_name(struct span name, char buf[static LOCAL_NAME_MAX + 1])
{
        if (name.len > LOCAL_NAME_MAX)
                return false;
        memcpy(buf, name.ptr, name.len);
        buf[name.len] = '\0';
        return true;
}

static bool user_is_local(const struct local_db *db, struct span name, uint32_t uid)
{
        char buf[LOCAL_NAME_MAX + 1];
        return !span_to_name(name, buf) || local_db_has_user(db, buf) || local_db_has_uid(db, uid);
}

static bool group_is_local(const struct local_db *db, struct span name, uint32_t gid)
{
        char buf[LOCAL_NAME_MAX + 1];
        return !span_to_name(name, buf) || local_db_has_group(db, buf) || local_db_has_gid(db, gid);
}

static int check(bool group, struct span name, uint32_t id)
{
        const struct local_db *db;
        int k = lock_local(&db);

        if (k < 0)
                return k;
        k = group ? group_is_local(db, name, id) : user_is_local(db, name, id);
        unlock_local();
        return k;
}

int local_check_user(struct span name, uint32_t uid)
{
        return check(false, name, uid);
}

int local_check_group(struct span name, uint32_t gid)
{
        return check(true, name, gid);
}

int local_check_user_name(const char *name)
{
        const struct local_db *db;
        int k = lock_local(&db);

        if (k < 0)
                return k;
        k = local_db_has_user(db, name);
        unlock_local();
        return k;
}

static bool member_is_local(struct span member, void *userdata)
{
        char buf[LOCAL_NAME_MAX + 1];
        return !span_to_name(member, buf) || local_db_has_user(userdata, buf);
}

int local_pack_group(const struct group_record *rec, struct group *grp, char *buf, size_t buflen)
{
        const struct local_db *db;
        int k = lock_local(&db);

        if (k < 0)
                return k;
        k = pack_group_filtered(rec, grp, buf, buflen, member_is_local, (void *)db);
        unlock_local();
        return k;
}

int local_filter_gids(const struct cache_map *map, uint32_t *gids, size_t n)
{
        const struct local_db *db;
        struct group_record gr;
        size_t kept = 0;
        int k;

        if (n == 0)
                return 0;
        k = lock_local(&db);
        if (k < 0)
                return k;
        for (size_t i = 0; i < n; i++) {
                /* A GID the cache does not name was checked by accountsd; getgrgid() checks its name again.
                 */
                bool named = map && cache_map_find_group_by_gid(map, gids[i], &gr) == 0;
                if (named ? group_is_local(db, gr.name, gids[i]) : local_db_has_gid(db, gids[i]))
                        continue;
                gids[kept++] = gids[i];
        }
        unlock_local();
        return (int)kept;
}
