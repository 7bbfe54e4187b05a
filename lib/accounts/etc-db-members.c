/* SPDX-License-Identifier: Apache-2.0 */
/* Group membership in the /etc transaction: the member lists of group and
 * gshadow lines, and the per-group caches that let a pass ask "is USER in
 * GROUP?" once per user without rescanning the line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/etc-db.h"
#include "basic/alloc-util.h"
#include "basic/strmap.h"
#include "basic/strv.h"

#include "accounts/etc-db-internal.h"

void etc_db_member_caches_clear(struct etc_db *db)
{
        for (size_t i = 0; i < db->n_caches; i++) {
                free(db->caches[i].group);
                strmap_done(&db->caches[i].members);
        }
        free(db->caches);
        db->caches = NULL;
        db->n_caches = 0;
}

/* Whether the comma-separated MEMBERS (ending at ':' or NUL) holds USER; no allocation. */
static bool members_hold(const char *members, const char *user)
{
        size_t n = strlen(user);
        for (const char *p = members; *p && *p != ':';) {
                size_t len = strcspn(p, ",:");
                if (len == n && strncmp(p, user, n) == 0)
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

static const char *field_start(const char *line, unsigned n)
{
        for (unsigned i = 0; i < n && line; i++) {
                line = strchr(line, ':');
                if (line)
                        line++;
        }
        return line;
}

/* Rewrites the member list (field MEMBERS_FIELD) of LINE with USER added or removed. */
static int rewrite_members(char **line, unsigned members_field, const char *user, bool member)
{
        const char *start = field_start(*line, members_field);
        if (!start)
                return -EINVAL;
        if (members_hold(start, user) == member)
                return 0;

        _cleanup_free_ char *members = etc_line_field(*line, members_field);
        _cleanup_strv_free_ char **list = NULL;
        _cleanup_free_ char *joined = NULL;
        const char *p = *line;

        if (!members)
                return -EINVAL;
        list = strv_split(members, ",");
        if (!list)
                return -ENOMEM;
        if (strv_contains(list, user) == member)
                return 0;
        size_t len = 0;
        for (char **m = list; *m; m++)
                if (!streq(*m, user))
                        len += strlen(*m) + 1;
        joined = calloc(1, len + strlen(user) + 2);
        if (!joined)
                return -ENOMEM;
        for (char **m = list; *m; m++)
                if (!streq(*m, user)) {
                        if (*joined)
                                strcat(joined, ",");
                        strcat(joined, *m);
                }
        if (member) {
                if (*joined)
                        strcat(joined, ",");
                strcat(joined, user);
        }
        for (unsigned i = 0; i < members_field; i++)
                p = strchr(p, ':') + 1;
        const char *rest = p + strcspn(p, ":");
        char *n = NULL;
        if (asprintf(&n, "%.*s%s%s", (int)(p - *line), *line, joined, rest) < 0)
                return -ENOMEM;
        free(*line);
        *line = n;
        return 1;
}

bool etc_db_is_member(const struct etc_db *db, const char *group, const char *user)
{
        ssize_t i = etc_db_find(db, ETC_GROUP, group);
        const char *start = i >= 0 ? field_start(db->files[ETC_GROUP].lines[i], 3) : NULL;
        return start && members_hold(start, user);
}

static struct strmap *member_cache(
        struct etc_db *db, enum etc_file file, const char *group, const char *line)
{
        for (size_t i = 0; i < db->n_caches; i++)
                if (db->caches[i].file == file && streq(db->caches[i].group, group))
                        return &db->caches[i].members;
        if (GROW_ARRAY(db->caches, NULL, db->n_caches + 1) < 0)
                return NULL;
        struct member_cache *c = &db->caches[db->n_caches];
        *c = (struct member_cache){.file = file, .group = strdup(group)};
        if (!c->group)
                return NULL;
        db->n_caches++;
        const char *m = field_start(line, 3);
        while (m && *m && *m != ':') {
                size_t len = strcspn(m, ",:");
                char *name = strndup(m, len);
                if (!name || (len && strmap_put(&c->members, name, 1) < 0)) {
                        free(name);
                        return NULL;
                }
                free(name);
                m += len;
                if (*m == ',')
                        m++;
        }
        return &c->members;
}

static int set_member_in(
        struct etc_db *db, enum etc_file file, const char *group, const char *user, bool member)
{
        ssize_t i = etc_db_find(db, file, group);
        struct strmap *cache;
        int r;

        if (i < 0)
                return file == ETC_GROUP ? -ENOENT : 0;
        cache = member_cache(db, file, group, db->files[file].lines[i]);
        if (cache && strmap_get(cache, user, NULL) == member)
                return 0;
        r = rewrite_members(&db->files[file].lines[i], 3, user, member);
        if (r <= 0)
                return r;
        db->files[file].changed = true;
        if (cache && member)
                return strmap_put(cache, user, 1);
        etc_db_member_caches_clear(db); /* removals are rare: rebuild on demand */
        return 0;
}

int etc_db_set_member(struct etc_db *db, const char *group, const char *user, bool member)
{
        int r = set_member_in(db, ETC_GROUP, group, user, member);
        if (r < 0)
                return r;
        return set_member_in(db, ETC_GSHADOW, group, user, member);
}

void etc_db_members_drop_user(struct etc_db *db, const char *name)
{
        etc_db_member_caches_clear(db);
        for (enum etc_file w = ETC_GROUP; w <= ETC_GSHADOW; w++)
                for (size_t k = 0; k < db->files[w].n; k++)
                        if (!isempty(db->files[w].lines[k]) && db->files[w].lines[k][0] != '#' &&
                                rewrite_members(&db->files[w].lines[k], 3, name, false) > 0)
                                db->files[w].changed = true;
}
