/* SPDX-License-Identifier: Apache-2.0 */
/* setpwent/getpwent_r/endpwent and the group equivalents. Enumeration has
 * its own snapshot of the cache and its own cursor, shared with nothing the
 * point lookups use (the reference looped forever because a getpwnam inside
 * an enumeration reset the shared cursor). Only the cache is enumerated:
 * accountsd is never asked for "everyone". */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>

#include "basic/macro.h"
#include "nss_oslogin/local.h"
#include "nss_oslogin/lookup.h"
#include "nss_oslogin/nss-oslogin.h"
#include "nss_oslogin/pack.h"

struct enumeration {
        pthread_mutex_t lock;
        struct cache_map *map; /* snapshot taken by set*ent */
        uint32_t cursor;
        bool started;
};

static struct enumeration pwent = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct enumeration grent = {.lock = PTHREAD_MUTEX_INITIALIZER};
static pthread_once_t enum_once = PTHREAD_ONCE_INIT;

static void enum_init_once(void)
{
        lookup_register_lock(&pwent.lock);
        lookup_register_lock(&grent.lock);
}

/* Called with E locked. */
static void restart(struct enumeration *e)
{
        e->map = cache_map_unref(e->map);
        (void)lookup_cache_snapshot(&e->map); /* no cache: an empty enumeration */
        e->cursor = 0;
        e->started = true;
}

static enum nss_status set_ent(struct enumeration *e)
{
        int saved_errno = errno;

        pthread_once(&enum_once, enum_init_once);
        pthread_mutex_lock(&e->lock);
        restart(e);
        pthread_mutex_unlock(&e->lock);
        errno = saved_errno;
        return NSS_STATUS_SUCCESS;
}

static enum nss_status end_ent(struct enumeration *e)
{
        pthread_once(&enum_once, enum_init_once);
        pthread_mutex_lock(&e->lock);
        e->map = cache_map_unref(e->map);
        e->started = false;
        pthread_mutex_unlock(&e->lock);
        return NSS_STATUS_SUCCESS;
}

/* The next record at or after the cursor that is above the floor, packed.
 * The cursor moves only past what was returned or skipped, never on ERANGE. */
static enum nss_status next_locked(
        struct enumeration *e, bool users, void *result, char *buf, size_t buflen, int *errnop)
{
        uint32_t floor;

        if (!e->started)
                restart(e);
        if (!e->map)
                return NSS_STATUS_NOTFOUND;
        floor = lookup_uid_floor(e->map);
        for (;;) {
                uint32_t next = e->cursor;
                struct passwd_record pw;
                struct group_record gr;
                int k;

                k = users ? cache_map_next_user(e->map, &next, &pw)
                          : cache_map_next_group(e->map, &next, &gr);
                if (k < 0)
                        return nss_status_from_error(k, errnop);
                if (!valid_network_uid(users ? pw.uid : gr.gid, floor)) {
                        e->cursor = next;
                        continue;
                }
                /* The host's own names and ids are never listed as ours (local.h). */
                k = users ? local_check_user(pw.name, pw.uid) : local_check_group(gr.name, gr.gid);
                if (k < 0)
                        return nss_status_from_error(k == -ENOENT ? -EIO : k, errnop);
                if (k > 0) {
                        e->cursor = next;
                        continue;
                }
                k = users ? pack_passwd(&pw, result, buf, buflen)
                          : local_pack_group(&gr, result, buf, buflen);
                if (k < 0 && k != -ERANGE)
                        return nss_status_from_error(k == -ENOENT ? -EIO : k, errnop);
                if (k < 0) {
                        *errnop = ERANGE;
                        return NSS_STATUS_TRYAGAIN;
                }
                e->cursor = next;
                return NSS_STATUS_SUCCESS;
        }
}

static enum nss_status get_ent(
        struct enumeration *e, bool users, void *result, char *buf, size_t buflen, int *errnop)
{
        int saved_errno = errno;
        enum nss_status s;

        pthread_once(&enum_once, enum_init_once);
        pthread_mutex_lock(&e->lock);
        s = next_locked(e, users, result, buf, buflen, errnop);
        pthread_mutex_unlock(&e->lock);
        /* ERRNOP may be &errno: keep what TRYAGAIN/UNAVAIL put there. */
        errno = s == NSS_STATUS_TRYAGAIN || s == NSS_STATUS_UNAVAIL ? *errnop : saved_errno;
        return s;
}

_public_ enum nss_status _nss_oslogin_setpwent(int stayopen _unused_)
{
        return set_ent(&pwent);
}

_public_ enum nss_status _nss_oslogin_getpwent_r(struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
        return get_ent(&pwent, true, pwd, buf, buflen, errnop);
}

_public_ enum nss_status _nss_oslogin_endpwent(void)
{
        return end_ent(&pwent);
}

_public_ enum nss_status _nss_oslogin_setgrent(int stayopen _unused_)
{
        return set_ent(&grent);
}

_public_ enum nss_status _nss_oslogin_getgrent_r(struct group *grp, char *buf, size_t buflen, int *errnop)
{
        return get_ent(&grent, false, grp, buf, buflen, errnop);
}

_public_ enum nss_status _nss_oslogin_endgrent(void)
{
        return end_ent(&grent);
}
