/* SPDX-License-Identifier: Apache-2.0 */
/* libnss_oslogin.so.2: the nsswitch service "oslogin". Entry points only;
 * lookup.c answers questions, pack.c fills the caller's buffers.
 *
 * Order in every entry point: save errno; reject an invalid name or id with
 * NOTFOUND before any I/O; look up; compute the size and answer
 * TRYAGAIN/ERANGE before writing; restore errno. *errnop is touched only
 * for TRYAGAIN and UNAVAIL. */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>

#include "basic/alloc-util.h"
#include "basic/macro.h"
#include "nss_oslogin/local.h"
#include "nss_oslogin/lookup.h"
#include "nss_oslogin/nss-oslogin.h"
#include "nss_oslogin/pack.h"

#define ENTRY(name) _public_ enum nss_status _nss_oslogin_##name

/* Preserves errno across an entry point on SUCCESS and NOTFOUND. glibc
 * passes &errno as ERRNOP, so after TRYAGAIN/UNAVAIL errno must stay what
 * *errnop was set to (restoring it would hide ERANGE from the retry loop). */
#define WITH_SAVED_ERRNO(errnop, expr)                                                                      \
        ({                                                                                                  \
                int _saved_errno_ = errno;                                                                  \
                enum nss_status _s_ = (expr);                                                               \
                errno = _s_ == NSS_STATUS_TRYAGAIN || _s_ == NSS_STATUS_UNAVAIL ? *(errnop)                 \
                                                                                : _saved_errno_;            \
                _s_;                                                                                        \
        })

static enum nss_status getpw_core(
        const struct nss_proto_request *q, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
        _cleanup_lookup_result_ struct lookup_result a = {};
        int k = lookup(q, &a);

        if (k < 0)
                return nss_status_from_error(k, errnop);
        if (pack_passwd(&a.reply.passwd, pwd, buf, buflen) < 0) {
                lookup_save_for_retry(q, &a);
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        return NSS_STATUS_SUCCESS;
}

static enum nss_status getgr_core(
        const struct nss_proto_request *q, struct group *grp, char *buf, size_t buflen, int *errnop)
{
        _cleanup_lookup_result_ struct lookup_result a = {};
        int k = lookup(q, &a);

        if (k < 0)
                return nss_status_from_error(k, errnop);
        k = local_pack_group(&a.reply.group, grp, buf, buflen);
        if (k < 0 && k != -ERANGE)
                return nss_status_from_error(k == -ENOENT ? -EIO : k, errnop);
        if (k < 0) {
                lookup_save_for_retry(q, &a);
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        return NSS_STATUS_SUCCESS;
}

static enum nss_status by_name(
        enum nss_proto_type type, const char *name, void *result, char *buf, size_t buflen, int *errnop)
{
        struct nss_proto_request q;

        if (nss_proto_request_by_name(type, name, &q) < 0)
                return NSS_STATUS_NOTFOUND; /* not a name we could ever answer: no I/O */
        return type == NSS_PROTO_GETPWNAM ? getpw_core(&q, result, buf, buflen, errnop)
                                          : getgr_core(&q, result, buf, buflen, errnop);
}

static enum nss_status by_id(
        enum nss_proto_type type, uint32_t id, void *result, char *buf, size_t buflen, int *errnop)
{
        struct nss_proto_request q;

        /* 0, 65534 and (uid_t)-1 are never ours; the floor is checked by
         * lookup() against the cache header, without socket I/O. */
        if (!valid_network_uid(id, 1) || nss_proto_request_by_id(type, id, &q) < 0)
                return NSS_STATUS_NOTFOUND;
        return type == NSS_PROTO_GETPWUID ? getpw_core(&q, result, buf, buflen, errnop)
                                          : getgr_core(&q, result, buf, buflen, errnop);
}

ENTRY(getpwnam_r)(const char *name, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
        return WITH_SAVED_ERRNO(errnop, by_name(NSS_PROTO_GETPWNAM, name, pwd, buf, buflen, errnop));
}

ENTRY(getpwuid_r)(uid_t uid, struct passwd *pwd, char *buf, size_t buflen, int *errnop)
{
        return WITH_SAVED_ERRNO(errnop, by_id(NSS_PROTO_GETPWUID, uid, pwd, buf, buflen, errnop));
}

ENTRY(getgrnam_r)(const char *name, struct group *grp, char *buf, size_t buflen, int *errnop)
{
        return WITH_SAVED_ERRNO(errnop, by_name(NSS_PROTO_GETGRNAM, name, grp, buf, buflen, errnop));
}

ENTRY(getgrgid_r)(gid_t gid, struct group *grp, char *buf, size_t buflen, int *errnop)
{
        return WITH_SAVED_ERRNO(errnop, by_id(NSS_PROTO_GETGRGID, gid, grp, buf, buflen, errnop));
}

static bool gid_listed(const gid_t *groups, long n, gid_t gid)
{
        for (long i = 0; i < n; i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

/* Appends GID to glibc's array, growing it up to LIMIT (≤ 0: no limit). */
static int add_gid(gid_t gid, long *start, long *size, gid_t **groupsp, long limit)
{
        if (limit > 0 && *start >= limit)
                return -ENOSPC;
        if (*start >= *size) {
                long n = *size > 0 ? *size * 2 : 16;
                if (limit > 0)
                        n = MIN(n, limit);
                if (GROW_ARRAY(*groupsp, NULL, (size_t)n) < 0)
                        return -ENOMEM;
                *size = n;
        }
        (*groupsp)[(*start)++] = gid;
        return 0;
}

/* The GIDs of A, without those of the host's own groups (local.h). */
static int result_gids(const struct lookup_result *a, uint32_t **ret, size_t *ret_n)
{
        _cleanup_cache_map_ struct cache_map *snapshot = NULL;
        size_t n = a->reply.gid_list.n_gids;
        uint32_t *gids = malloc(MAX(n, (size_t)1) * sizeof(uint32_t));
        int k;

        if (!gids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                gids[i] = gid_list_record_get(&a->reply.gid_list, i);
        /* The cache names the groups: an answer from accountsd is checked against it too. */
        if (!a->map && n > 0)
                (void)lookup_cache_snapshot(&snapshot);
        k = local_filter_gids(a->map ?: snapshot, gids, n);
        if (k < 0) {
                free(gids);
                return k;
        }
        *ret = gids;
        *ret_n = (size_t)k;
        return 0;
}

static enum nss_status initgroups_core(
        const char *user, gid_t skip, long *start, long *size, gid_t **groupsp, long limit, int *errnop)
{
        _cleanup_lookup_result_ struct lookup_result a = {};
        _cleanup_free_ uint32_t *gids = NULL;
        struct nss_proto_request q;
        size_t n;
        int k;

        if (nss_proto_request_by_name(NSS_PROTO_INITGROUPS, user, &q) < 0)
                return NSS_STATUS_NOTFOUND;
        /* A local user's name in a directory member list was meant for a directory user. */
        k = local_check_user_name(user);
        if (k > 0)
                return NSS_STATUS_NOTFOUND;
        if (k == 0)
                k = lookup(&q, &a);
        if (k >= 0)
                k = result_gids(&a, &gids, &n);
        if (k == -ENOMEM) {
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        if (k < 0)
                return nss_status_from_error(k, errnop);
        for (size_t i = 0; i < n; i++) {
                gid_t gid = gids[i];
                if (gid == skip || !valid_network_uid(gid, a.uid_floor) || gid_listed(*groupsp, *start, gid))
                        continue;
                k = add_gid(gid, start, size, groupsp, limit);
                if (k == -ENOSPC)
                        break; /* the caller's limit: what fits is the answer */
                if (k < 0) {
                        *errnop = ENOMEM;
                        return NSS_STATUS_TRYAGAIN;
                }
        }
        return NSS_STATUS_SUCCESS;
}

ENTRY(initgroups_dyn)
(const char *user, gid_t group, long int *start, long int *size, gid_t **groupsp, long int limit,
        int *errnop)
{
        return WITH_SAVED_ERRNO(errnop, initgroups_core(user, group, start, size, groupsp, limit, errnop));
}
