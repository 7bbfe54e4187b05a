/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts/managed-users.h"
#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/macro.h"
#include "basic/mkdir-util.h"
#include "basic/path-util.h"
#include "basic/strv.h"
#include "basic/valid.h"

#define STATE_FILE_MAX (16u * 1024 * 1024)

int state_read_lines(const char *root, const char *dir, const char *file, char ***ret)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (path_join_root(root, dir, &path) < 0)
                return -ENOMEM;
        fd = open_dir_nofollow(AT_FDCWD, path, 0);
        if (fd < 0 && fd != -ENOENT)
                return fd;
        if (fd >= 0 && (r = read_file_bounded(fd, file, STATE_FILE_MAX, &data, NULL)) < 0 && r != -ENOENT)
                return r;
        *ret = strv_split(data ?: "", "\n");
        return *ret ? 0 : -ENOMEM;
}

int state_write_lines(const char *root, const char *dir, const char *file, char **lines)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_atomic_file_ struct atomic_file af = {};
        int r;

        if (path_join_root(root, dir, &path) < 0)
                return -ENOMEM;
        fd = mkdir_p_open(AT_FDCWD, path, 0755, 0755);
        if (fd < 0)
                return fd;
        if ((r = atomic_file_begin(fd, file, 0644, 0, 0, &af)) < 0)
                return r;
        for (char **l = lines; l && *l; l++)
                fprintf(af.f, "%s\n", *l);
        return atomic_file_commit(&af);
}

/* Index values: 1 present, 0 removed (strmap has no removal). */
bool managed_users_has(const struct managed_users *m, const char *name)
{
        size_t v;
        return strmap_get(&m->names_index, name, &v) && v;
}

bool managed_users_created(const struct managed_users *m, const char *name)
{
        size_t v;
        return strmap_get(&m->created_index, name, &v) && v;
}

/* strv_extend() without the length scan: a pass adds every user. */
static int append(char ***l, size_t *n, const char *s)
{
        char *copy = strdup(s);
        if (!copy || GROW_ARRAY(*l, NULL, *n + 2) < 0) {
                free(copy);
                return -ENOMEM;
        }
        (*l)[(*n)++] = copy;
        (*l)[*n] = NULL;
        return 0;
}

int managed_users_add(struct managed_users *m, const char *name, bool created)
{
        if (!managed_users_has(m, name)) {
                if (append(&m->names, &m->n_names, name) < 0 || strmap_put(&m->names_index, name, 1) < 0)
                        return -ENOMEM;
                m->changed = true;
        }
        if (created && !managed_users_created(m, name)) {
                if (append(&m->created, &m->n_created, name) < 0 ||
                        strmap_put(&m->created_index, name, 1) < 0)
                        return -ENOMEM;
                m->changed = true;
        }
        return 0;
}

static bool strv_remove(char **l, const char *s)
{
        for (char **p = l; p && *p; p++)
                if (streq(*p, s)) {
                        free(*p);
                        memmove(p, p + 1, (strv_length(p + 1) + 1) * sizeof(char *));
                        return true;
                }
        return false;
}

void managed_users_remove(struct managed_users *m, const char *name)
{
        bool removed = false;
        if (strv_remove(m->names, name)) {
                m->n_names--;
                removed = true;
        }
        if (strv_remove(m->created, name)) {
                m->n_created--;
                removed = true;
        }
        if (!removed)
                return;
        m->changed = true;
        if (strmap_put(&m->names_index, name, 0) < 0 || strmap_put(&m->created_index, name, 0) < 0) {
                /* Cannot fail for a key already present; be safe anyway. */
                strmap_done(&m->names_index);
                strmap_done(&m->created_index);
                for (char **n = m->names; *n; n++)
                        (void)strmap_put(&m->names_index, *n, 1);
                for (char **n = m->created; *n; n++)
                        (void)strmap_put(&m->created_index, *n, 1);
        }
}

static const char *records_get(const struct state_records *r, const char *key)
{
        size_t pos;
        return strmap_get(&r->index, key, &pos) && pos ? r->lines[pos - 1] : NULL;
}

/* Sets the line of KEY (replacing it, or appending). */
static int records_set(struct state_records *r, const char *key, const char *line)
{
        size_t pos;
        char *copy = strdup(line);
        if (!copy)
                return -ENOMEM;
        if (strmap_get(&r->index, key, &pos) && pos) {
                free(r->lines[pos - 1]);
                r->lines[pos - 1] = copy;
                return 0;
        }
        if (GROW_ARRAY(r->lines, NULL, r->n + 2) < 0) {
                free(copy);
                return -ENOMEM;
        }
        r->lines[r->n++] = copy;
        r->lines[r->n] = NULL;
        return strmap_put(&r->index, key, r->n);
}

static void records_forget(struct state_records *r, const char *key)
{
        size_t pos;
        char *empty;
        if (!strmap_get(&r->index, key, &pos) || !pos || !(empty = strdup("")))
                return;
        free(r->lines[pos - 1]);
        r->lines[pos - 1] = empty;
        (void)strmap_put(&r->index, key, 0); /* present already: cannot fail */
}

static void records_done(struct state_records *r)
{
        strv_free(r->lines);
        strmap_done(&r->index);
        *r = (struct state_records){};
}

/* "NAME GROUP": both valid names, or the line is skipped (never trusted). */
static bool parse_given(const char *line)
{
        _cleanup_free_ char *name = strndup(line, strcspn(line, " "));
        const char *group = strchr(line, ' ');
        return name && group && valid_user_name(name) && valid_user_name(group + 1);
}

/* "NAME DAYS": DAYS -1 or a day count. */
static bool parse_expired(const char *line, char **ret_name, long *ret_days)
{
        _cleanup_free_ char *name = strndup(line, strcspn(line, " "));
        const char *days = strchr(line, ' ');
        char *end;
        if (!name || !days || !valid_user_name(name))
                return false;
        errno = 0;
        long v = strtol(days + 1, &end, 10);
        if (errno || end == days + 1 || *end || v < -1)
                return false;
        if (ret_days)
                *ret_days = v;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return true;
}

static int load_records(struct managed_users *m, const char *root)
{
        _cleanup_strv_free_ char **given = NULL, **expired = NULL;
        int r;

        if ((r = state_read_lines(root, OSLOGIN_STATE_DIR, "groups", &given)) < 0 ||
                (r = state_read_lines(root, OSLOGIN_STATE_DIR, "expired", &expired)) < 0)
                return r;
        for (char **l = given; *l; l++)
                if (parse_given(*l) && !records_get(&m->given, *l) &&
                        (r = records_set(&m->given, *l, *l)) < 0)
                        return r;
        for (char **l = expired; *l; l++) {
                _cleanup_free_ char *name = NULL;
                if (parse_expired(*l, &name, NULL) && (r = records_set(&m->expired, name, *l)) < 0)
                        return r;
        }
        return 0;
}

int managed_users_give(struct managed_users *m, const char *name, const char *group)
{
        _cleanup_free_ char *key = NULL;
        if (asprintf(&key, "%s %s", name, group) < 0)
                return -ENOMEM;
        if (records_get(&m->given, key))
                return 0;
        m->changed = true;
        return records_set(&m->given, key, key);
}

static bool given_to(const char *line, const char *name, size_t n)
{
        return strncmp(line, name, n) == 0 && line[n] == ' ';
}

int managed_users_list_given(const struct managed_users *m, const char *name, char ***ret)
{
        _cleanup_strv_free_ char **groups = calloc(1, sizeof(char *));
        size_t n = strlen(name);
        if (!groups)
                return -ENOMEM;
        for (size_t i = 0; i < m->given.n; i++)
                if (given_to(m->given.lines[i], name, n) &&
                        strv_extend(&groups, m->given.lines[i] + n + 1) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(groups);
        return 0;
}

void managed_users_forget_given(struct managed_users *m, const char *name)
{
        size_t n = strlen(name);
        for (size_t i = 0; i < m->given.n; i++)
                if (given_to(m->given.lines[i], name, n)) {
                        _cleanup_free_ char *key = strdup(m->given.lines[i]);
                        if (key)
                                records_forget(&m->given, key);
                        m->changed = true;
                }
}

bool managed_users_expired(const struct managed_users *m, const char *name, long *ret_previous)
{
        const char *line = records_get(&m->expired, name);
        return line && parse_expired(line, NULL, ret_previous);
}

int managed_users_set_expired(struct managed_users *m, const char *name, long previous)
{
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s %ld", name, previous < 0 ? -1L : previous) < 0)
                return -ENOMEM;
        m->changed = true;
        return records_set(&m->expired, name, line);
}

void managed_users_forget_expired(struct managed_users *m, const char *name)
{
        if (!records_get(&m->expired, name))
                return;
        records_forget(&m->expired, name);
        m->changed = true;
}

int managed_users_list_expired(const struct managed_users *m, char ***ret)
{
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < m->expired.n; i++) {
                _cleanup_free_ char *name = NULL;
                if (parse_expired(m->expired.lines[i], &name, NULL) && strv_extend(&names, name) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

/* Only the live lines of R (a new strv). */
static char **records_lines(const struct state_records *r)
{
        char **lines = calloc(1, sizeof(char *));
        for (size_t i = 0; lines && i < r->n; i++)
                if (!isempty(r->lines[i]) && strv_extend(&lines, r->lines[i]) < 0) {
                        strv_free(lines);
                        return NULL;
                }
        return lines;
}

int managed_users_load(const char *root, struct managed_users *ret)
{
        _cleanup_strv_free_ char **ours = NULL, **reference = NULL;
        struct managed_users m = {.names = calloc(1, sizeof(char *)), .created = calloc(1, sizeof(char *))};
        int r;

        if (!m.names || !m.created)
                goto oom;
        if ((r = state_read_lines(root, OSLOGIN_STATE_DIR, "users", &ours)) < 0 ||
                (r = state_read_lines(
                         root, OSLOGIN_LOCALSTATEDIR "/lib/google", "google_users", &reference)) < 0) {
                managed_users_done(&m);
                return r;
        }
        for (char **l = ours; *l; l++) {
                char *space = strchr(*l, ' ');
                if (space)
                        *space = '\0';
                /* A damaged line is skipped, never trusted. */
                if (!valid_user_name(*l) || managed_users_has(&m, *l))
                        continue;
                if (managed_users_add(&m, *l, space && streq(space + 1, "created")) < 0)
                        goto oom;
        }
        for (char **l = reference; *l; l++)
                if (valid_user_name(*l) && !managed_users_has(&m, *l) && managed_users_add(&m, *l, true) < 0)
                        goto oom;
        if ((r = load_records(&m, root)) < 0) {
                managed_users_done(&m);
                return r;
        }
        /* Only a difference between the two files needs a write. */
        m.changed =
                strv_length(reference) != strv_length(m.names) || strv_length(ours) != strv_length(m.names);
        *ret = m;
        return 0;
oom:
        managed_users_done(&m);
        return -ENOMEM;
}

void managed_users_done(struct managed_users *m)
{
        strv_free(m->names);
        strv_free(m->created);
        strmap_done(&m->names_index);
        strmap_done(&m->created_index);
        records_done(&m->given);
        records_done(&m->expired);
        *m = (struct managed_users){};
}

int managed_users_save(const char *root, struct managed_users *m)
{
        _cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
        int r;

        if (!m->changed)
                return 0;
        if (!lines)
                return -ENOMEM;
        for (char **n = m->names; *n; n++) {
                _cleanup_free_ char *line = NULL;
                if (asprintf(&line, "%s %s", *n, managed_users_created(m, *n) ? "created" : "existing") <
                                0 ||
                        strv_extend(&lines, line) < 0)
                        return -ENOMEM;
        }
        _cleanup_strv_free_ char **given = records_lines(&m->given), **expired = records_lines(&m->expired);
        if (!given || !expired)
                return -ENOMEM;
        /* The undo records first: a crash before the users file still
         * finds what to take back. */
        if ((r = state_write_lines(root, OSLOGIN_STATE_DIR, "groups", given)) < 0 ||
                (r = state_write_lines(root, OSLOGIN_STATE_DIR, "expired", expired)) < 0 ||
                (r = state_write_lines(root, OSLOGIN_STATE_DIR, "users", lines)) < 0 ||
                (r = state_write_lines(
                         root, OSLOGIN_LOCALSTATEDIR "/lib/google", "google_users", m->names)) < 0)
                return r;
        m->changed = false;
        return 0;
}
