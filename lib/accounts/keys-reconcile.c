/* SPDX-License-Identifier: Apache-2.0 */
/* The rules:
 * - a user in the effective keys gets an account (created if missing, with
 *   a UID from the persistent map, or the owner of a surviving home, or the
 *   first free one), membership in google-sudoers and the configured groups
 *   that exist, a home from /etc/skel and its keys in authorized_keys;
 * - root, invalid names, existing accounts outside [uid_min, uid_max]
 *   (system accounts, nobody) and names of groups we did not create are
 *   refused, logged once per name;
 * - a managed user whose keys left metadata is deprovisioned: it loses its
 *   managed keys, google-sudoers and every configured group we joined it
 *   to; an account we (or the reference agent) created is expired
 *   (shadow expiry day 1, so keys it added itself stop working too), or
 *   deleted with deprovision_remove; a local account we only managed keys
 *   for is never expired or deleted. A returning user gets its groups back
 *   and its old expiry;
 * - state: ROOT/var/lib/oslogin/users ("NAME created|existing") and the
 *   reference's ROOT/var/lib/google/google_users, read and kept in sync. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authorized-keys.h"
#include "accounts/etc-db.h"
#include "accounts/managed-users.h"
#include "accounts/home.h"
#include "accounts/keys-reconcile.h"
#include "accounts/keys-reconcile-internal.h"
#include "accounts/uid-map.h"
#include "basic/alloc-util.h"
#include "basic/log.h"
#include "basic/strmap.h"
#include "basic/strv.h"

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
        return asprintf(ret, "expiry-time=\"%s\"%s%s", when, has_options ? "," : " ", k->keyline) < 0
                       ? -ENOMEM
                       : 0;
}

static int collect_wanted(
        const struct ssh_key_set *keys, struct wanted_user **ret, size_t *ret_n, uint64_t *next_expiry)
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
                        if (GROW_ARRAY(w, NULL, n + 1) < 0)
                                goto oom;
                        w[n++] =
                                (struct wanted_user){.name = k->user, .keylines = calloc(1, sizeof(char *))};
                        if (!w[j].keylines)
                                goto oom;
                }
                _cleanup_free_ char *line = NULL;
                if (keyline_with_expiry(k, &line) < 0)
                        goto oom;
                /* The same line twice (instance and project, or pasted twice) is one grant:
                 * writing it twice would rewrite the file at every change of the duplication. */
                if (!strv_contains(w[j].keylines, line) && strv_extend(&w[j].keylines, line) < 0)
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

static void write_keys(const struct reconcile_options *o, struct etc_db *db, struct keys_cache *kc,
        const char *name, char **keylines, struct reconcile_result *res)
{
        _cleanup_free_ char *home = NULL;
        uid_t uid;
        gid_t gid;
        int r;

        if (etc_db_get_user(db, name, &uid, &gid, &home) < 0 || uid < o->uid_min || uid > o->uid_max)
                return;
        if (keys_cache_unchanged(kc, o->root, name, home, keylines))
                return;
        if (keylines && (r = home_create(o->root, home, uid, gid)) < 0) {
                log_error_errno(r, "Cannot create home \"%s\" of \"%s\": %m", home, name);
                res->failed++;
                return;
        }
        r = authorized_keys_write(o->root, home, uid, gid, keylines);
        if (r == -ELOOP || r == -EMLINK || r == -EBADFD || r == -EPERM)
                log_error("Refusing to write keys of \"%s\": a %s is in the way in \"%s\".", name,
                        r == -ELOOP    ? "symlink"
                        : r == -EMLINK ? "hard link"
                        : r == -EBADFD ? "special file"
                                       : "foreign file",
                        home);
        else if (r < 0 && !(r == -ENOENT && !keylines))
                log_error_errno(r, "Cannot write the keys of \"%s\": %m", name);
        if (r < 0 && !(r == -ENOENT && !keylines))
                res->failed++;
        else {
                if (r > 0)
                        res->keys_written++;
                keys_cache_remember(kc, o->root, name, home, keylines);
        }
}

/* Everything one pass reads and keeps. */
struct pass {
        struct etc_db *db;
        struct uid_map *map;
        struct managed_users managed;
        struct home_owner *homes;
        char **gone;           /* managed names without keys in metadata */
        char **forget_expired; /* expiry records done with once committed */
};

static void pass_done(struct pass *p)
{
        etc_db_free(p->db);
        uid_map_free(p->map);
        managed_users_done(&p->managed);
        reconcile_free_homes(p->homes);
        strv_free(p->gone);
        strv_free(p->forget_expired);
        *p = (struct pass){};
}

/* Accounts expired at an earlier deprovisioning, now that
 * deprovision_remove is set: deleted like the others (the records go
 * after the commit). */
static int remove_expired(const struct reconcile_options *o, struct pass *p, const struct strmap *wanted,
        struct reconcile_result *res)
{
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (!o->deprovision_remove)
                return 0;
        if ((r = managed_users_list_expired(&p->managed, &names)) < 0)
                return r;
        for (char **n = names; *n; n++) {
                if (strmap_get(wanted, *n, NULL) || managed_users_has(&p->managed, *n))
                        continue;
                if (etc_db_get_user(p->db, *n, NULL, NULL, NULL) == 0 &&
                        (r = reconcile_remove_account(p->db, *n, res)) < 0)
                        return r;
                if (strv_extend(&p->forget_expired, *n) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Loads, decides and commits the account files. The state under
 * /var/lib/oslogin is saved BEFORE the account files: after a crash in
 * between, a user we created is still known as ours (and keeps its UID),
 * never mistaken for a local account. -EAGAIN: the files changed under us. */
static int reconcile_accounts(const struct reconcile_options *o, const struct wanted_user *wanted,
        size_t n_wanted, struct keys_cache *kc, struct pass *p, struct reconcile_result *res)
{
        struct strmap wanted_index = {};
        int r;

        *res = (struct reconcile_result){.next_expiry_usec = res->next_expiry_usec};
        if ((r = etc_db_load(o->root, &p->db)) < 0 || (r = uid_map_load(o->root, &p->map)) < 0 ||
                (r = managed_users_load(o->root, &p->managed)) < 0)
                return r;
        p->gone = calloc(1, sizeof(char *));
        p->forget_expired = calloc(1, sizeof(char *));
        if (!p->gone || !p->forget_expired)
                return -ENOMEM;
        for (size_t i = 0; i < n_wanted; i++)
                if ((r = reconcile_provision(o, p->db, p->map, &p->homes, &p->managed, &wanted[i],
                             &p->forget_expired, res)) < 0) {
                        log_error_errno(r, "Cannot provision \"%s\": %m", wanted[i].name);
                        res->failed++;
                }
        for (size_t i = 0; i < n_wanted; i++)
                if (strmap_put(&wanted_index, wanted[i].name, i) < 0)
                        goto oom;
        for (char **n = p->managed.names; *n; n++)
                if (!strmap_get(&wanted_index, *n, NULL) && strv_extend(&p->gone, *n) < 0)
                        goto oom;
        r = remove_expired(o, p, &wanted_index, res);
        strmap_done(&wanted_index);
        if (r < 0)
                return r;
        /* Their managed keys go first, while the account (and so its home
         * and owner) is still known: a key left in a home of a removed
         * account would open it again if the name came back. */
        for (char **n = p->gone; *n; n++)
                write_keys(o, p->db, kc, *n, NULL, res);
        for (char **n = p->gone; *n; n++)
                if ((r = reconcile_deprovision(o, p->db, &p->managed, *n, res)) < 0)
                        return r;
        if ((r = uid_map_save(p->map)) < 0 || (r = managed_users_save(o->root, &p->managed)) < 0)
                return log_error_errno(r, "Cannot save the state under " OSLOGIN_LOCALSTATEDIR "/lib: %m");
        return etc_db_commit(p->db);
oom:
        strmap_done(&wanted_index);
        return -ENOMEM;
}

#define COMMIT_ATTEMPTS 3

int keys_reconcile(
        const struct reconcile_options *o, const struct ssh_key_set *keys, struct reconcile_result *ret)
{
        struct wanted_user *wanted = NULL;
        struct reconcile_result res = {};
        struct keys_cache kc = {};
        struct pass p = {};
        size_t n_wanted = 0;
        int r;

        if ((r = collect_wanted(keys, &wanted, &n_wanted, &res.next_expiry_usec)) < 0)
                return r;
        if ((r = keys_cache_load(o->root, &kc)) < 0)
                goto out;
        for (unsigned attempt = 1;; attempt++) {
                r = reconcile_accounts(o, wanted, n_wanted, &kc, &p, &res);
                if (r != -EAGAIN || attempt == COMMIT_ATTEMPTS)
                        break;
                log_info("The account files changed while we worked on them; starting over.");
                pass_done(&p);
        }
        if (r < 0) {
                log_error_errno(r, "Cannot write the account files: %m");
                goto out;
        }
        /* Homes and keys only once the accounts they belong to are on disk. */
        for (size_t i = 0; i < n_wanted; i++)
                if (managed_users_has(&p.managed, wanted[i].name))
                        write_keys(o, p.db, &kc, wanted[i].name, wanted[i].keylines, &res);
        /* The account files are written: what was undone is forgotten. */
        for (char **n = p.gone; *n; n++) {
                managed_users_remove(&p.managed, *n);
                managed_users_forget_given(&p.managed, *n);
        }
        for (char **n = p.forget_expired; *n; n++)
                managed_users_forget_expired(&p.managed, *n);
        if ((res.keys_written || res.created) && (r = authorized_keys_sync(o->root, o->home_base)) < 0)
                log_error_errno(r, "Cannot sync the home directories: %m");
        if (n_wanted && (r = reconcile_ensure_sudoers_file(o->root)) < 0)
                log_error_errno(r, "Cannot write /etc/sudoers.d/google_sudoers: %m");
        if ((r = managed_users_save(o->root, &p.managed)) < 0 || (r = keys_cache_save(o->root, &kc)) < 0) {
                log_error_errno(r, "Cannot save the state under " OSLOGIN_LOCALSTATEDIR "/lib: %m");
                goto out;
        }
        *ret = res;
        r = 0;
out:
        for (size_t i = 0; i < n_wanted; i++)
                strv_free(wanted[i].keylines);
        free(wanted);
        keys_cache_done(&kc);
        pass_done(&p);
        return r;
}

int keys_deprovision_all(const struct reconcile_options *o, struct reconcile_result *ret)
{
        struct ssh_key_set none = {};
        return keys_reconcile(o, &none, ret);
}
