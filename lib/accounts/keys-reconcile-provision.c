/* SPDX-License-Identifier: Apache-2.0 */
/* One user's side of the reconcile (keys-reconcile.c has the rules and the
 * pass): whether a name may have an account, the UID it gets, creating it,
 * its groups, and taking all that back when its keys leave metadata. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accounts/etc-db.h"
#include "accounts/keys-reconcile.h"
#include "accounts/keys-reconcile-internal.h"
#include "accounts/managed-users.h"
#include "accounts/uid-map.h"
#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/mkdir-util.h"
#include "basic/path-util.h"
#include "basic/strmap.h"
#include "basic/strv.h"
#include "basic/valid.h"

static int owner_of_home(const char *root, const char *home, uid_t *ret)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;
        if (path_join_root(root, home, &path) < 0)
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
        if (!h || path_join_root(o->root, o->home_base, &path) < 0)
                return h;
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
                struct stat st;
                if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                        !S_ISDIR(st.st_mode))
                        continue;
                if (GROW_ARRAY(h, NULL, n + 2) < 0)
                        break;
                h[n] = (struct home_owner){.dir = strdup(e->d_name), .uid = st.st_uid};
                h[++n] = (struct home_owner){};
                if (!h[n - 1].dir)
                        break;
        }
        if (d)
                closedir(d);
        return h;
}

void reconcile_free_homes(struct home_owner *h)
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
        if (!o->ignore_home_owner && owner_of_home(o->root, home, &uid) == 0 && uid >= o->uid_min &&
                uid <= o->uid_max && !etc_db_uid_used(db, uid) && !etc_db_gid_used(db, uid) &&
                !uid_map_taken(map, uid, name)) {
                *ret = uid;
                return 0;
        }
        static uid_t hint;
        if (hint < o->uid_min || hint > o->uid_max)
                hint = o->uid_min;
        for (uid = hint; uid <= o->uid_max; uid++)
                if (!etc_db_uid_used(db, uid) && !etc_db_gid_used(db, uid) &&
                        !uid_map_taken(map, uid, name)) {
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

int reconcile_ensure_sudoers_file(const char *root)
{
        static const char rule[] = "%" GOOGLE_SUDOERS_GROUP " ALL=(ALL:ALL) NOPASSWD:ALL\n";
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (path_join_root(root, "/etc/sudoers.d", &dir) < 0)
                return -ENOMEM;
        fd = mkdir_p_open(AT_FDCWD, dir, 0755, 0755); /* as the sudo package ships it */
        if (fd < 0)
                return fd;
        if (faccessat(fd, "google_sudoers", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        return write_file_atomic(fd, "google_sudoers", rule, sizeof(rule) - 1, 0440, 0, 0);
}

/* Each refused name is logged once per process, not at every pass. */
static void log_refusal_once(const char *name, const char *why, unsigned id)
{
        static struct strmap logged;
        if (strmap_get(&logged, name, NULL))
                return;
        (void)strmap_put(&logged, name, 1);
        if (id != (unsigned)-1)
                log_warning("Refusing metadata keys for %s \"%s\" (ID %u).", why, name, id);
        else
                log_warning("Refusing metadata keys for %s \"%s\".", why, name);
}

/* Whether NAME may carry metadata keys at all; logs why not. */
static bool name_acceptable(const struct reconcile_options *o, struct etc_db *db,
        const struct managed_users *m, const char *name)
{
        uid_t uid;
        gid_t gid;

        if (!valid_user_name(name) || streq(name, "root")) {
                log_refusal_once(
                        name, streq(name, "root") ? "the superuser" : "an invalid name", (unsigned)-1);
                return false;
        }
        if (etc_db_get_user(db, name, &uid, NULL, NULL) == 0) {
                /* Below the range: a system account; above it: nobody
                 * (65534) or an account of some other range. */
                if (uid < o->uid_min || uid > o->uid_max) {
                        log_refusal_once(name, "system account", (unsigned)uid);
                        return false;
                }
                return true;
        }
        /* A group of that name we did not make (say "staff"): a new user
         * would get a private group it cannot have. */
        if (etc_db_get_group(db, name, &gid) == 0 && !managed_users_created(m, name)) {
                log_refusal_once(name, "the name of an existing group", (unsigned)gid);
                return false;
        }
        return true;
}

static int create_user(const struct reconcile_options *o, struct etc_db *db, struct uid_map *map,
        struct home_owner **homes, const char *name, uid_t *ret_uid)
{
        _cleanup_free_ char *home = NULL;
        uid_t uid;
        int r;

        if (asprintf(&home, "%s/%s", o->home_base, name) < 0)
                return -ENOMEM;
        /* Who owns which home matters only when a UID is handed out. */
        if (!*homes)
                *homes = scan_homes(o);
        r = allocate_uid(o, db, map, *homes, name, home, &uid);
        if (r == -ENOSPC) /* the hint may have skipped freed ids: one full pass */
                r = allocate_uid(o, db, map, *homes, name, home, &uid);
        if (r < 0)
                return log_error_errno(
                        r, "No free UID for \"%s\" in [%u, %u].", name, o->uid_min, o->uid_max);
        if ((r = etc_db_add_user(db, name, uid, uid, "", home, o->shell)) < 0)
                return r;
        char uid_s[16];
        snprintf(uid_s, sizeof(uid_s), "%u", (unsigned)uid);
        log_event(LOG_INFO, MESSAGE_ID_USER_CREATED,
                LOG_FIELDS({"OSLOGIN_USER", name}, {"OSLOGIN_UID", uid_s}), "Creating user \"%s\" (UID %u).",
                name, (unsigned)uid);
        *ret_uid = uid;
        return 0;
}

/* The expiry day a deprovisioned account gets: 1970-01-02, what
 * "usermod --expiredate 1" writes; in the past on any clock. */
#define DEPROVISIONED_EXPIRY 1L

/* A returning user whose account we expired when it left: the expiry it
 * had goes back, unless someone changed it since (theirs to keep). The
 * record is forgotten only after the commit (FORGET), so a failed commit
 * tries again. Returns whether the account was ours. */
static int unexpire(struct etc_db *db, struct managed_users *m, const char *name, char ***forget)
{
        long previous, now;
        int r;

        if (!managed_users_expired(m, name, &previous))
                return 0;
        if (strv_extend(forget, name) < 0)
                return -ENOMEM;
        if (etc_db_get_expire(db, name, &now) < 0 || now == previous)
                return 1;
        if (now != DEPROVISIONED_EXPIRY) {
                log_notice("Leaving the expiry of \"%s\" as it is: it was changed since its keys left "
                           "metadata.",
                        name);
                return 1;
        }
        log_event(LOG_INFO, MESSAGE_ID_USER_UPDATED,
                LOG_FIELDS({"OSLOGIN_USER", name},
                        {"OSLOGIN_REASON", "un-expired: its keys are back in metadata"}),
                "Un-expiring user \"%s\" (its keys are back in metadata).", name);
        r = etc_db_set_expire(db, name, previous);
        return r < 0 ? r : 1;
}

/* Joins a configured group, and records what deprovisioning takes back: a
 * membership we add, and for an account we created every membership of a
 * configured group (it had none before us, and the record may have started
 * after we joined it). A local account keeps the memberships it had. */
static int join_group(
        struct etc_db *db, struct managed_users *m, const char *name, const char *group, bool created)
{
        bool member;
        int r;

        if (etc_db_get_group(db, group, NULL) < 0)
                return 0;
        member = etc_db_is_member(db, group, name);
        if (!member && (r = etc_db_set_member(db, group, name, true)) < 0)
                return r;
        return !member || created ? managed_users_give(m, name, group) : 0;
}

int reconcile_provision(const struct reconcile_options *o, struct etc_db *db, struct uid_map *map,
        struct home_owner **homes, struct managed_users *m, const struct wanted_user *w,
        char ***forget_expired, struct reconcile_result *res)
{
        uid_t uid;
        int r;

        if (!name_acceptable(o, db, m, w->name)) {
                res->refused++;
                return 0;
        }
        if (etc_db_get_user(db, w->name, &uid, NULL, NULL) == 0) {
                /* Ours if we expired it when it left; else local before we
                 * saw it: managed, never deleted. */
                if ((r = unexpire(db, m, w->name, forget_expired)) < 0)
                        return r;
                if (managed_users_add(m, w->name, r > 0) < 0)
                        return -ENOMEM;
        } else {
                /* An expiry record of an account someone deleted since:
                 * nothing to restore on this new account. */
                if (managed_users_expired(m, w->name, NULL) && strv_extend(forget_expired, w->name) < 0)
                        return -ENOMEM;
                if ((r = create_user(o, db, map, homes, w->name, &uid)) < 0)
                        return r;
                if (managed_users_add(m, w->name, true) < 0)
                        return -ENOMEM;
                res->created++;
        }
        if ((r = uid_map_set(map, w->name, uid)) < 0)
                return r;
        if ((r = ensure_sudo_group(db)) < 0 ||
                (r = etc_db_set_member(db, GOOGLE_SUDOERS_GROUP, w->name, true)) < 0)
                return r;
        for (char **g = o->extra_groups; g && *g; g++)
                if ((r = join_group(db, m, w->name, *g, managed_users_created(m, w->name))) < 0)
                        return r;
        return 0;
}

int reconcile_remove_account(struct etc_db *db, const char *name, struct reconcile_result *res)
{
        log_event(LOG_INFO, MESSAGE_ID_USER_REMOVED,
                LOG_FIELDS({"OSLOGIN_USER", name}, {"OSLOGIN_REASON", "removed: its keys left metadata"}),
                "Removing user \"%s\" (its keys left metadata).", name);
        res->removed++;
        return etc_db_remove_user(db, name);
}

/* Expired, not deleted: the account and its home stay, but sshd's account
 * check refuses it whatever key opens it (keys the user added itself
 * included). The expiry it had is recorded once, for its return. */
static int expire_account(struct etc_db *db, struct managed_users *m, const char *name)
{
        long now;
        int r = etc_db_get_expire(db, name, &now);

        if (r < 0)
                return log_warning_errno(
                        r, "Cannot expire user \"%s\" (no readable shadow entry): %m", name);
        if (!managed_users_expired(m, name, NULL) && (r = managed_users_set_expired(m, name, now)) < 0)
                return r;
        if (now == DEPROVISIONED_EXPIRY)
                return 0;
        log_event(LOG_INFO, MESSAGE_ID_USER_REMOVED,
                LOG_FIELDS({"OSLOGIN_USER", name}, {"OSLOGIN_REASON", "expired: its keys left metadata"}),
                "Expiring user \"%s\" (its keys left metadata): no key opens it any more.", name);
        r = etc_db_set_expire(db, name, DEPROVISIONED_EXPIRY);
        return r < 0 ? r : 0;
}

int reconcile_deprovision(const struct reconcile_options *o, struct etc_db *db, struct managed_users *m,
        const char *name, struct reconcile_result *res)
{
        _cleanup_strv_free_ char **given = NULL;
        int r;

        /* Every membership we gave: google-sudoers (all of it is ours) and
         * the configured groups we joined it to. */
        if ((r = managed_users_list_given(m, name, &given)) < 0)
                return r;
        r = etc_db_set_member(db, GOOGLE_SUDOERS_GROUP, name, false);
        for (char **g = given; *g && (r >= 0 || r == -ENOENT); g++)
                r = etc_db_set_member(db, *g, name, false);
        if (r < 0 && r != -ENOENT)
                return r;
        if (!managed_users_created(m, name) || etc_db_get_user(db, name, NULL, NULL, NULL) < 0)
                return 0;
        if (o->deprovision_remove)
                return reconcile_remove_account(db, name, res);
        return expire_account(db, m, name);
}
