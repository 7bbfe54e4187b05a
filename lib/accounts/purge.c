/* SPDX-License-Identifier: Apache-2.0 */
/* osloginctl revoke: see purge.h. The account files are changed through
 * etc_db (one transaction, the shadow-utils lock); only the expiry, which
 * etc_db has no field for, goes through usermod, after that commit. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <shadow.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts/authorized-keys.h"
#include "accounts/etc-db.h"
#include "accounts/managed-users.h"
#include "accounts/keys-reconcile.h"
#include "accounts/purge.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/path-util.h"
#include "basic/strv.h"
#include "accounts/sudoers.h"

#define COMMIT_ATTEMPTS 3

static bool in_range(const struct revoke_options *o, uid_t uid)
{
        return uid >= o->uid_min && uid <= o->uid_max;
}

/* Keys first, while the account and so its home are still known: a key
 * left in the home of a deleted account would open it again if the name
 * came back. */
static void revoke_keys(const struct revoke_options *o, struct etc_db *db, const struct managed_users *m,
        struct revoke_result *res)
{
        for (char **n = m->names; *n; n++) {
                _cleanup_free_ char *home = NULL;
                uid_t uid;
                gid_t gid;
                if (etc_db_get_user(db, *n, &uid, &gid, &home) < 0 || !in_range(o, uid))
                        continue;
                int r = authorized_keys_write(o->root, home, uid, gid, NULL);
                if (r > 0) {
                        log_info("Removed the metadata keys of \"%s\".", *n);
                        res->keys++;
                } else if (r < 0 && r != -ENOENT) {
                        log_error_errno(
                                r, "Cannot remove the metadata keys of \"%s\" from %s: %m", *n, home);
                        res->failed++;
                }
        }
}

static int leave_group(struct etc_db *db, const char *group, const char *user, struct revoke_result *res)
{
        if (!etc_db_is_member(db, group, user))
                return 0;
        int r = etc_db_set_member(db, group, user, false);
        if (r < 0)
                return log_error_errno(r, "Cannot remove \"%s\" from group \"%s\": %m", user, group);
        log_info("Removed \"%s\" from group \"%s\".", user, group);
        res->memberships++;
        return 0;
}

/* One pass over the account files; the accounts to expire are collected
 * in *EXPIRE and those deleted in *REMOVED. -EAGAIN: the files changed
 * under us, start over. */
static int revoke_accounts(const struct revoke_options *o, const struct managed_users *m, char ***expire,
        char ***removed, struct revoke_result *res)
{
        _cleanup_(etc_db_freep) struct etc_db *db = NULL;
        struct revoke_result pass = *res;
        int r;

        if ((r = etc_db_load(o->root, &db)) < 0)
                return r;
        revoke_keys(o, db, m, &pass);
        for (char **n = m->names; *n; n++) {
                uid_t uid;
                if ((r = leave_group(db, GOOGLE_SUDOERS_GROUP, *n, &pass)) < 0)
                        return r;
                if (!managed_users_created(m, *n) || etc_db_get_user(db, *n, &uid, NULL, NULL) < 0 ||
                        !in_range(o, uid))
                        continue;
                for (char **g = o->groups; g && *g; g++)
                        if ((r = leave_group(db, *g, *n, &pass)) < 0)
                                return r;
                if (o->deprovision_remove) {
                        if ((r = etc_db_remove_user(db, *n)) < 0)
                                return r;
                        log_info("Removing user \"%s\" (deprovision_remove).", *n);
                        if (strv_extend(removed, *n) < 0)
                                return -ENOMEM;
                        pass.removed++;
                } else if (strv_extend(expire, *n) < 0)
                        return -ENOMEM;
        }
        if ((r = etc_db_commit(db)) < 0)
                return r;
        *res = pass;
        return 0;
}

/* Whether NAME's shadow entry carries our expiry mark (day 1). */
static bool expired_by_us(const char *root, const char *name)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        bool found = false;

        if (path_join_root(root, "/etc/shadow", &path) < 0 || !(f = fopen(path, "re")))
                return false;
        for (struct spwd *sp; !found && (sp = fgetspent(f));)
                found = streq(sp->sp_namp, name) && sp->sp_expire == 1;
        return found;
}

static int run_usermod(const struct revoke_options *o, const char *user)
{
        const char *usermod = o->usermod ?: "/usr/sbin/usermod";
        const char *argv[8];
        size_t i = 0;
        int status;

        argv[i++] = usermod;
        if (!path_is_host_root(o->root)) {
                argv[i++] = "--prefix";
                argv[i++] = o->root;
        }
        argv[i++] = "--expiredate";
        argv[i++] = "1"; /* 1970-01-02: expired, and recognisably ours */
        argv[i++] = "--";
        argv[i++] = user;
        argv[i] = NULL;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDOUT_FILENO);
                execv(usermod, (char **)argv);
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int revoke_sudoers(const char *root, bool managed_accounts, struct revoke_result *res)
{
        _cleanup_strv_free_ char **admins = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r, ret = 0;

        if ((r = sudoers_list(root, &admins)) < 0 && r != -ENOENT)
                ret = log_error_errno(r, "Cannot list the OS Login sudoers drop-ins: %m");
        for (char **u = admins; u && *u; u++) {
                if ((r = sudoers_revoke(root, *u)) < 0)
                        ret = log_error_errno(r, "Cannot revoke the sudoers drop-in of \"%s\": %m", *u);
                else if (r > 0) {
                        log_info("Revoked the sudo rights of OS Login admin \"%s\".", *u);
                        res->sudoers_files++;
                }
        }
        if (path_join_root(root, "/etc/sudoers.d", &dir) < 0)
                return -ENOMEM;
        if ((fd = open_dir_nofollow(AT_FDCWD, dir, 0)) < 0)
                return fd == -ENOENT ? ret : fd;
        /* The google-sudoers group's rule (ours once we managed accounts;
         * before that the guest agent's), then the include of the drop-ins. */
        static const char *const files[] = {"google_sudoers", "oslogin"};
        for (size_t i = managed_accounts ? 0 : 1; i < ELEMENTSOF(files); i++) {
                if (unlinkat(fd, files[i], 0) == 0) {
                        log_info("Removed %s/%s.", dir, files[i]);
                        res->sudoers_files++;
                } else if (errno != ENOENT)
                        ret = log_error_errno(-errno, "Cannot remove %s/%s: %m", dir, files[i]);
        }
        return ret;
}

static bool state_exists(const char *root, const char *name)
{
        _cleanup_free_ char *state = NULL, *path = NULL;
        return asprintf(&state, OSLOGIN_STATE_DIR "/%s", name) >= 0 &&
               path_join_root(root, state, &path) >= 0 &&
               faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int oslogin_revoke(const struct revoke_options *o, struct revoke_result *ret)
{
        _cleanup_strv_free_ char **expire = NULL, **removed = NULL, **recorded = NULL;
        struct managed_users m = {};
        struct revoke_result res = {};
        int r = 0, failure = 0;

        /* No users file: the daemon never reconciled metadata keys here. A
         * guest agent's google_users (which managed_users_load() adopts)
         * then lists the agent's accounts, not ours: they are left alone. */
        bool managed_accounts = state_exists(o->root, "users");
        if (!managed_accounts)
                log_info("No metadata-key accounts were managed here (" OSLOGIN_STATE_DIR "/users absent).");
        if (managed_accounts && (r = managed_users_load(o->root, &m)) < 0)
                return log_error_errno(r, "Cannot read the managed users under " OSLOGIN_STATE_DIR ": %m");
        for (unsigned attempt = 1; managed_accounts; attempt++) {
                strv_free(expire);
                strv_free(removed);
                expire = calloc(1, sizeof(char *));
                removed = calloc(1, sizeof(char *));
                if (!expire || !removed) {
                        r = -ENOMEM;
                        break;
                }
                r = revoke_accounts(o, &m, &expire, &removed, &res);
                if (r != -EAGAIN || attempt == COMMIT_ATTEMPTS)
                        break;
        }
        if (r < 0)
                failure = log_error_errno(r, "Cannot revoke the metadata users' accounts: %m");
        /* Recorded before usermod runs: a reinstall lifts the expiry even
         * if this run is cut short after expiring some of them. */
        if (r == 0 && expire && expire[0]) {
                if ((r = state_read_lines(o->root, OSLOGIN_STATE_DIR, REVOKE_EXPIRED_FILE, &recorded)) < 0)
                        return log_error_errno(
                                r, "Cannot read " OSLOGIN_STATE_DIR "/" REVOKE_EXPIRED_FILE ": %m");
                for (char **n = expire; *n; n++)
                        if (!strv_contains(recorded, *n) && strv_extend(&recorded, *n) < 0)
                                return -ENOMEM;
                if ((r = state_write_lines(o->root, OSLOGIN_STATE_DIR, REVOKE_EXPIRED_FILE, recorded)) < 0)
                        return log_error_errno(
                                r, "Cannot write " OSLOGIN_STATE_DIR "/" REVOKE_EXPIRED_FILE ": %m");
        }
        for (char **n = expire; n && *n; n++) {
                if (expired_by_us(o->root, *n)) /* an earlier run */
                        continue;
                if ((r = run_usermod(o, *n)) < 0) {
                        failure = log_error_errno(r, "Cannot expire the account \"%s\" (usermod): %m", *n);
                        res.failed++;
                        continue;
                }
                log_info("Expired the account \"%s\".", *n);
                res.expired++;
        }
        if (removed && removed[0]) {
                for (char **n = removed; *n; n++)
                        managed_users_remove(&m, *n);
                if ((r = managed_users_save(o->root, &m)) < 0)
                        failure = log_error_errno(r, "Cannot save the managed users: %m");
        }
        managed_users_done(&m);
        if ((r = revoke_sudoers(o->root, managed_accounts, &res)) < 0)
                failure = r;
        if (res.failed && !failure)
                failure = -EIO;
        *ret = res;
        return failure;
}
