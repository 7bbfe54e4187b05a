/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/directory-local.h"
#include "basic/alloc-util.h"
#include "basic/log.h"

const char *directory_local_user_clash(const struct local_db *db, const char *name, uint32_t uid)
{
        if (local_db_has_user(db, name))
                return "a local user has that name";
        if (local_db_has_uid(db, uid))
                return "a local user has that UID";
        return NULL;
}

const char *directory_local_group_clash(const struct local_db *db, const char *name, uint32_t gid)
{
        if (local_db_has_group(db, name))
                return "a local group has that name";
        if (local_db_has_gid(db, gid))
                return "a local group has that GID";
        return NULL;
}

void left_out_list_done(struct left_out_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].name);
        free(l->items);
        *l = (struct left_out_list){};
}

static void log_left_out(const struct left_out *e)
{
        if (e->kind == LEFT_OUT_MEMBER)
                log_notice("Directory group member \"%s\" left out of every group: %s.", e->name, e->why);
        else
                log_notice("Directory %s \"%s\" (%s %u) left out: %s.",
                        e->kind == LEFT_OUT_GROUP ? "group" : "user", e->name,
                        e->kind == LEFT_OUT_GROUP ? "GID" : "UID", e->id, e->why);
}

size_t left_out_list_entries(const struct left_out_list *l)
{
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                n += l->items[i].kind != LEFT_OUT_MEMBER;
        return n;
}

static void left_out_add(
        struct left_out_list *l, enum left_out_kind kind, const char *name, uint32_t id, const char *why)
{
        struct left_out e = {.name = (char *)name, .id = id, .kind = kind, .why = why};
        char *copy = strdup(name);

        if (GROW_ARRAY(l->items, NULL, l->n + 1) < 0 || !copy) {
                free(copy);
                log_left_out(&e); /* out of memory: logged now, perhaps twice, never silently */
                return;
        }
        e.name = copy;
        l->items[l->n++] = e;
}

bool directory_local_refuse_user(
        const struct local_db *db, struct left_out_list *out, const char *name, uint32_t uid)
{
        const char *why = directory_local_user_clash(db, name, uid);

        if (why)
                left_out_add(out, LEFT_OUT_USER, name, uid, why);
        return why;
}

bool directory_local_refuse_group(
        const struct local_db *db, struct left_out_list *out, const char *name, uint32_t gid)
{
        const char *why = directory_local_group_clash(db, name, gid);

        if (why)
                left_out_add(out, LEFT_OUT_GROUP, name, gid, why);
        return why;
}

bool directory_local_refuse_member(const struct local_db *db, struct left_out_list *out, const char *name)
{
        if (!local_db_has_user(db, name))
                return false;
        /* One entry per name and build: a name in many groups is logged once. */
        for (size_t i = 0; i < out->n; i++)
                if (out->items[i].kind == LEFT_OUT_MEMBER && streq(out->items[i].name, name))
                        return true;
        left_out_add(out, LEFT_OUT_MEMBER, name, 0, "a local user has that name");
        return true;
}

int directory_local_writer_filter(void *userdata, enum cache_writer_kind kind, const char *name, uint32_t id)
{
        struct directory_local_filter *f = userdata;
        bool out;

        switch (kind) {
        case CACHE_WRITER_USER:
                out = directory_local_refuse_user(f->db, &f->left_out, name, id);
                break;
        case CACHE_WRITER_GROUP:
                out = directory_local_refuse_group(f->db, &f->left_out, name, id);
                break;
        default:
                out = directory_local_refuse_member(f->db, &f->left_out, name);
        }

        return out ? -EPERM : 0;
}

/* Bounds what a stream of distinct misses can make the loop remember. */
#define REPORTED_MAX 65536u

void directory_local_report(struct strmap *reported, const struct left_out_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                const struct left_out *e = &l->items[i];
                _cleanup_free_ char *key = NULL;
                if (asprintf(&key, "%c:%s", "ugm"[e->kind], e -> name) < 0) {
                        log_left_out(e);
                        continue;
                }
                if (strmap_get(reported, key, NULL))
                        continue;
                log_left_out(e);
                if (reported->used < REPORTED_MAX)
                        (void)strmap_put(reported, key, 0);
        }
}

static int reply_not_found(struct byte_buffer *b, struct span name, const char *why)
{
        log_debug("Answer for \"%.*s\" withheld: %s.", (int)name.len, name.ptr, why);
        b->size = 0;
        return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND) ?: 1;
}

/* True when GID, or the name MAP gives it, is a local group's. */
static int gid_clashes(const struct local_db *db, const struct cache_map *map, uint32_t gid)
{
        struct group_record gr;
        _cleanup_free_ char *name = NULL;

        if (local_db_has_gid(db, gid))
                return true;
        if (!map || cache_map_find_group_by_gid(map, gid, &gr) < 0)
                return false;
        if (!(name = strndup(gr.name.ptr, gr.name.len)))
                return -ENOMEM;
        return local_db_has_group(db, name);
}

static int check_gid_list(const struct local_db *db, const struct cache_map *map,
        const struct nss_proto_request *q, const struct gid_list_record *l, struct byte_buffer *b)
{
        _cleanup_free_ uint32_t *kept = calloc(l->n_gids + 1, sizeof(uint32_t));
        size_t n = 0;

        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_gids; i++) {
                uint32_t gid = gid_list_record_get(l, i);
                int k = gid_clashes(db, map, gid);
                if (k < 0)
                        return k;
                if (!k)
                        kept[n++] = gid;
        }
        if (n == l->n_gids)
                return 0;
        log_debug("Memberships of \"%s\": %zu local group(s) withheld.", q->name, l->n_gids - n);
        b->size = 0; /* the record read from B is no longer used */
        return nss_proto_reply_gid_list(b, q->name, kept, n) ?: 1;
}

int directory_local_check_reply(const struct local_db *db, const struct cache_map *map,
        const struct nss_proto_request *q, struct byte_buffer *b)
{
        struct nss_proto_reply rep;
        _cleanup_free_ char *name = NULL;
        const char *why;

        if (nss_proto_reply_decode(q, b->data, b->size, &rep) < 0 || rep.status != NSS_PROTO_FOUND)
                return 0;
        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID:
                if (!(name = strndup(rep.passwd.name.ptr, rep.passwd.name.len)))
                        return -ENOMEM;
                why = directory_local_user_clash(db, name, rep.passwd.uid);
                return why ? reply_not_found(b, rep.passwd.name, why) : 0;
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID:
                if (!(name = strndup(rep.group.name.ptr, rep.group.name.len)))
                        return -ENOMEM;
                why = directory_local_group_clash(db, name, rep.group.gid);
                return why ? reply_not_found(b, rep.group.name, why) : 0;
        case NSS_PROTO_INITGROUPS:
                /* Memberships of a local user's name come from member lists meant for a directory user. */
                if (local_db_has_user(db, q->name))
                        return reply_not_found(b, rep.gid_list.name, "a local user has that name");
                return check_gid_list(db, map, q, &rep.gid_list, b);
        }
        return 0;
}
