/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "accountsd/home.h"
#include "basic/atomic-file.h"
#include "basic/macro.h"

#define AUTHORIZED_KEYS_MAX (1024u * 1024)

static char *rooted(const char *root, const char *path)
{
        char *s;
        if (asprintf(&s, "%s%s", isempty(root) || streq(root, "/") ? "" : root, path) < 0)
                return NULL;
        return s;
}

/* Copies the regular files at the top of skel (dotfiles); nothing is followed. */
static void copy_skel(int skel_fd, int home_fd, uid_t uid, gid_t gid)
{
        DIR *d = fdopendir(dup(skel_fd));
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d));) {
                struct stat st;
                char *data = NULL;
                size_t size;
                if (streq(e->d_name, ".") || streq(e->d_name, "..") ||
                    fstatat(skel_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (read_file_bounded(skel_fd, e->d_name, AUTHORIZED_KEYS_MAX, &data, &size) == 0) {
                        (void)write_file_atomic(home_fd, e->d_name, data, size, st.st_mode & 0777, uid, gid);
                        free(data);
                }
        }
        closedir(d);
}

int home_create(const char *root, const char *home, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *path = rooted(root, home), *parent = NULL, *skel = rooted(root, "/etc/skel");
        _cleanup_close_ int parent_fd = -EBADF, home_fd = -EBADF, skel_fd = -EBADF;
        const char *base;

        if (!path || !skel)
                return -ENOMEM;
        base = strrchr(path, '/');
        if (!base || !base[1])
                return -EINVAL;
        parent = strndup(path, (size_t)(base - path));
        if (!parent)
                return -ENOMEM;
        parent_fd = open_dir_nofollow(AT_FDCWD, *parent ? parent : "/", 0);
        if (parent_fd < 0)
                return parent_fd;
        if (mkdirat(parent_fd, base + 1, 0700) < 0)
                return errno == EEXIST ? 0 : -errno;
        home_fd = openat(parent_fd, base + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (home_fd < 0)
                return -errno;
        skel_fd = open_dir_nofollow(AT_FDCWD, skel, 0);
        if (skel_fd >= 0)
                copy_skel(skel_fd, home_fd, uid, gid);
        if (fchown(home_fd, uid, gid) < 0 || fchmod(home_fd, 0750) < 0)
                return -errno;
        return 1;
}

static int append(char **buf, size_t *len, const char *line)
{
        size_t n = strlen(line);
        char *p = realloc(*buf, *len + n + 2);
        if (!p)
                return -ENOMEM;
        memcpy(p + *len, line, n);
        p[*len + n] = '\n';
        *len += n + 1;
        p[*len] = '\0';
        *buf = p;
        return 0;
}

char *authorized_keys_merge(const char *existing, char *const *keylines)
{
        _cleanup_free_ char *copy = strdup(existing ?: "");
        char *out = calloc(1, 1), *save = NULL;
        size_t len = 0;
        bool skip_next = false;

        if (!copy || !out) {
                free(out);
                return NULL;
        }
        /* Keep the user's lines; drop every marker and the line after it. */
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (skip_next) {
                        skip_next = false;
                        continue;
                }
                if (streq(line, GOOGLE_KEY_MARKER)) {
                        skip_next = true;
                        continue;
                }
                if (append(&out, &len, line) < 0)
                        goto fail;
        }
        for (char *const *k = keylines; k && *k; k++)
                if (append(&out, &len, GOOGLE_KEY_MARKER) < 0 || append(&out, &len, *k) < 0)
                        goto fail;
        return out;
fail:
        free(out);
        return NULL;
}

static int open_ssh_dir(int home_fd, uid_t uid, gid_t gid)
{
        int fd = openat(home_fd, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                if (mkdirat(home_fd, ".ssh", 0700) < 0 && errno != EEXIST)
                        return -errno;
                fd = openat(home_fd, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -ELOOP : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || (st.st_uid != uid && fchown(fd, uid, gid) < 0) || fchmod(fd, 0700) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int home_write_authorized_keys(const char *root, const char *home, uid_t uid, gid_t gid, char *const *keylines)
{
        _cleanup_free_ char *path = rooted(root, home), *existing = NULL, *merged = NULL;
        _cleanup_close_ int home_fd = -EBADF, ssh_fd = -EBADF;
        int r;

        if (!path)
                return -ENOMEM;
        home_fd = open_dir_nofollow(AT_FDCWD, path, 0);
        if (home_fd < 0)
                return home_fd;
        /* Nothing to remove and no .ssh yet: leave the home alone. */
        if ((!keylines || !*keylines) && faccessat(home_fd, ".ssh", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        ssh_fd = open_ssh_dir(home_fd, uid, gid);
        if (ssh_fd < 0)
                return ssh_fd;
        r = read_file_bounded(ssh_fd, "authorized_keys", AUTHORIZED_KEYS_MAX, &existing, NULL);
        if (r == -ELOOP || r == -EBADFD)
                return -ELOOP;
        if (r < 0 && r != -ENOENT)
                return r;
        merged = authorized_keys_merge(existing, keylines);
        if (!merged)
                return -ENOMEM;
        if (existing && streq(existing, merged))
                return 0;
        r = write_file_atomic(ssh_fd, "authorized_keys", merged, strlen(merged), 0600, uid, gid);
        return r < 0 ? r : 1;
}
