/* SPDX-License-Identifier: Apache-2.0 */
/* The guest environment's files that grant something: sudo includes and
 * grants, per-user sshd snippets, NSS caches, and its lines in the PAM su
 * stack and pam_group's group.conf. Each is backed up, removed and logged
 * (doc/guest-environment.md). */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostconf/config-file.h"
#include "hostconf/takeover.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/macro.h"
#include "basic/path-util.h"

#define MAX_FILE (1024u * 1024)

/* Backs up and removes DIR/NAME (DIR an absolute host path). 1 removed, 0 absent. */
static int remove_one(const char *root, int dir_fd, const char *dir, const char *name)
{
        _cleanup_free_ char *data = NULL, *path = NULL;
        size_t size = 0;
        struct stat st;
        int r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode))
                return 0; /* never theirs in these places; left alone */
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (S_ISREG(st.st_mode)) {
                r = read_file_bounded(dir_fd, name, MAX_FILE, &data, &size);
                if (r >= 0)
                        r = takeover_backup(root, path, data, size);
                if (r < 0)
                        return log_error_errno(r, "Cannot back up %s, leaving it: %m", path);
        }
        if (unlinkat(dir_fd, name, 0) < 0)
                return log_error_errno(errno, "Cannot remove %s: %m", path);
        return 1;
}

/* Every entry of DIR, then DIR itself when empty. */
static int empty_dir(const char *root, const char *dir, const char *what, unsigned *count)
{
        _cleanup_free_ char *p = NULL;
        int r = 0;

        if (path_join_root(root, dir, &p) < 0)
                return -ENOMEM;
        int fd = open_dir_nofollow(AT_FDCWD, p, 0);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        DIR *d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *e; (e = readdir(d));) {
                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                int q = remove_one(root, dirfd(d), dir, e->d_name);
                if (q > 0) {
                        (*count)++;
                        char path[PATH_MAX];
                        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                        log_event(LOG_NOTICE, MESSAGE_ID_TAKEOVER, LOG_FIELDS({"OSLOGIN_REASON", path}),
                                "Removed the guest environment's %s %s (backup under " TAKEOVER_BACKUP_DIR
                                ").",
                                what, path);
                } else if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        /* The directory goes too where it can: under the unit's
         * ReadWritePaths= it is a mount point (EBUSY) and stays, empty. */
        if (r == 0 && rmdir(p) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EBUSY)
                r = -errno;
        return r;
}

static bool is_sudo_include(const char *data)
{
        char l[256];
        snprintf(l, sizeof(l), "%s", data);
        l[strcspn(l, "\r\n")] = '\0';
        return streq(l, "#includedir /var/google-sudoers.d") ||
               streq(l, "@includedir /var/google-sudoers.d");
}

/* /etc/sudoers.d/google-oslogin always; google-sudoers (the rewrite's name)
 * only when it is the include line alone. */
static int remove_sudo_includes(const char *root, unsigned *count)
{
        static const char *const names[] = {"google-oslogin", "google-sudoers"};
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r = 0;

        if (path_join_root(root, "/etc/sudoers.d", &p) < 0)
                return -ENOMEM;
        if ((fd = open_dir_nofollow(AT_FDCWD, p, 0)) < 0)
                return fd == -ENOENT ? 0 : fd;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *data = NULL;
                if (read_file_bounded(fd, names[i], 4096, &data, NULL) < 0)
                        continue;
                if (i > 0 && !is_sudo_include(data))
                        continue;
                int q = remove_one(root, fd, "/etc/sudoers.d", names[i]);
                if (q > 0) {
                        (*count)++;
                        char path[PATH_MAX];
                        snprintf(path, sizeof(path), "/etc/sudoers.d/%s", names[i]);
                        log_event(LOG_NOTICE, MESSAGE_ID_TAKEOVER, LOG_FIELDS({"OSLOGIN_REASON", path}),
                                "Removed the guest agent's sudo include %s.", path);
                } else if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

static bool is_cache_name(const char *name)
{
        return strneq(name, "oslogin_passwd.cache", 20) || strneq(name, "oslogin_group.cache", 19);
}

static int remove_caches(const char *root, unsigned *count)
{
        _cleanup_free_ char *p = NULL;
        int r = 0;

        if (path_join_root(root, "/etc", &p) < 0)
                return -ENOMEM;
        DIR *d = opendir(p);
        if (!d)
                return -errno;
        for (struct dirent *e; (e = readdir(d));) {
                if (!is_cache_name(e->d_name))
                        continue;
                int q = remove_one(root, dirfd(d), "/etc", e->d_name);
                if (q > 0) {
                        (*count)++;
                        char path[PATH_MAX];
                        snprintf(path, sizeof(path), "/etc/%s", e->d_name);
                        log_event(LOG_NOTICE, MESSAGE_ID_TAKEOVER, LOG_FIELDS({"OSLOGIN_REASON", path}),
                                "Removed guest-oslogin's NSS cache %s.", path);
                } else if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        return r;
}

/* Their lines out of DIR/NAME, the rest kept byte for byte. */
static int filter_file(
        const char *root, const char *dir, const char *name, enum takeover_kind kind, unsigned *count)
{
        _cleanup_free_ char *p = NULL, *data = NULL, *next = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct takeover_removed removed;
        size_t size;
        int r;

        if (path_join_root(root, dir, &p) < 0 || asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if ((fd = open_dir_nofollow(AT_FDCWD, p, 0)) < 0)
                return fd == -ENOENT ? 0 : fd;
        r = read_file_bounded(fd, name, MAX_FILE, &data, &size);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        if (!(next = takeover_filter(kind, data, &removed)))
                return -ENOMEM;
        if (removed.lines == 0)
                return 0;
        if ((r = takeover_backup(root, path, data, size)) < 0 ||
                (r = config_file_replace(fd, name, next)) < 0)
                return log_error_errno(r, "Cannot remove the guest environment's lines from %s: %m", path);
        (*count)++;
        log_event(LOG_NOTICE, MESSAGE_ID_TAKEOVER, LOG_FIELDS({"OSLOGIN_REASON", path}),
                "Removed %u line(s) of the guest environment from %s (\"%s\").", removed.lines, path,
                removed.first);
        return 1;
}

int takeover_files(const char *root, bool manage_host_config)
{
        unsigned count = 0;
        int r = 0, q;

        /* The include first: whatever happens next, the grants are off. */
        if ((q = remove_sudo_includes(root, &count)) < 0 && r == 0)
                r = q;
        if ((q = empty_dir(root, "/var/google-sudoers.d", "sudo grant", &count)) < 0 && r == 0)
                r = q;
        if ((q = empty_dir(root, "/var/google-users.d", "per-user sshd file", &count)) < 0 && r == 0)
                r = q;
        if ((q = remove_caches(root, &count)) < 0 && r == 0)
                r = q;
        if (manage_host_config) {
                if ((q = filter_file(root, "/etc/pam.d", "su", TAKEOVER_PAM, &count)) < 0 && r == 0)
                        r = q;
                if ((q = filter_file(root, "/etc/security", "group.conf", TAKEOVER_GROUP, &count)) < 0 &&
                        r == 0)
                        r = q;
        }
        return r < 0 ? r : (int)count;
}

/* Follows a symlink (nsswitch.conf may be one): a read for detection only. */
static bool text_has_theirs(const char *root, const char *path, enum takeover_kind kind)
{
        _cleanup_free_ char *p = NULL, *data = NULL, *next = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        struct takeover_removed removed = {};
        size_t size = 0;

        if (path_join_root(root, path, &p) < 0 || !(f = fopen(p, "re")))
                return false;
        FILE *m = open_memstream(&data, &size);
        if (!m)
                return false;
        char buf[4096];
        for (size_t n, total = 0; (n = fread(buf, 1, sizeof(buf), f)) > 0 && total < MAX_FILE; total += n)
                fwrite(buf, 1, n, m);
        if (fclose(m) != 0)
                return false;
        next = takeover_filter(kind, data, &removed);
        return next && removed.lines > 0;
}

static bool exists(const char *root, const char *path)
{
        _cleanup_free_ char *p = NULL;
        struct stat st;
        return path_join_root(root, path, &p) >= 0 && lstat(p, &st) == 0;
}

/* A directory with something in it (an empty one grants nothing). */
static bool has_entries(const char *root, const char *path)
{
        _cleanup_free_ char *p = NULL;
        bool any = false;
        if (path_join_root(root, path, &p) < 0)
                return false;
        DIR *d = opendir(p);
        for (struct dirent *e; d && !any && (e = readdir(d));)
                any = !streq(e->d_name, ".") && !streq(e->d_name, "..");
        if (d)
                closedir(d);
        return any;
}

bool takeover_pending(const char *root, bool manage_host_config)
{
        _cleanup_free_ char *etc = NULL;
        bool cache = false;

        if (exists(root, "/etc/sudoers.d/google-oslogin") || has_entries(root, "/var/google-sudoers.d") ||
                has_entries(root, "/var/google-users.d"))
                return true;
        if (path_join_root(root, "/etc", &etc) < 0)
                return false;
        DIR *d = opendir(etc);
        for (struct dirent *e; d && !cache && (e = readdir(d));)
                cache = is_cache_name(e->d_name);
        if (d)
                closedir(d);
        if (cache || !manage_host_config)
                return cache;
        return text_has_theirs(root, "/etc/ssh/sshd_config", TAKEOVER_SSHD) ||
               text_has_theirs(root, "/etc/pam.d/sshd", TAKEOVER_PAM) ||
               text_has_theirs(root, "/etc/nsswitch.conf", TAKEOVER_NSSWITCH) ||
               text_has_theirs(root, "/etc/pam.d/su", TAKEOVER_PAM) ||
               text_has_theirs(root, "/etc/security/group.conf", TAKEOVER_GROUP);
}
