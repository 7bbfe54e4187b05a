/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <gshadow.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "accounts/etc-db.h"
#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/hash.h"
#include "basic/path-util.h"
#include "basic/strmap.h"
#include "basic/strv.h"

#include "accounts/etc-db-internal.h"

const char *const etc_file_names[_ETC_FILE_MAX] = {"passwd", "shadow", "group", "gshadow"};

void etc_db_free(struct etc_db *db)
{
        if (!db)
                return;
        for (int i = 0; i < _ETC_FILE_MAX; i++) {
                free(db->files[i].index);
                strv_free(db->files[i].lines);
                free(db->files[i].original);
        }
        safe_close(db->etc_fd);
        etc_db_member_caches_clear(db);
        u32set_done(&db->uids);
        u32set_done(&db->gids);
        free(db->root);
        free(db);
}

static int load_file(struct etc_db *db, enum etc_file which)
{
        struct etc_file_state *f = &db->files[which];
        char *data = NULL;
        int r;

        r = read_file_bounded(
                db->etc_fd, etc_file_names[which], ETC_FILE_MAX_SIZE, &data, &f->original_size);
        if (r == -ENOENT) {
                f->lines = calloc(1, sizeof(char *));
                f->st.st_mode = which == ETC_SHADOW || which == ETC_GSHADOW ? 0640 : 0644;
                return f->lines ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        f->exists = true;
        f->original = data;
        if (fstatat(db->etc_fd, etc_file_names[which], &f->st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* Split on '\n' keeping empty lines, so untouched content round-trips. */
        size_t lines = 2;
        for (const char *p = data; (p = strchr(p, '\n')); p++)
                lines++;
        f->lines = calloc(lines + 1, sizeof(char *));
        if (!f->lines)
                return -ENOMEM;
        for (char *p = data; *p;) {
                char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                f->lines[f->n] = strndup(p, len);
                if (!f->lines[f->n])
                        return -ENOMEM;
                f->n++;
                p += len + (nl ? 1 : 0);
        }
        /* A final newline is an empty last line, so it survives a rewrite. */
        if (f->original_size > 0 && data[f->original_size - 1] == '\n') {
                if (strv_extend(&f->lines, "") < 0)
                        return -ENOMEM;
                f->n++;
        }
        return 0;
}

static int index_ids(struct etc_db *db);

int etc_db_load(const char *root, struct etc_db **ret)
{
        _cleanup_(etc_db_freep) struct etc_db *db = calloc(1, sizeof(*db));
        _cleanup_free_ char *etc = NULL;
        int r;

        if (!db)
                return -ENOMEM;
        db->etc_fd = -EBADF;
        db->root = strdup(isempty(root) ? "/" : root);
        if (!db->root || path_join_root(db->root, "/etc", &etc) < 0)
                return -ENOMEM;
        db->etc_fd = open_dir_nofollow(AT_FDCWD, etc, 0);
        if (db->etc_fd < 0)
                return db->etc_fd;
        for (int i = 0; i < _ETC_FILE_MAX; i++)
                if ((r = load_file(db, (enum etc_file)i)) < 0)
                        return r;
        if ((r = index_ids(db)) < 0)
                return r;
        db->stale_temps = etc_db_find_stale_temps(db->etc_fd, false);
        *ret = TAKE_PTR(db);
        return 0;
}

bool etc_db_changed(const struct etc_db *db)
{
        for (int i = 0; i < _ETC_FILE_MAX; i++)
                if (db->files[i].changed)
                        return true;
        return false;
}

char *etc_line_field(const char *line, unsigned n)
{
        const char *p = line;
        for (unsigned i = 0; i < n; i++) {
                p = strchr(p, ':');
                if (!p)
                        return NULL;
                p++;
        }
        return strndup(p, strcspn(p, ":"));
}

static bool name_is(const char *line, const char *name)
{
        size_t n = strlen(name);
        return strncmp(line, name, n) == 0 && line[n] == ':';
}

static void index_rebuild(struct etc_file_state *f)
{
        size_t size = 64;
        while (size < f->n * 2 + 2)
                size *= 2;
        uint32_t *slots = calloc(size, sizeof(uint32_t));
        free(f->index);
        f->index = slots;
        f->index_size = slots ? size : 0;
        f->index_valid = slots != NULL;
        for (size_t i = 0; slots && i < f->n; i++) {
                size_t len = strcspn(f->lines[i], ":");
                if (len == 0 || !f->lines[i][len])
                        continue;
                size_t k = fnv1a32(f->lines[i], len) & (size - 1);
                while (slots[k])
                        k = (k + 1) & (size - 1);
                slots[k] = (uint32_t)i + 1;
        }
}

ssize_t etc_db_find(const struct etc_db *db, enum etc_file which, const char *name)
{
        struct etc_file_state *f = (struct etc_file_state *)&db->files[which];
        size_t len = strlen(name);

        if (!f->index_valid)
                index_rebuild(f);
        if (!f->index_valid) { /* out of memory: scan */
                for (size_t i = 0; i < f->n; i++)
                        if (name_is(f->lines[i], name))
                                return (ssize_t)i;
                return -1;
        }
        ssize_t found = -1;
        for (size_t k = fnv1a32(name, len) & (f->index_size - 1); f->index[k];
                k = (k + 1) & (f->index_size - 1))
                if (name_is(f->lines[f->index[k] - 1], name) &&
                        (found < 0 || f->index[k] - 1 < (size_t)found))
                        found = (ssize_t)f->index[k] - 1;
        return found;
}

static int parse_id(const char *line, unsigned n, uint32_t *ret)
{
        _cleanup_free_ char *s = etc_line_field(line, n);
        char *end;
        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

int etc_db_get_user(
        const struct etc_db *db, const char *name, uid_t *ret_uid, gid_t *ret_gid, char **ret_home)
{
        ssize_t i = etc_db_find(db, ETC_PASSWD, name);
        uint32_t uid, gid;
        if (i < 0)
                return -ENOENT;
        const char *line = db->files[ETC_PASSWD].lines[i];
        if (parse_id(line, 2, &uid) < 0 || parse_id(line, 3, &gid) < 0)
                return -EINVAL;
        if (ret_home && !(*ret_home = etc_line_field(line, 5)))
                return -ENOMEM;
        if (ret_uid)
                *ret_uid = uid;
        if (ret_gid)
                *ret_gid = gid;
        return 0;
}

int etc_db_get_group(const struct etc_db *db, const char *name, gid_t *ret_gid)
{
        ssize_t i = etc_db_find(db, ETC_GROUP, name);
        uint32_t gid;
        if (i < 0)
                return -ENOENT;
        if (parse_id(db->files[ETC_GROUP].lines[i], 2, &gid) < 0)
                return -EINVAL;
        if (ret_gid)
                *ret_gid = gid;
        return 0;
}

static int index_ids(struct etc_db *db)
{
        uint32_t v;
        int r;
        for (size_t i = 0; i < db->files[ETC_PASSWD].n; i++)
                if (parse_id(db->files[ETC_PASSWD].lines[i], 2, &v) == 0 &&
                        (r = u32set_add(&db->uids, v)) < 0)
                        return r;
        for (size_t i = 0; i < db->files[ETC_GROUP].n; i++)
                if (parse_id(db->files[ETC_GROUP].lines[i], 2, &v) == 0 &&
                        (r = u32set_add(&db->gids, v)) < 0)
                        return r;
        return 0;
}

/* Conservative: an id stays "used" after its entry is removed in this transaction. */
bool etc_db_uid_used(const struct etc_db *db, uid_t uid)
{
        return u32set_contains(&db->uids, uid);
}

bool etc_db_gid_used(const struct etc_db *db, gid_t gid)
{
        return u32set_contains(&db->gids, gid);
}

static int append_line(struct etc_db *db, enum etc_file which, char *line /* owned */)
{
        struct etc_file_state *f = &db->files[which];
        /* Keep a trailing empty "line" (file ending in '\n') last. */
        bool trailing_empty = f->n > 0 && isempty(f->lines[f->n - 1]);
        if (!line) /* the formatter ran out of memory */
                return -ENOMEM;
        int r = strv_extend(&f->lines, line);
        if (r < 0) {
                free(line);
                return r;
        }
        free(line);
        f->n++;
        if (trailing_empty) {
                char *tmp = f->lines[f->n - 1];
                f->lines[f->n - 1] = f->lines[f->n - 2];
                f->lines[f->n - 2] = tmp;
        } else if (f->n == 1 || !isempty(f->lines[f->n - 1])) {
                if ((r = strv_extend(&f->lines, "")) < 0)
                        return r;
                f->n++;
        }
        f->changed = true;
        f->index_valid = false;
        return 0;
}

static void remove_line(struct etc_db *db, enum etc_file which, size_t i)
{
        struct etc_file_state *f = &db->files[which];
        free(f->lines[i]);
        memmove(f->lines + i, f->lines + i + 1, (f->n - i) * sizeof(char *));
        f->n--;
        f->changed = true;
        f->index_valid = false;
}

/* Drops every NAME line of WHICH. A shadow or gshadow line without its
 * passwd or group line (a userdel or groupdel that died half way, a hand
 * edit, a leftover in an image) still holds a password hash, or a group
 * password with its admins and members: a new entry of that name must start
 * from a fresh line, never inherit those. */
static void remove_entries(struct etc_db *db, enum etc_file which, const char *name)
{
        for (ssize_t i; (i = etc_db_find(db, which, name)) >= 0;)
                remove_line(db, which, (size_t)i);
}

/* Formats an entry with glibc's writer, without the newline. */
static char *format_entry(int (*put)(const void *, FILE *), const void *entry)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        int r = put(entry, f);
        fclose(f);
        if (r != 0 || !buf) {
                free(buf);
                return NULL;
        }
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

static int put_passwd(const void *e, FILE *f)
{
        return putpwent(e, f);
}
static int put_shadow(const void *e, FILE *f)
{
        return putspent(e, f);
}
static int put_group(const void *e, FILE *f)
{
        return putgrent(e, f);
}
static int put_gshadow(const void *e, FILE *f)
{
        return putsgent(e, f);
}

int etc_db_add_user(struct etc_db *db, const char *name, uid_t uid, gid_t gid, const char *gecos,
        const char *home, const char *shell)
{
        struct passwd pw = {.pw_name = (char *)name,
                .pw_passwd = (char *)"x",
                .pw_uid = uid,
                .pw_gid = gid,
                .pw_gecos = (char *)(gecos ?: ""),
                .pw_dir = (char *)home,
                .pw_shell = (char *)shell};
        struct spwd sp = {.sp_namp = (char *)name,
                .sp_pwdp = (char *)"*",
                .sp_lstchg = (long)(time(NULL) / 86400),
                .sp_min = 0,
                .sp_max = 99999,
                .sp_warn = 7,
                .sp_inact = -1,
                .sp_expire = -1,
                .sp_flag = ~0ul};
        int r;

        if (etc_db_find(db, ETC_PASSWD, name) >= 0)
                return -EEXIST;
        if ((r = append_line(db, ETC_PASSWD, format_entry(put_passwd, &pw))) < 0 ||
                (r = u32set_add(&db->uids, uid)) < 0)
                return r;
        remove_entries(db, ETC_SHADOW, name);
        if ((r = append_line(db, ETC_SHADOW, format_entry(put_shadow, &sp))) < 0)
                return r;
        if (etc_db_find(db, ETC_GROUP, name) < 0)
                return etc_db_add_group(db, name, gid);
        return 0;
}

int etc_db_add_group(struct etc_db *db, const char *name, gid_t gid)
{
        char *no_members[] = {NULL};
        struct group gr = {
                .gr_name = (char *)name, .gr_passwd = (char *)"x", .gr_gid = gid, .gr_mem = no_members};
        struct sgrp sg = {.sg_namp = (char *)name,
                .sg_passwd = (char *)"!",
                .sg_adm = no_members,
                .sg_mem = no_members};
        int r;

        if (etc_db_find(db, ETC_GROUP, name) >= 0)
                return -EEXIST;
        if ((r = append_line(db, ETC_GROUP, format_entry(put_group, &gr))) < 0 ||
                (r = u32set_add(&db->gids, gid)) < 0)
                return r;
        /* No gshadow on this system: do not start one. */
        if (!db->files[ETC_GSHADOW].exists)
                return 0;
        remove_entries(db, ETC_GSHADOW, name);
        return append_line(db, ETC_GSHADOW, format_entry(put_gshadow, &sg));
}

/* NAME's shadow line parsed by glibc (strings in *RET_BUF); its index. */
static ssize_t parse_shadow(const struct etc_db *db, const char *name, struct spwd *ret, char **ret_buf)
{
        ssize_t i = etc_db_find(db, ETC_SHADOW, name);
        struct spwd *result = NULL;
        if (i < 0)
                return -ENOENT;
        const char *line = db->files[ETC_SHADOW].lines[i];
        size_t size = strlen(line) + 1;
        _cleanup_free_ char *buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        if (sgetspent_r(line, ret, buf, size, &result) != 0 || !result)
                return -EINVAL;
        *ret_buf = TAKE_PTR(buf);
        return i;
}

int etc_db_get_expire(const struct etc_db *db, const char *name, long *ret_days)
{
        _cleanup_free_ char *buf = NULL;
        struct spwd sp;
        ssize_t i = parse_shadow(db, name, &sp, &buf);
        if (i < 0)
                return (int)i;
        *ret_days = sp.sp_expire < 0 ? -1 : sp.sp_expire;
        return 0;
}

int etc_db_set_expire(struct etc_db *db, const char *name, long days)
{
        _cleanup_free_ char *buf = NULL;
        struct spwd sp;
        ssize_t i = parse_shadow(db, name, &sp, &buf);
        if (i < 0)
                return (int)i;
        if (days < 0)
                days = -1;
        if (sp.sp_expire == days)
                return 0;
        sp.sp_expire = days;
        char *line = format_entry(put_shadow, &sp);
        if (!line)
                return -ENOMEM;
        free(db->files[ETC_SHADOW].lines[i]);
        db->files[ETC_SHADOW].lines[i] = line; /* same name: the index stays valid */
        db->files[ETC_SHADOW].changed = true;
        return 1;
}

int etc_db_remove_user(struct etc_db *db, const char *name)
{
        ssize_t i;

        etc_db_members_drop_user(db, name);
        if ((i = etc_db_find(db, ETC_PASSWD, name)) >= 0)
                remove_line(db, ETC_PASSWD, (size_t)i);
        if ((i = etc_db_find(db, ETC_SHADOW, name)) >= 0)
                remove_line(db, ETC_SHADOW, (size_t)i);
        /* Its private group goes too, once nobody else is in it. */
        if ((i = etc_db_find(db, ETC_GROUP, name)) >= 0) {
                _cleanup_free_ char *members = etc_line_field(db->files[ETC_GROUP].lines[i], 3);
                if (isempty(members)) {
                        remove_line(db, ETC_GROUP, (size_t)i);
                        if ((i = etc_db_find(db, ETC_GSHADOW, name)) >= 0)
                                remove_line(db, ETC_GSHADOW, (size_t)i);
                }
        }
        return 0;
}
