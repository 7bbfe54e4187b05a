/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "basic/time-util.h"
#include "nss_oslogin/local.h"
#include "nss_oslogin/lookup.h"
#include "nss_oslogin/negative.h"

/* Variables, not macros, so the unit test can point them at a temp dir. */
static const char *socket_path = NSS_PROTO_SOCKET_PATH;
static struct cache_reader reader = CACHE_READER_INIT(CACHE_PATH, CACHE_MAP_REQUIRE_ROOT_OWNED);

/* A reply kept after ERANGE for the retry that follows. */
struct saved_reply {
        struct nss_proto_request q;
        uint8_t *msg;
        size_t size;
        uint64_t expires_msec;
};
#define SAVED_REPLY_TTL_MSEC 5000u

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t saved_key;
static bool saved_key_ok, bypass;
static pthread_mutex_t *extra_locks[3]; /* getpwent, getgrent, the negative table */
static pthread_mutex_t *inner_lock;
static size_t n_extra_locks;

static void saved_reply_free(void *p)
{
        struct saved_reply *s = p;

        if (s) {
                free(s->msg);
                free(s);
        }
}

/* Fork: hold every lock across fork() so the child gets consistent state. */
static void atfork_prepare(void)
{
        for (size_t i = 0; i < n_extra_locks; i++)
                pthread_mutex_lock(extra_locks[i]);
        pthread_mutex_lock(&reader.lock);
        if (inner_lock)
                pthread_mutex_lock(inner_lock);
}

static void atfork_parent(void)
{
        if (inner_lock)
                pthread_mutex_unlock(inner_lock);
        pthread_mutex_unlock(&reader.lock);
        for (size_t i = n_extra_locks; i > 0; i--)
                pthread_mutex_unlock(extra_locks[i - 1]);
}

static void atfork_child(void)
{
        cache_reader_atfork_child(&reader);
        for (size_t i = 0; i < n_extra_locks; i++)
                pthread_mutex_init(extra_locks[i], NULL);
        if (inner_lock)
                pthread_mutex_init(inner_lock, NULL);
}

static void init_once(void)
{
        const char *e = secure_getenv(NSS_PROTO_BYPASS_ENV);

        bypass = e && streq(e, "1");
        saved_key_ok = pthread_key_create(&saved_key, saved_reply_free) == 0;
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void lookup_register_inner_lock(pthread_mutex_t *lock)
{
        inner_lock = lock;
}

void lookup_register_lock(pthread_mutex_t *lock)
{
        /* Called from the enumeration code's and the negative table's own
         * once-init, before use. */
        if (n_extra_locks < ELEMENTSOF(extra_locks))
                extra_locks[n_extra_locks++] = lock;
}

void lookup_result_done(struct lookup_result *a)
{
        a->map = cache_map_unref(a->map);
        free(a->msg);
        a->msg = NULL;
}

enum nss_status nss_status_from_error(int error, int *errnop)
{
        if (error == -ENOENT)
                return NSS_STATUS_NOTFOUND;
        *errnop = error == -ETIMEDOUT ? ETIMEDOUT : EAGAIN;
        return NSS_STATUS_UNAVAIL;
}

int lookup_cache_snapshot(struct cache_map **ret)
{
        pthread_once(&once, init_once);
        return cache_reader_get(&reader, ret);
}

uint32_t lookup_uid_floor(const struct cache_map *map)
{
        return map ? cache_map_uid_floor(map) : OSLOGIN_UID_FLOOR_DEFAULT;
}

static bool same_question(const struct nss_proto_request *a, const struct nss_proto_request *b)
{
        return a->type == b->type && a->id == b->id && streq(a->name, b->name);
}

/* Takes this thread's saved reply to Q, if fresh. */
static int take_saved_reply(const struct nss_proto_request *q, uint8_t **ret_msg, size_t *ret_size)
{
        struct saved_reply *s = saved_key_ok ? pthread_getspecific(saved_key) : NULL;

        if (!s || !s->msg)
                return -ENOENT;
        if (!same_question(&s->q, q) || now_coarse_msec() > s->expires_msec) {
                free(s->msg);
                s->msg = NULL;
                return -ENOENT;
        }
        *ret_size = s->size;
        *ret_msg = TAKE_PTR(s->msg);
        return 0;
}

void lookup_save_for_retry(const struct nss_proto_request *q, struct lookup_result *a)
{
        struct saved_reply *s;

        if (!a->msg || !saved_key_ok)
                return; /* a cache hit is cheap to repeat */
        s = pthread_getspecific(saved_key);
        if (!s) {
                s = calloc(1, sizeof(*s));
                if (!s)
                        return;
                if (pthread_setspecific(saved_key, s) != 0) {
                        free(s);
                        return;
                }
        }
        free(s->msg);
        s->q = *q;
        s->size = a->msg_size;
        s->msg = TAKE_PTR(a->msg);
        s->expires_msec = now_coarse_msec() + SAVED_REPLY_TTL_MSEC;
}

static int from_cache(
        const struct cache_map *map, const struct nss_proto_request *q, struct nss_proto_reply *r)
{
        struct passwd_record pw;
        int k;

        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
                return cache_map_find_user_by_name(map, q->name, &r->passwd);
        case NSS_PROTO_GETPWUID:
                return cache_map_find_user_by_uid(map, q->id, &r->passwd);
        case NSS_PROTO_GETGRNAM:
                return cache_map_find_group_by_name(map, q->name, &r->group);
        case NSS_PROTO_GETGRGID:
                return cache_map_find_group_by_gid(map, q->id, &r->group);
        case NSS_PROTO_INITGROUPS:
                k = cache_map_find_memberships(map, q->name, &r->gid_list);
                if (k != -ENOENT)
                        return k;
                /* A known user in no group: an answer, not a miss. */
                k = cache_map_find_user_by_name(map, q->name, &pw);
                if (k < 0)
                        return k;
                r->gid_list = (struct gid_list_record){.name = pw.name};
                return 0;
        }
        return -EINVAL;
}

static int from_socket(const struct nss_proto_request *q, unsigned timeout_ms, struct lookup_result *a)
{
        int k;

        if (bypass)
                return -EHOSTDOWN; /* we are accountsd: never ask ourselves */
        if (take_saved_reply(q, &a->msg, &a->msg_size) < 0) {
                k = nss_proto_query(socket_path, q, timeout_ms, &a->msg, &a->msg_size);
                if (k < 0)
                        return k == -ENOENT ? -ECONNREFUSED : k; /* no socket is not "no such user" */
        }
        k = nss_proto_reply_decode(q, a->msg, a->msg_size, &a->reply);
        if (k < 0)
                return k;
        switch (a->reply.status) {
        case NSS_PROTO_FOUND:
                return 0;
        case NSS_PROTO_NOTFOUND:
                return -ENOENT;
        default:
                return -EAGAIN;
        }
}

static bool above_floor(const struct nss_proto_request *q, const struct nss_proto_reply *r, uint32_t floor)
{
        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID:
                return valid_network_uid(r->passwd.uid, floor);
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID:
                return valid_network_uid(r->group.gid, floor);
        default:
                return true; /* initgroups filters each GID */
        }
}

/* The second layer (local.h): a name or id the host has is not ours. */
static int is_local(const struct nss_proto_request *q, const struct nss_proto_reply *r)
{
        int k;

        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID:
                k = local_check_user(r->passwd.name, r->passwd.uid);
                break;
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID:
                k = local_check_group(r->group.name, r->group.gid);
                break;
        default:
                return 0; /* initgroups filters each GID */
        }
        return k > 0 ? -ENOENT : k;
}

int lookup(const struct nss_proto_request *q, struct lookup_result *ret)
{
        struct lookup_result a = {};
        unsigned timeout_ms = CACHE_SOCKET_TIMEOUT_MS_DEFAULT;
        uint32_t floor;
        int k;

        pthread_once(&once, init_once);
        (void)cache_reader_get(&reader, &a.map); /* no cache: every question is a miss */
        floor = lookup_uid_floor(a.map);
        if (a.map)
                timeout_ms = cache_map_socket_timeout_ms(a.map);
        if (!nss_proto_type_by_name(q->type) && !valid_network_uid(q->id, floor)) {
                lookup_result_done(&a);
                return -ENOENT;
        }
        k = a.map ? from_cache(a.map, q, &a.reply) : -ENOENT;
        if (k < 0) {
                /* Not cached (or a corrupt entry): ask accountsd, unless it
                 * said "not found" recently (the negative table). */
                a.map = cache_map_unref(a.map);
                k = k == -ENOENT && negative_known(q) ? -ENOENT : from_socket(q, timeout_ms, &a);
        }
        if (k == 0 && !above_floor(q, &a.reply, floor))
                k = -ENOENT;
        if (k == 0)
                k = is_local(q, &a.reply);
        if (k < 0) {
                lookup_result_done(&a);
                return k;
        }
        a.reply.status = NSS_PROTO_FOUND;
        a.uid_floor = floor;
        *ret = a;
        return 0;
}
