/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts/uid-map.h"
#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/mkdir-util.h"
#include "basic/parse-util.h"
#include "basic/path-util.h"
#include "basic/strmap.h"
#include "basic/valid.h"

struct uid_map_entry {
        char *name;
        uid_t uid;
};

/* Lookups happen once per user per pass, so both directions are indexed:
 * name -> entry, and UID (as decimal text) -> entry, or SHARED_UID when a
 * damaged map gives one UID to several names (taken for all of them). */
#define SHARED_UID SIZE_MAX

struct uid_map {
        char *dir; /* ROOT/var/lib/oslogin */
        struct uid_map_entry *entries;
        size_t n;
        struct strmap by_name, by_uid;
        bool changed;
};

static int index_uid(struct uid_map *m, uid_t uid, size_t i)
{
        char key[16];
        size_t old;
        snprintf(key, sizeof(key), "%u", (unsigned)uid);
        if (strmap_get(&m->by_uid, key, &old) && old != i &&
                (old == SHARED_UID ||
                        (m->entries[old].uid == uid && !streq(m->entries[old].name, m->entries[i].name))))
                i = SHARED_UID;
        return strmap_put(&m->by_uid, key, i);
}

void uid_map_free(struct uid_map *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n; i++)
                free(m->entries[i].name);
        free(m->entries);
        free(m->dir);
        strmap_done(&m->by_name);
        strmap_done(&m->by_uid);
        free(m);
}

static int add(struct uid_map *m, const char *name, uid_t uid)
{
        if (GROW_ARRAY(m->entries, NULL, m->n + 1) < 0)
                return -ENOMEM;
        struct uid_map_entry *e = m->entries;
        e[m->n].name = strdup(name);
        if (!e[m->n].name)
                return -ENOMEM;
        e[m->n].uid = uid;
        if (strmap_put(&m->by_name, name, m->n) < 0 || index_uid(m, uid, m->n) < 0)
                return -ENOMEM;
        m->n++;
        return 0;
}

int uid_map_load(const char *root, struct uid_map **ret)
{
        _cleanup_(uid_map_freep) struct uid_map *m = calloc(1, sizeof(*m));
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        char *save = NULL;
        int r;

        if (!m)
                return -ENOMEM;
        if (path_join_root(root, OSLOGIN_STATE_DIR, &m->dir) < 0)
                return -ENOMEM;
        fd = open_dir_nofollow(AT_FDCWD, m->dir, 0);
        if (fd >= 0) {
                r = read_file_bounded(fd, "uidmap", 16 * 1024 * 1024, &data, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
        } else if (fd != -ENOENT)
                return fd;
        for (char *line = data ? strtok_r(data, "\n", &save) : NULL; line;
                line = strtok_r(NULL, "\n", &save)) {
                char *space = strchr(line, ' ');
                uint32_t uid;
                if (!space)
                        continue;
                *space = '\0';
                /* A damaged line is skipped, never trusted. */
                if (!valid_user_name(line) || safe_atou32(space + 1, &uid) < 0 || uid == 0 ||
                        strmap_get(&m->by_name, line, NULL))
                        continue;
                if ((r = add(m, line, uid)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int uid_map_get(const struct uid_map *m, const char *name, uid_t *ret_uid)
{
        size_t i;
        if (!strmap_get(&m->by_name, name, &i))
                return -ENOENT;
        *ret_uid = m->entries[i].uid;
        return 0;
}

bool uid_map_taken(const struct uid_map *m, uid_t uid, const char *name)
{
        char key[16];
        size_t i;
        snprintf(key, sizeof(key), "%u", (unsigned)uid);
        if (!strmap_get(&m->by_uid, key, &i))
                return false;
        return i == SHARED_UID || (!streq(m->entries[i].name, name) && m->entries[i].uid == uid);
}

int uid_map_set(struct uid_map *m, const char *name, uid_t uid)
{
        size_t i;
        if (!strmap_get(&m->by_name, name, &i)) {
                m->changed = true;
                return add(m, name, uid);
        }
        if (m->entries[i].uid == uid)
                return 0;
        /* The old UID stays indexed to this entry: uid_map_taken() checks
         * the entry still holds it. */
        m->entries[i].uid = uid;
        m->changed = true;
        return index_uid(m, uid, i);
}

int uid_map_save(struct uid_map *m)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_atomic_file_ struct atomic_file af = {};
        int r;

        if (!m->changed)
                return 0;
        fd = mkdir_p_open(AT_FDCWD, m->dir, 0755, 0755);
        if (fd < 0)
                return fd;
        r = atomic_file_begin(fd, "uidmap", 0644, 0, 0, &af);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n; i++)
                fprintf(af.f, "%s %u\n", m->entries[i].name, (unsigned)m->entries[i].uid);
        r = atomic_file_commit(&af);
        if (r == 0)
                m->changed = false;
        return r;
}
