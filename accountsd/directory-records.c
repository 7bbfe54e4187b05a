/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/directory-records.h"
#include "basic/strv.h"

static char *span_dup(struct span s)
{
        return strndup(s.ptr, s.len);
}

static int encode_passwd(struct byte_buffer *b, const struct passwd_record *p)
{
        _cleanup_free_ char *name = span_dup(p->name), *gecos = span_dup(p->gecos),
                            *home = span_dup(p->home), *shell = span_dup(p->shell);
        if (!name || !gecos || !home || !shell)
                return -ENOMEM;
        return nss_proto_reply_passwd(b, p->uid, p->gid, name, gecos, home, shell);
}

static int encode_group(struct byte_buffer *b, const struct group_record *g)
{
        _cleanup_free_ char *name = span_dup(g->name);
        _cleanup_strv_free_ char **members = calloc(g->n_members + 1, sizeof(char *));
        struct byte_reader it = g->members;
        struct span m;

        if (!name || !members)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_members && group_record_next_member(&it, &m) == 0; i++)
                if (!(members[i] = span_dup(m)))
                        return -ENOMEM;
        return nss_proto_reply_group(b, g->gid, name, (const char *const *)members);
}

static int encode_gid_list(struct byte_buffer *b, const char *name, const struct gid_list_record *l)
{
        _cleanup_free_ uint32_t *gids = calloc(l->n_gids + 1, sizeof(uint32_t));
        if (!gids)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_gids; i++)
                gids[i] = gid_list_record_get(l, i);
        return nss_proto_reply_gid_list(b, name, gids, l->n_gids);
}

int directory_answer_from_map(
        const struct cache_map *map, const struct nss_proto_request *q, struct byte_buffer *b)
{
        union {
                struct passwd_record pw;
                struct group_record gr;
                struct gid_list_record gl;
        } rec;
        int r;

        if (!map)
                return -ENOENT;
        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID:
                r = q->type == NSS_PROTO_GETPWNAM ? cache_map_find_user_by_name(map, q->name, &rec.pw)
                                                  : cache_map_find_user_by_uid(map, q->id, &rec.pw);
                return r < 0 ? r : encode_passwd(b, &rec.pw);
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID:
                r = q->type == NSS_PROTO_GETGRNAM ? cache_map_find_group_by_name(map, q->name, &rec.gr)
                                                  : cache_map_find_group_by_gid(map, q->id, &rec.gr);
                return r < 0 ? r : encode_group(b, &rec.gr);
        case NSS_PROTO_INITGROUPS:
                r = cache_map_find_memberships(map, q->name, &rec.gl);
                if (r == -ENOENT && cache_map_find_user_by_name(map, q->name, &rec.pw) == 0)
                        return nss_proto_reply_gid_list(b, q->name, NULL, 0); /* a known user in no group */
                return r < 0 ? r : encode_gid_list(b, q->name, &rec.gl);
        }
        return -EINVAL;
}

int directory_writer_add_reply(
        struct cache_writer *w, const struct nss_proto_request *q, const uint8_t *msg, size_t size)
{
        struct nss_proto_reply r;
        int k = nss_proto_reply_decode(q, msg, size, &r);

        if (k < 0 || r.status != NSS_PROTO_FOUND)
                return 0;
        if (q->type == NSS_PROTO_GETPWNAM || q->type == NSS_PROTO_GETPWUID) {
                _cleanup_free_ char *name = span_dup(r.passwd.name), *gecos = span_dup(r.passwd.gecos),
                                    *home = span_dup(r.passwd.home), *shell = span_dup(r.passwd.shell);
                if (!name || !gecos || !home || !shell)
                        return -ENOMEM;
                k = cache_writer_add_user(w, name, r.passwd.uid, r.passwd.gid, gecos, home, shell);
                if (k >= 0 && r.passwd.uid == r.passwd.gid) {
                        const char *const members[] = {name, NULL};
                        k = cache_writer_add_group(w, name, r.passwd.gid, members);
                }
        } else if (q->type == NSS_PROTO_GETGRNAM || q->type == NSS_PROTO_GETGRGID) {
                _cleanup_free_ char *name = span_dup(r.group.name);
                _cleanup_strv_free_ char **members = calloc(r.group.n_members + 1, sizeof(char *));
                struct byte_reader it = r.group.members;
                struct span m;
                if (!name || !members)
                        return -ENOMEM;
                for (size_t i = 0; i < r.group.n_members && group_record_next_member(&it, &m) == 0; i++)
                        if (!(members[i] = span_dup(m)))
                                return -ENOMEM;
                k = cache_writer_add_group(w, name, r.group.gid, (const char *const *)members);
        }
        return k == -ENOMEM ? k : 0; /* duplicates and refusals: the entry just stays out */
}

/* A miss answered FOUND must not give a second name to a UID/GID the cache
 * holds, nor a second ID to a name: with duplicates in the directory the
 * build keeps the first of each, and a miss must not hand out the other one
 * (a user with someone else's UID owns their files). */
bool directory_answer_collides(
        const struct cache_map *map, const struct nss_proto_request *q, const uint8_t *msg, size_t size)
{
        struct nss_proto_reply rep;
        struct passwd_record pw;
        struct group_record gr;
        _cleanup_free_ char *name = NULL;

        if (!map || q->type == NSS_PROTO_INITGROUPS || nss_proto_reply_decode(q, msg, size, &rep) < 0 ||
                rep.status != NSS_PROTO_FOUND)
                return false;
        switch (q->type) {
        case NSS_PROTO_GETPWNAM: /* the name was a miss: any cached owner of the UID is someone else */
                return cache_map_find_user_by_uid(map, rep.passwd.uid, &pw) == 0;
        case NSS_PROTO_GETPWUID:
                name = strndup(rep.passwd.name.ptr, rep.passwd.name.len);
                return name && cache_map_find_user_by_name(map, name, &pw) == 0;
        case NSS_PROTO_GETGRNAM:
                return cache_map_find_group_by_gid(map, rep.group.gid, &gr) == 0;
        case NSS_PROTO_GETGRGID:
                name = strndup(rep.group.name.ptr, rep.group.name.len);
                return name && cache_map_find_group_by_name(map, name, &gr) == 0;
        default:
                return false;
        }
}
