/* SPDX-License-Identifier: Apache-2.0 */
/* The rules:
 * - a user in the effective keys gets an account (created if missing, with
 *   a UID from the persistent map, or the owner of a surviving home, or the
 *   first free one), membership in google-sudoers and the configured groups
 *   that exist, a home from /etc/skel and its keys in authorized_keys;
 * - root and existing system accounts (UID below uid_min) are refused;
 * - a managed user whose keys left metadata loses its managed keys and
 *   sudo; its account is deleted only with deprovision_remove and only if
 *   we (or the reference agent) created it;
 * - state: ROOT/var/lib/oslogin/users ("NAME created|existing") and the
 *   reference's ROOT/var/lib/google/google_users, read and kept in sync. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "accountsd/etc-db.h"
#include "accountsd/home.h"
#include "accountsd/keys-reconcile.h"
#include "accountsd/uid-map.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/strmap.h"
#include "basic/strv.h"
#include "basic/valid.h"

struct managed {
        char **names;
        char **created; /* the subset of names we created */
        struct strmap names_index, created_index;
};

static bool managed_has(const struct managed *m, const char *name)
{
        return strmap_get(&m->names_index, name, NULL);
}

static bool managed_created(const struct managed *m, const char *name)
{
        return strmap_get(&m->created_index, name, NULL);
}

static int managed_add(struct managed *m, const char *name, bool created)
{
        if (!managed_has(m, name) &&
            (strv_extend(&m->names, name) < 0 || strmap_put(&m->names_index, name, 1) < 0))
                return -ENOMEM;
        if (created && !managed_created(m, name) &&
            (strv_extend(&m->created, name) < 0 || strmap_put(&m->created_index, name, 1) < 0))
                return -ENOMEM;
        return 0;
}

struct wanted_user {
        const char *name;
        char **keylines;
};

static const char *root_prefix(const char *root)
{
        return isempty(root) || streq(root, "/") ? "" : root;
}

static int read_lines(const char *root, const char *dir, const char *file, char ***ret)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&path, "%s%s", root_prefix(root), dir) < 0)
                return -ENOMEM;
        fd = open_dir_nofollow(AT_FDCWD, path, 0);
        if (fd >= 0 && (r = read_file_bounded(fd, file, 16 * 1024 * 1024, &data, NULL)) < 0 && r != -ENOENT)
                return r;
        *ret = strv_split(data ?: "", "\n");
        return *ret ? 0 : -ENOMEM;
}

static int write_lines(const char *root, const char *dir, const char *file, char **lines, const char *suffix)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_atomic_file_ struct atomic_file af = {};
        int r;

        if (asprintf(&path, "%s%s", root_prefix(root), dir) < 0)
                return -ENOMEM;
        for (char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
                if (p)
                        *p = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (!p)
                        break;
                *p = '/';
        }
        fd = open_dir_nofollow(AT_FDCWD, path, 0);
        if (fd < 0)
                return fd;
        if ((r = atomic_file_begin(fd, file, 0644, 0, 0, &af)) < 0)
                return r;
        for (char **l = lines; l && *l; l++)
                fprintf(af.f, "%s%s\n", *l, suffix ? suffix : "");
        return atomic_file_commit(&af);
}

static int load_managed(const char *root, struct managed *m)
{
        _cleanup_strv_free_ char **ours = NULL, **reference = NULL;
        int r;

        if ((r = read_lines(root, OSLOGIN_LOCALSTATEDIR "/lib/oslogin", "users", &ours)) < 0 ||
            (r = read_lines(root, OSLOGIN_LOCALSTATEDIR "/lib/google", "google_users", &reference)) < 0)
                return r;
        m->names = calloc(1, sizeof(char *));
        m->created = calloc(1, sizeof(char *));
        if (!m->names || !m->created)
                return -ENOMEM;
        for (char **l = ours; *l; l++) {
                char *space = strchr(*l, ' ');
                if (space)
                        *space = '\0';
                if (!valid_user_name(*l) || managed_has(m, *l))
                        continue;
                if (managed_add(m, *l, space && streq(space + 1, "created")) < 0)
                        return -ENOMEM;
        }
        /* Users of the reference agent were created by it: ours to manage and remove. */
        for (char **l = reference; *l; l++)
                if (valid_user_name(*l) && !managed_has(m, *l) && managed_add(m, *l, true) < 0)
                        return -ENOMEM;
        return 0;
}

static int save_managed(const char *root, const struct managed *m)
{
        _cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
        int r;

        if (!lines)
                return -ENOMEM;
        for (char **n = m->names; *n; n++) {
                _cleanup_free_ char *line = NULL;
                if (asprintf(&line, "%s %s", *n, managed_created(m, *n) ? "created" : "existing") < 0 ||
                    strv_extend(&lines, line) < 0)
                        return -ENOMEM;
        }
        if ((r = write_lines(root, OSLOGIN_LOCALSTATEDIR "/lib/oslogin", "users", lines, NULL)) < 0)
                return r;
        return write_lines(root, OSLOGIN_LOCALSTATEDIR "/lib/google", "google_users", m->names, NULL);
}

static void strv_remove(char **l, const char *s)
{
        for (char **p = l; p && *p; p++)
                if (streq(*p, s)) {
                        free(*p);
                        memmove(p, p + 1, strv_length(p + 1) * sizeof(char *) + sizeof(char *));
                        return;
                }
}

/* OpenSSH enforces expiry-time itself, so an expired key stops working even
 * if this daemon is not running when it expires. */
static int keyline_with_expiry(const struct ssh_key_line *k, char **ret)
{
        char when[32];
        if (!k->expire_usec) {
                *ret = strdup(k->keyline);
                return *ret ? 0 : -ENOMEM;
        }
        time_t t = (time_t)(k->expire_usec / 1000000u);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y%m%d%H%M%SZ", &tm);
        bool has_options = !ssh_key_type_known(k->type) || !strneq(k->keyline, k->type, strlen(k->type));
        return asprintf(ret, "expiry-time=\"%s\"%s%s", when, has_options ? "," : " ", k->keyline) < 0 ? -ENOMEM : 0;
}

static int collect_wanted(const struct ssh_key_set *keys, struct wanted_user **ret, size_t *ret_n,
                          uint64_t *next_expiry)
{
        struct wanted_user *w = NULL;
        struct strmap index = {};
        size_t n = 0;

        for (size_t i = 0; i < keys->n_keys; i++) {
                const struct ssh_key_line *k = &keys->keys[i];
                size_t j;
                if (!strmap_get(&index, k->user, &j)) {
                        j = n;
                        if (strmap_put(&index, k->user, j) < 0)
                                goto oom;
                        struct wanted_user *p = realloc(w, (n + 1) * sizeof(*w));
                        if (!p)
                                goto oom;
                        w = p;
                        w[n++] = (struct wanted_user){.name = k->user, .keylines = calloc(1, sizeof(char *))};
                        if (!w[j].keylines)
                                goto oom;
                }
                _cleanup_free_ char *line = NULL;
                if (keyline_with_expiry(k, &line) < 0 || strv_extend(&w[j].keylines, line) < 0)
                        goto oom;
                if (k->expire_usec && (!*next_expiry || k->expire_usec < *next_expiry))
                        *next_expiry = k->expire_usec;
        }
        strmap_done(&index);
        *ret = w;
        *ret_n = n;
        return 0;
oom:
        strmap_done(&index);
        for (size_t j = 0; j < n; j++)
                strv_free(w[j].keylines);
        free(w);
        return -ENOMEM;
}

static int owner_of_home(const char *root, const char *home, uid_t *ret)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s%s", root_prefix(root), home) < 0)
                return -ENOMEM;
        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return -ENOENT;
        *ret = st.st_uid;
        return 0;
}

/* Same user, same UID: the map first, then a surviving home's owner, then
 * the first UID free everywhere (passwd, group, the map). */
struct home_owner {
        char *dir;
        uid_t uid;
};

/* Owners of the directories under HOME_BASE, read once per reconcile. */
static struct home_owner *scan_homes(const struct reconcile_options *o)
{
        _cleanup_free_ char *path = NULL;
        struct home_owner *h = calloc(1, sizeof(*h));
        size_t n = 0;
        if (!h || asprintf(&path, "%s%s", root_prefix(o->root), o->home_base) < 0)
                return h;
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
                struct stat st;
                if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode))
                        continue;
                struct home_owner *p = realloc(h, (n + 2) * sizeof(*h));
                if (!p)
                        break;
                h = p;
                h[n] = (struct home_owner){.dir = strdup(e->d_name), .uid = st.st_uid};
                h[++n] = (struct home_owner){};
                if (!h[n - 1].dir)
                        break;
        }
        if (d)
                closedir(d);
        return h;
}

static void free_homes(struct home_owner *h)
{
        for (struct home_owner *p = h; p && p->dir; p++)
                free(p->dir);
        free(h);
}

static bool uid_owns_other_home(const struct home_owner *h, uid_t uid, const char *name)
{
        for (; h && h->dir; h++)
                if (h->uid == uid && !streq(h->dir, name))
                        return true;
        return false;
}

static int allocate_uid(const struct reconcile_options *o, struct etc_db *db, struct uid_map *map,
                        const struct home_owner *homes, const char *name, const char *home, uid_t *ret)
{
        uid_t uid;
        if (uid_map_get(map, name, &uid) == 0 && !etc_db_uid_used(db, uid) && !etc_db_gid_used(db, uid)) {
                *ret = uid;
                return 0;
        }
        if (owner_of_home(o->root, home, &uid) == 0 && uid >= o->uid_min && uid <= o->uid_max &&
            !etc_db_uid_used(db, uid) && !etc_db_gid_used(db, uid) && !uid_map_taken(map, uid, name)) {
                *ret = uid;
                return 0;
        }
        static uid_t hint;
        if (hint < o->uid_min || hint > o->uid_max)
                hint = o->uid_min;
        for (uid = hint; uid <= o->uid_max; uid++)
                if (!etc_db_uid_used(db, uid) && !etc_db_gid_used(db, uid) && !uid_map_taken(map, uid, name)) {
                        if (uid_owns_other_home(homes, uid, name))
                                continue;
                        hint = uid + 1;
                        *ret = uid;
                        return 0;
                }
        hint = o->uid_min;
        return -ENOSPC;
}

static int ensure_sudo_group(struct etc_db *db)
{
        if (etc_db_get_group(db, GOOGLE_SUDOERS_GROUP, NULL) == 0)
                return 0;
        for (gid_t gid = 999; gid >= 100; gid--)
                if (!etc_db_gid_used(db, gid))
                        return etc_db_add_group(db, GOOGLE_SUDOERS_GROUP, gid);
        return -ENOSPC;
}

static int ensure_sudoers_file(const char *root)
{
        static const char rule[] = "%" GOOGLE_SUDOERS_GROUP " ALL=(ALL:ALL) NOPASSWD:ALL\n";
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&dir, "%s/etc/sudoers.d", root_prefix(root)) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return -errno;
        fd = open_dir_nofollow(AT_FDCWD, dir, 0);
        if (fd < 0)
                return fd;
        if (faccessat(fd, "google_sudoers", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        return write_file_atomic(fd, "google_sudoers", rule, sizeof(rule) - 1, 0440, 0, 0);
}

static int provision(const struct reconcile_options *o, struct etc_db *db, struct uid_map *map,
                     struct home_owner **homes, struct managed *m, const struct wanted_user *w,
                     struct reconcile_result *res)
{
        _cleanup_free_ char *home = NULL;
        uid_t uid;
        gid_t gid;
        int r;

        if (etc_db_get_user(db, w->name, &uid, &gid, NULL) == 0) {
                if (uid < o->uid_min) {
                        log_warning("Refusing metadata keys for system account \"%s\" (UID %u).", w->name,
                                    (unsigned)uid);
                        res->refused++;
                        return 0;
                }
                if (managed_add(m, w->name, false) < 0)
                        return -ENOMEM;
        } else {
                if (asprintf(&home, "%s/%s", o->home_base, w->name) < 0)
                        return -ENOMEM;
                /* Who owns which home matters only when a UID is handed out. */
                if (!*homes)
                        *homes = scan_homes(o);
                r = allocate_uid(o, db, map, *homes, w->name, home, &uid);
                if (r == -ENOSPC) /* the hint may have skipped freed ids: one full pass */
                        r = allocate_uid(o, db, map, *homes, w->name, home, &uid);
                if (r < 0)
                        return log_error_errno(r, "No free UID for \"%s\" in [%u, %u].", w->name, o->uid_min,
                                               o->uid_max);
                if ((r = etc_db_add_user(db, w->name, uid, uid, "", home, o->shell)) < 0)
                        return r;
                if (managed_add(m, w->name, true) < 0)
                        return -ENOMEM;
                log_info("Creating user \"%s\" (UID %u).", w->name, (unsigned)uid);
                res->created++;
        }
        if ((r = uid_map_set(map, w->name, uid)) < 0)
                return r;
        if ((r = ensure_sudo_group(db)) < 0 || (r = etc_db_set_member(db, GOOGLE_SUDOERS_GROUP, w->name, true)) < 0)
                return r;
        for (char **g = o->extra_groups; g && *g; g++)
                if (etc_db_get_group(db, *g, NULL) == 0 && (r = etc_db_set_member(db, *g, w->name, true)) < 0)
                        return r;
        return 0;
}

static int deprovision(const struct reconcile_options *o, struct etc_db *db, struct managed *m, const char *name,
                       struct reconcile_result *res)
{
        int r = etc_db_set_member(db, GOOGLE_SUDOERS_GROUP, name, false);
        if (r < 0 && r != -ENOENT)
                return r;
        if (o->deprovision_remove && managed_created(m, name)) {
                log_info("Removing user \"%s\" (its keys left metadata).", name);
                etc_db_remove_user(db, name);
                res->removed++;
        }
        return 0;
}

/* What each authorized_keys file held when we last wrote or checked it: an
 * unchanged reconcile then costs one lstat per user instead of a walk, a
 * read and a compare. Any change to the file (content, inode, a symlink in
 * its place) makes the stat differ and the file is checked again. */
struct keys_seen {
        char *name;
        uint64_t digest;
        uint64_t ino, size, mtime_ns;
};

struct keys_state {
        struct keys_seen *e;
        size_t n;
        struct strmap index; /* name -> position in e */
        bool changed;
};

static uint64_t digest_keys(char **keylines)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (char **k = keylines; k && *k; k++)
                for (const char *p = *k;; p++) {
                        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
                        if (!*p)
                                break;
                }
        return h;
}

static struct keys_seen *seen_find(struct keys_state *ks, const char *name)
{
        size_t i;
        return strmap_get(&ks->index, name, &i) && ks->e[i].name ? &ks->e[i] : NULL;
}

static int load_keys_state(const char *root, struct keys_state *ks)
{
        _cleanup_strv_free_ char **lines = NULL;
        int r = read_lines(root, OSLOGIN_LOCALSTATEDIR "/lib/oslogin", "keys", &lines);
        if (r < 0)
                return r;
        ks->e = calloc(strv_length(lines) + 1, sizeof(*ks->e));
        if (!ks->e)
                return -ENOMEM;
        for (char **l = lines; *l; l++) {
                char name[64];
                unsigned long long d, ino, size, mtime;
                if (sscanf(*l, "%63s %llx %llu %llu %llu", name, &d, &ino, &size, &mtime) != 5 || !valid_user_name(name))
                        continue;
                ks->e[ks->n] = (struct keys_seen){.name = strdup(name), .digest = d, .ino = ino, .size = size,
                                                  .mtime_ns = mtime};
                if (!ks->e[ks->n].name || strmap_put(&ks->index, name, ks->n) < 0)
                        return -ENOMEM;
                ks->n++;
        }
        return 0;
}

static int save_keys_state(const char *root, struct keys_state *ks)
{
        _cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
        if (!ks->changed)
                return 0;
        if (!lines)
                return -ENOMEM;
        for (size_t i = 0; i < ks->n; i++) {
                _cleanup_free_ char *line = NULL;
                if (!ks->e[i].name)
                        continue;
                if (asprintf(&line, "%s %llx %llu %llu %llu", ks->e[i].name, (unsigned long long)ks->e[i].digest,
                             (unsigned long long)ks->e[i].ino, (unsigned long long)ks->e[i].size,
                             (unsigned long long)ks->e[i].mtime_ns) < 0 ||
                    strv_extend(&lines, line) < 0)
                        return -ENOMEM;
        }
        return write_lines(root, OSLOGIN_LOCALSTATEDIR "/lib/oslogin", "keys", lines, NULL);
}

static void free_keys_state(struct keys_state *ks)
{
        strmap_done(&ks->index);
        for (size_t i = 0; i < ks->n; i++)
                free(ks->e[i].name);
        free(ks->e);
}

static bool stat_keys_file(const char *root, const char *home, struct stat *st)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s%s/.ssh/authorized_keys", root_prefix(root), home) < 0)
                return false;
        return lstat(path, st) == 0 && S_ISREG(st->st_mode);
}

static uint64_t mtime_ns(const struct stat *st)
{
        return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

static void remember_keys(struct keys_state *ks, const char *root, const char *name, const char *home,
                          char **keylines)
{
        struct keys_seen *e = seen_find(ks, name);
        struct stat st;

        if (!keylines || !stat_keys_file(root, home, &st)) {
                if (e) {
                        free(e->name);
                        e->name = NULL; /* dropped when saved */
                        ks->changed = true;
                }
                return;
        }
        if (!e) {
                struct keys_seen *p = realloc(ks->e, (ks->n + 1) * sizeof(*p));
                if (!p)
                        return;
                ks->e = p;
                e = &ks->e[ks->n];
                *e = (struct keys_seen){.name = strdup(name)};
                if (!e->name || strmap_put(&ks->index, name, ks->n) < 0)
                        return;
                ks->n++;
        }
        e->digest = digest_keys(keylines);
        e->ino = st.st_ino;
        e->size = (uint64_t)st.st_size;
        e->mtime_ns = mtime_ns(&st);
        ks->changed = true;
}

static bool keys_unchanged(struct keys_state *ks, const char *root, const char *name, const char *home,
                           char **keylines)
{
        struct keys_seen *e = seen_find(ks, name);
        struct stat st;
        return e && keylines && e->digest == digest_keys(keylines) && stat_keys_file(root, home, &st) &&
               e->ino == st.st_ino && e->size == (uint64_t)st.st_size && e->mtime_ns == mtime_ns(&st);
}

static void write_keys(const struct reconcile_options *o, struct etc_db *db, struct keys_state *ks, const char *name,
                       char **keylines, struct reconcile_result *res)
{
        _cleanup_free_ char *home = NULL;
        uid_t uid;
        gid_t gid;
        int r;

        if (etc_db_get_user(db, name, &uid, &gid, &home) < 0 || uid < o->uid_min)
                return;
        if (keys_unchanged(ks, o->root, name, home, keylines))
                return;
        if (keylines && (r = home_create(o->root, home, uid, gid)) < 0) {
                log_error_errno(r, "Cannot create home \"%s\" of \"%s\": %m", home, name);
                res->failed++;
                return;
        }
        r = home_write_authorized_keys(o->root, home, uid, gid, keylines);
        if (r == -ELOOP)
                log_error("Refusing to write keys of \"%s\": a symlink is in the way in \"%s\".", name, home);
        else if (r < 0 && !(r == -ENOENT && !keylines))
                log_error_errno(r, "Cannot write the keys of \"%s\": %m", name);
        if (r < 0 && !(r == -ENOENT && !keylines))
                res->failed++;
        else {
                if (r > 0)
                        res->keys_written++;
                remember_keys(ks, o->root, name, home, keylines);
        }
}

int keys_reconcile(const struct reconcile_options *o, const struct ssh_key_set *keys, struct reconcile_result *ret)
{
        _cleanup_(etc_db_freep) struct etc_db *db = NULL;
        _cleanup_(uid_map_freep) struct uid_map *map = NULL;
        _cleanup_strv_free_ char **gone = calloc(1, sizeof(char *));
        struct managed m = {};
        struct wanted_user *wanted = NULL;
        struct reconcile_result res = {};
        size_t n_wanted = 0;
        struct home_owner *homes = NULL;
        struct keys_state ks = {};
        struct strmap wanted_index = {};
        int r;

        if (!gone)
                return -ENOMEM;
        if ((r = etc_db_load(o->root, &db)) < 0 || (r = uid_map_load(o->root, &map)) < 0 ||
            (r = load_managed(o->root, &m)) < 0 || (r = load_keys_state(o->root, &ks)) < 0 || (r = collect_wanted(keys, &wanted, &n_wanted, &res.next_expiry_usec)) < 0)
                goto out;
        for (size_t i = 0; i < n_wanted; i++) {
                if (streq(wanted[i].name, "root")) {
                        res.refused++;
                        continue;
                }
                if ((r = provision(o, db, map, &homes, &m, &wanted[i], &res)) < 0) {
                        log_error_errno(r, "Cannot provision \"%s\": %m", wanted[i].name);
                        res.failed++;
                }
        }
        for (size_t i = 0; i < n_wanted; i++)
                if (strmap_put(&wanted_index, wanted[i].name, i) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
        for (char **n = m.names; *n; n++)
                if (!strmap_get(&wanted_index, *n, NULL) && strv_extend(&gone, *n) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
        for (char **n = gone; *n; n++)
                if ((r = deprovision(o, db, &m, *n, &res)) < 0)
                        goto out;
        if ((r = etc_db_commit(db)) < 0) {
                log_error_errno(r, "Cannot write the account files: %m");
                goto out;
        }
        /* Homes and keys only once the accounts they belong to are on disk. */
        for (size_t i = 0; i < n_wanted; i++)
                if (managed_has(&m, wanted[i].name))
                        write_keys(o, db, &ks, wanted[i].name, wanted[i].keylines, &res);
        for (char **n = gone; *n; n++) {
                write_keys(o, db, &ks, *n, NULL, &res);
                strv_remove(m.names, *n);
                strv_remove(m.created, *n);
        }
        if (n_wanted && (r = ensure_sudoers_file(o->root)) < 0)
                log_error_errno(r, "Cannot write /etc/sudoers.d/google_sudoers: %m");
        if ((r = uid_map_save(map)) < 0 || (r = save_managed(o->root, &m)) < 0 ||
            (r = save_keys_state(o->root, &ks)) < 0) {
                log_error_errno(r, "Cannot save the state under " OSLOGIN_LOCALSTATEDIR "/lib: %m");
                goto out;
        }
        *ret = res;
        r = 0;
out:
        for (size_t i = 0; i < n_wanted; i++)
                strv_free(wanted[i].keylines);
        free(wanted);
        free_homes(homes);
        free_keys_state(&ks);
        strmap_done(&wanted_index);
        strmap_done(&m.names_index);
        strmap_done(&m.created_index);
        strv_free(m.names);
        strv_free(m.created);
        return r;
}
