/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/alloc-util.h"
#include "basic/local-db.h"
#include "basic/parse-util.h"
#include "basic/path-util.h"
#include "basic/strmap.h"

/* The names of one file (value: the id, or UINT32_MAX when the line has
 * none we can read) and its ids, sorted for bsearch. */
struct id_names {
        struct strmap names;
        uint32_t *ids;
        size_t n_ids, allocated_ids;
};

struct local_db {
        struct id_names users, groups;
};

static void id_names_done(struct id_names *t)
{
        strmap_done(&t->names);
        free(t->ids);
}

static int compare_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static int add_id(struct id_names *t, uint32_t id)
{
        if (GROW_ARRAY(t->ids, &t->allocated_ids, t->n_ids + 1) < 0)
                return -ENOMEM;
        t->ids[t->n_ids++] = id;
        return 0;
}

/* "name:password:ID:..." (passwd and group alike). Every line that has a
 * name counts, even a malformed one: when in doubt, a name is local. NIS
 * compat lines ("+", "-name") name no account here and are skipped. */
static int parse_line(struct id_names *t, char *line)
{
        char *colon = strchr(line, ':');
        uint32_t id = UINT32_MAX;
        int r;

        line[strcspn(line, "\n")] = '\0';
        if (colon)
                *colon = '\0';
        if (line[0] == '\0' || line[0] == '+' || line[0] == '-' || line[0] == '#')
                return 0;
        if (colon) {
                char *id_field = strchr(colon + 1, ':'), *end;
                if (id_field && (end = strchr(++id_field, ':'))) {
                        *end = '\0';
                        if (safe_atou32(id_field, &id) < 0)
                                id = UINT32_MAX;
                }
        }
        if (id != UINT32_MAX && (r = add_id(t, id)) < 0)
                return r;
        if (strmap_get(&t->names, line, NULL))
                return 0; /* the first line wins, as in glibc's files source */
        return strmap_put(&t->names, line, id);
}

static int load_file(const char *root, const char *path, struct id_names *t)
{
        _cleanup_free_ char *full = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t allocated = 0;
        int r;

        if (path_join_root(root, path, &full) < 0)
                return -ENOMEM;
        f = fopen(full, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        errno = 0;
        while (getline(&line, &allocated, f) >= 0)
                if ((r = parse_line(t, line)) < 0)
                        return r;
        if (ferror(f))
                return errno ? -errno : -EIO;
        if (t->n_ids)
                qsort(t->ids, t->n_ids, sizeof(uint32_t), compare_u32);
        return 0;
}

void local_db_free(struct local_db *db)
{
        if (!db)
                return;
        id_names_done(&db->users);
        id_names_done(&db->groups);
        free(db);
}

int local_db_load(const char *root, struct local_db **ret)
{
        _cleanup_local_db_ struct local_db *db = calloc(1, sizeof(*db));
        int r;

        if (!db)
                return -ENOMEM;
        if ((r = load_file(root, "/etc/passwd", &db->users)) < 0 ||
                (r = load_file(root, "/etc/group", &db->groups)) < 0)
                return r;
        *ret = TAKE_PTR(db);
        return 0;
}

static bool has_id(const struct id_names *t, uint32_t id)
{
        return t->n_ids && bsearch(&id, t->ids, t->n_ids, sizeof(uint32_t), compare_u32);
}

bool local_db_has_user(const struct local_db *db, const char *name)
{
        return strmap_get(&db->users.names, name, NULL);
}

bool local_db_has_uid(const struct local_db *db, uint32_t uid)
{
        return has_id(&db->users, uid);
}

bool local_db_has_group(const struct local_db *db, const char *name)
{
        return strmap_get(&db->groups.names, name, NULL);
}

bool local_db_has_gid(const struct local_db *db, uint32_t gid)
{
        return has_id(&db->groups, gid);
}

int local_db_user_uid(const struct local_db *db, const char *name, uint32_t *ret_uid)
{
        size_t id;

        if (!strmap_get(&db->users.names, name, &id))
                return -ENOENT;
        if (id == UINT32_MAX)
                return -EBADMSG;
        *ret_uid = (uint32_t)id;
        return 0;
}
