/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/directory-fetch.h"
#include "accountsd/directory-local.h"
#include "basic/alloc-util.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "mds/models.h"
#include "mds/oslogin-api.h"

/* A server whose page tokens come round again would keep a build for
 * DIRECTORY_MAX_PAGES requests (minutes, with the worker busy): the pager
 * catches the loop, and it is said once here. */
#define PAGER_INIT                                                                                          \
        {                                                                                                   \
                .max_pages = DIRECTORY_MAX_PAGES                                                            \
        }

static int more_pages(struct oslogin_pager *pager)
{
        int r = oslogin_pager_more(pager);
        if (r == -ELOOP)
                return log_warning_errno(ELOOP,
                        "The metadata server's page tokens loop (\"%s\" again); giving up.", pager->token);
        return r;
}

int directory_fetch_members(struct mds_client *c, const char *name, char ***ret)
{
        _cleanup_strv_free_ char **members = NULL;
        _cleanup_(oslogin_pager_done) struct oslogin_pager pager = PAGER_INIT;
        size_t n = 0, allocated = 0;
        int r;

        while ((r = more_pages(&pager)) > 0) {
                _cleanup_mds_response_ struct mds_response resp = {};
                struct oslogin_usernames_page p = {};
                r = oslogin_get(c, "users", "groupname", name, 0, pager.token, &resp);
                if (r == -ENOENT) {
                        r = 0; /* a group without members, or gone meanwhile */
                        break;
                }
                if (r < 0)
                        return r;
                if ((r = oslogin_usernames_page_parse(resp.body, resp.size, &p)) < 0)
                        return r;
                /* Appending in place: strv_extend() walks the list each time. Duplicates are the writer's
                 * job. */
                size_t i = 0;
                for (; p.usernames && p.usernames[i]; i++) {
                        if ((r = GROW_ARRAY(members, &allocated, n + 2)) < 0)
                                break;
                        members[n++] = p.usernames[i];
                        members[n] = NULL;
                }
                /* The ones not taken (ENOMEM) move to the front for oslogin_usernames_page_done(). */
                if (p.usernames)
                        memmove(p.usernames, p.usernames + i,
                                (strv_length(p.usernames + i) + 1) * sizeof(char *));
                oslogin_pager_next(&pager, TAKE_PTR(p.next_page_token));
                oslogin_usernames_page_done(&p);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!members && !(members = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(members);
        return 0;
}

struct self_group {
        char *name;
        uint32_t gid;
};

static struct directory_progress progress;

static void progress_page(uint32_t *counter, uint32_t value)
{
        __atomic_store_n(counter, value, __ATOMIC_RELAXED);
        __atomic_add_fetch(&progress.pages, 1, __ATOMIC_RELAXED);
}

void directory_progress_get(struct directory_progress *ret)
{
        ret->users = __atomic_load_n(&progress.users, __ATOMIC_RELAXED);
        ret->groups = __atomic_load_n(&progress.groups, __ATOMIC_RELAXED);
        ret->pages = __atomic_load_n(&progress.pages, __ATOMIC_RELAXED);
}

/* Adds "WHO (WHY)" to the build's list of skipped users while it fits. */
static void note_skipped(struct directory_build_stats *st, const char *who, const char *why)
{
        size_t used = strlen(st->skipped_detail), room = sizeof(st->skipped_detail) - used;
        int n = snprintf(st->skipped_detail + used, room, "%s%s (%s)", used ? "; " : "", who, why);

        if (n < 0 || (size_t)n >= room) /* cut at the last whole entry */
                st->skipped_detail[used] = '\0';
}

static int fetch_users(struct mds_client *c, uint32_t uid_floor, uint32_t page_size, struct cache_writer *w,
        struct self_group **self, size_t *n_self, struct directory_build_stats *st)
{
        _cleanup_(oslogin_pager_done) struct oslogin_pager pager = PAGER_INIT;
        int r;

        while ((r = more_pages(&pager)) > 0) {
                _cleanup_mds_response_ struct mds_response resp = {};
                struct oslogin_users_page p = {};
                r = oslogin_get(c, "users", NULL, NULL, page_size, pager.token, &resp);
                if (r < 0)
                        return r;
                if ((r = oslogin_users_page_parse(resp.body, resp.size, uid_floor, &p)) < 0)
                        return r;
                st->n_skipped += (uint32_t)p.n_rejected;
                for (size_t i = 0; i < p.n_rejections; i++)
                        note_skipped(st, p.rejections[i].who, p.rejections[i].reason);
                for (size_t i = 0; i < p.n_profiles && r >= 0; i++) {
                        const struct oslogin_posix_account *a = &p.profiles[i]->account;
                        int k = cache_writer_add_user(
                                w, a->username, a->uid, a->gid, a->gecos, a->home, a->shell);
                        if (k == -ENOMEM)
                                r = k;
                        else if (k < 0 && k != -EPERM) {
                                st->n_skipped++;
                                note_skipped(st, a->username,
                                        k == -EEXIST ? "name or UID already in the directory"
                                                     : "invalid entry");
                        } else if (k >= 0) {
                                st->n_users++;
                                if (a->uid == a->gid) {
                                        if ((r = GROW_ARRAY(*self, NULL, *n_self + 1)) < 0)
                                                break;
                                        struct self_group *n = *self;
                                        n[*n_self] = (struct self_group){
                                                .name = strdup(a->username), .gid = a->gid};
                                        if (!n[(*n_self)++].name)
                                                r = -ENOMEM;
                                }
                        }
                }
                progress_page(&progress.users, st->n_users);
                oslogin_pager_next(&pager, TAKE_PTR(p.next_page_token));
                oslogin_users_page_done(&p);
                if (r < 0)
                        return r;
        }
        return r;
}

struct directory_group_set *directory_group_set_ref(struct directory_group_set *s)
{
        if (s)
                s->n_ref++;
        return s;
}

void directory_group_set_unref(struct directory_group_set *s)
{
        if (!s || --s->n_ref > 0)
                return;
        for (size_t i = 0; i < s->n; i++) {
                free(s->groups[i].name);
                strv_free(s->groups[i].members);
        }
        free(s->groups);
        free(s);
}

static int group_set_add(struct directory_group_set *s, const char *name, uint32_t gid)
{
        char *copy;

        if (GROW_ARRAY(s->groups, NULL, s->n + 1) < 0 || !(copy = strdup(name)))
                return -ENOMEM;
        s->groups[s->n++] = (struct directory_group){.name = copy, .gid = gid};
        return 0;
}

/* Every groups page, then each group's members into *RET: all or nothing. */
static int fetch_groups(struct mds_client *c, struct mds_client *const *extra, size_t n_extra,
        uint32_t uid_floor, uint32_t page_size, struct directory_group_set **ret, uint32_t *ret_skipped)
{
        _cleanup_(oslogin_pager_done) struct oslogin_pager pager = PAGER_INIT;
        struct directory_group_set *set = calloc(1, sizeof(*set));
        uint32_t skipped = 0;
        int r;

        if (!set)
                return -ENOMEM;
        set->n_ref = 1;
        while ((r = more_pages(&pager)) > 0) {
                _cleanup_mds_response_ struct mds_response resp = {};
                struct oslogin_groups_page p = {};
                r = oslogin_get(c, "groups", NULL, NULL, page_size, pager.token, &resp);
                if (r < 0 || (r = oslogin_groups_page_parse(resp.body, resp.size, uid_floor, &p)) < 0)
                        break;
                skipped += (uint32_t)p.n_rejected;
                /* Unlike users, the "0" page of groups may still hold groups. */
                for (size_t i = 0; i < p.n_groups && r >= 0; i++)
                        r = group_set_add(set, p.groups[i].name, p.groups[i].gid);
                progress_page(&progress.groups,
                        __atomic_load_n(&progress.groups, __ATOMIC_RELAXED) + (uint32_t)p.n_groups);
                oslogin_pager_next(&pager, TAKE_PTR(p.next_page_token));
                oslogin_groups_page_done(&p);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = directory_fetch_members_all(c, extra, n_extra, set->groups, set->n);
        if (r < 0) {
                directory_group_set_unref(set);
                return r;
        }
        *ret = set;
        *ret_skipped = skipped;
        return 0;
}

static int add_groups(
        struct cache_writer *w, const struct directory_group_set *s, struct directory_build_stats *st)
{
        for (size_t i = 0; s && i < s->n; i++) {
                const struct directory_group *g = &s->groups[i];
                int k = cache_writer_add_group(w, g->name, g->gid, (const char *const *)g->members);
                if (k == -ENOMEM)
                        return k;
                if (k < 0 && k != -EPERM) /* -EPERM: left out as local, counted by the writer's filter */
                        st->n_skipped++;
                else if (k >= 0)
                        st->n_groups++;
        }
        return 0;
}

int directory_fetch_all(struct mds_client *c, struct mds_client *const *extra, size_t n_extra,
        uint32_t uid_floor, uint32_t page_size, struct cache_writer *w,
        const struct directory_group_set *last_good, struct directory_group_set **ret_groups,
        struct directory_build_stats *ret)
{
        struct directory_build_stats st = {};
        struct directory_group_set *groups = NULL;
        struct self_group *self = NULL;
        size_t n_self = 0;
        uint32_t skipped = 0;
        int r;

        /* json-c makes a tree of small objects per page and frees it: with
         * fastbins every larger allocation after that consolidated them
         * (malloc_consolidate and unlink_chunk, 15-20 % of a build's CPU);
         * without, a freed chunk coalesces at once. Process-wide, and the
         * tcache still serves the daemon's other small allocations. */
        (void)mallopt(M_MXFAST, 0);
        __atomic_store_n(&progress.users, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&progress.groups, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&progress.pages, 0, __ATOMIC_RELAXED);
        r = fetch_users(c, uid_floor, page_size, w, &self, &n_self, &st);
        if (r >= 0) {
                /* The groups listing alone failing must not cost the users their cache. */
                int k = fetch_groups(c, extra, n_extra, uid_floor, page_size, &groups, &skipped);
                if (k == -ENOMEM)
                        r = k;
                else if (k < 0) {
                        st.groups_error = k;
                        st.groups_from_last_good = last_good != NULL;
                        r = add_groups(w, last_good, &st);
                } else {
                        st.n_skipped += skipped;
                        r = add_groups(w, groups, &st);
                }
        }
        /* Self groups last: a real group with the same name or GID wins. */
        for (size_t i = 0; i < n_self; i++) {
                if (r >= 0) {
                        const char *const members[] = {self[i].name, NULL};
                        int k = cache_writer_add_group(w, self[i].name, self[i].gid, members);
                        if (k == -ENOMEM)
                                r = k;
                        else if (k >= 0)
                                st.n_self_groups++;
                }
                free(self[i].name);
        }
        free(self);
        if (r < 0) {
                directory_group_set_unref(groups);
                return r;
        }
        *ret_groups = groups;
        *ret = st;
        return 0;
}

void directory_groups_state_update(struct directory_groups_state *s, const struct directory_build_stats *st,
        struct directory_group_set *new_set)
{
        if (st->groups_error >= 0) {
                if (s->error < 0)
                        log_info("OS Login groups listing works again: %u groups.", st->n_groups);
                directory_group_set_unref(s->last_good);
                s->last_good = new_set;
                s->error = 0;
                s->failing_since_realtime = 0;
                s->failed_builds = 0;
                return;
        }
        directory_group_set_unref(new_set); /* a failed listing has none; for symmetry */
        s->failed_builds++;
        if (s->error >= 0) {
                s->failing_since_realtime = now_realtime_usec();
                if (s->last_good)
                        log_warning_errno(st->groups_error,
                                "OS Login groups listing failed (%m); directory built with the last good "
                                "%zu groups, retrying at every refresh.",
                                s->last_good->n);
                else
                        log_warning_errno(st->groups_error,
                                "OS Login groups listing failed (%m); directory built without groups, "
                                "retrying at every refresh.");
        }
        s->error = st->groups_error;
}

void directory_groups_state_done(struct directory_groups_state *s)
{
        directory_group_set_unref(s->last_good);
        *s = (struct directory_groups_state){};
}

void directory_groups_state_status(const struct directory_groups_state *s, FILE *f)
{
        if (s->error >= 0) {
                fprintf(f, "directory-groups: ok\n");
                return;
        }
        fprintf(f, "directory-groups: failing (%s) for %llus, %llu build(s); ", strerror(-s->error),
                (unsigned long long)((now_realtime_usec() - s->failing_since_realtime) / 1000000u),
                (unsigned long long)s->failed_builds);
        if (s->last_good)
                fprintf(f, "serving the last good %zu groups\n", s->last_good->n);
        else
                fprintf(f, "serving no groups\n");
}

/* users?username= or users?uid=: -ENOENT when there is no such user. */
static int fetch_profile(struct mds_client *c, uint32_t uid_floor, const char *name, uint32_t uid,
        struct oslogin_profile **ret)
{
        _cleanup_mds_response_ struct mds_response resp = {};
        char id[16];
        int r;

        snprintf(id, sizeof(id), "%u", uid);
        r = oslogin_get(c, "users", name ? "username" : "uid", name ?: id, 0, NULL, &resp);
        if (r < 0)
                return r;
        r = oslogin_profile_parse(resp.body, resp.size, uid_floor, ret);
        /* A profile whose UID is below the floor is not ours to answer. */
        return r == -EBADMSG ? -ENOENT : r;
}

static bool profile_answers(const struct oslogin_profile *p, const char *name, uint32_t id)
{
        return name ? streq(p->account.username, name) : p->account.uid == id;
}

/* The host's accounts, and where to note what they keep out. */
struct local {
        const struct local_db *db;
        struct left_out_list *left_out;
};

/* A profile whose username or UID is a local account's answers nothing here. */
static bool profile_local(const struct local *local, const struct oslogin_profile *p)
{
        return directory_local_refuse_user(local->db, local->left_out, p->account.username, p->account.uid);
}

/* Nor a group (a self group included) whose name or GID is a local group's. */
static bool group_local(const struct local *local, const char *name, uint32_t gid)
{
        return directory_local_refuse_group(local->db, local->left_out, name, gid);
}

/* A local user's name in a member list is no member here. */
static void drop_local_members(const struct local *local, char **members)
{
        size_t n = 0;

        for (char **m = members; *m; m++)
                if (directory_local_refuse_member(local->db, local->left_out, *m))
                        free(*m);
                else
                        members[n++] = *m;
        members[n] = NULL;
}

static int answer_user(struct mds_client *c, uint32_t uid_floor, const struct local *local,
        const struct nss_proto_request *q, struct byte_buffer *b)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        const char *name = q->type == NSS_PROTO_GETPWNAM ? q->name : NULL;
        int r = fetch_profile(c, uid_floor, name, q->id, &p);

        if (r == -ENOENT || (r >= 0 && (!profile_answers(p, name, q->id) || profile_local(local, p))))
                return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND) ?: NSS_PROTO_NOTFOUND;
        if (r < 0)
                return r;
        const struct oslogin_posix_account *a = &p->account;
        return nss_proto_reply_passwd(b, a->uid, a->gid, a->username, a->gecos, a->home, a->shell)
                       ?: NSS_PROTO_FOUND;
}

/* No such group: a user whose GID equals its UID still owns a group of its name. */
static int answer_self_group(struct mds_client *c, uint32_t uid_floor, const struct local *local,
        const struct nss_proto_request *q, struct byte_buffer *b)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        const char *name = q->type == NSS_PROTO_GETGRNAM ? q->name : NULL;
        int r = fetch_profile(c, uid_floor, name, q->id, &p);

        bool refused = r >= 0 && (!profile_answers(p, name, q->id) || p->account.uid != p->account.gid ||
                                         profile_local(local, p) ||
                                         group_local(local, p->account.username, p->account.gid));
        if (r == -ENOENT || refused)
                return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND) ?: NSS_PROTO_NOTFOUND;
        if (r < 0)
                return r;
        const char *const members[] = {p->account.username, NULL};
        return nss_proto_reply_group(b, p->account.gid, p->account.username, members) ?: NSS_PROTO_FOUND;
}

static int answer_group(struct mds_client *c, uint32_t uid_floor, const struct local *local,
        const struct nss_proto_request *q, struct byte_buffer *b)
{
        _cleanup_mds_response_ struct mds_response resp = {};
        _cleanup_strv_free_ char **members = NULL;
        struct oslogin_groups_page p = {};
        const struct oslogin_group *g = NULL;
        char id[16];
        int r;

        snprintf(id, sizeof(id), "%u", q->id);
        if (q->type == NSS_PROTO_GETGRNAM)
                r = oslogin_get(c, "groups", "groupname", q->name, 0, NULL, &resp);
        else
                r = oslogin_get(c, "groups", "gid", id, 0, NULL, &resp);
        if (r == -ENOENT)
                return answer_self_group(c, uid_floor, local, q, b);
        if (r < 0)
                return r;
        if ((r = oslogin_groups_page_parse(resp.body, resp.size, uid_floor, &p)) < 0)
                return r;
        for (size_t i = 0; i < p.n_groups && !g; i++)
                if (q->type == NSS_PROTO_GETGRNAM ? streq(p.groups[i].name, q->name)
                                                  : p.groups[i].gid == q->id)
                        g = &p.groups[i];
        if (!g) {
                oslogin_groups_page_done(&p);
                return answer_self_group(c, uid_floor, local, q, b);
        }
        if (group_local(local, g->name, g->gid)) {
                oslogin_groups_page_done(&p);
                return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND) ?: NSS_PROTO_NOTFOUND;
        }
        r = directory_fetch_members(c, g->name, &members);
        if (r >= 0) {
                drop_local_members(local, members);
                r = nss_proto_reply_group(b, g->gid, g->name, (const char *const *)members)
                            ?: NSS_PROTO_FOUND;
        }
        oslogin_groups_page_done(&p);
        return r;
}

/* initgroups: the profile for the e-mail, then groups?email= (all pages). */
static int answer_memberships(struct mds_client *c, uint32_t uid_floor, const struct local *local,
        const struct nss_proto_request *q, struct byte_buffer *b)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        _cleanup_free_ uint32_t *gids = NULL;
        _cleanup_(oslogin_pager_done) struct oslogin_pager pager = PAGER_INIT;
        size_t n = 0;
        int r = fetch_profile(c, uid_floor, q->name, 0, &p);

        if (r == -ENOENT || (r >= 0 && (!profile_answers(p, q->name, 0) || profile_local(local, p))))
                return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND) ?: NSS_PROTO_NOTFOUND;
        if (r < 0)
                return r;
        while (p->email && (r = more_pages(&pager)) > 0) {
                _cleanup_mds_response_ struct mds_response resp = {};
                struct oslogin_groups_page g = {};
                r = oslogin_get(c, "groups", "email", p->email, 0, pager.token, &resp);
                if (r == -ENOENT) {
                        r = 0;
                        break;
                }
                if (r < 0 || (r = oslogin_groups_page_parse(resp.body, resp.size, uid_floor, &g)) < 0)
                        return r;
                bool grown = GROW_ARRAY(gids, NULL, n + g.n_groups + 1) >= 0;
                if (grown) {
                        for (size_t i = 0; i < g.n_groups; i++)
                                /* The primary group is the caller's; a local group's name or GID is never
                                 * granted. */
                                if (g.groups[i].gid != p->account.gid &&
                                        !group_local(local, g.groups[i].name, g.groups[i].gid))
                                        gids[n++] = g.groups[i].gid;
                }
                oslogin_pager_next(&pager, TAKE_PTR(g.next_page_token));
                oslogin_groups_page_done(&g);
                if (!grown)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return nss_proto_reply_gid_list(b, q->name, gids, n) ?: NSS_PROTO_FOUND;
}

int directory_fetch_answer(struct mds_client *c, uint32_t uid_floor, const struct local_db *local,
        struct left_out_list *left_out, const struct nss_proto_request *q, struct byte_buffer *b)
{
        const struct local l = {.db = local, .left_out = left_out};

        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID:
                return answer_user(c, uid_floor, &l, q, b);
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID:
                return answer_group(c, uid_floor, &l, q, b);
        case NSS_PROTO_INITGROUPS:
                return answer_memberships(c, uid_floor, &l, q, b);
        }
        return -EINVAL;
}
