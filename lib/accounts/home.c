/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/home.h"
#include "basic/atomic-file.h"
#include "basic/macro.h"
#include "basic/path-util.h"

#define SKEL_FILE_MAX (1024u * 1024)
#define SKEL_DEPTH_MAX 16

static int copy_file(int src_fd, int dst_fd, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size = 0;
        int r = read_file_bounded(src_fd, name, SKEL_FILE_MAX, &data, &size);

        if (r < 0)
                return r;
        /* No fsync: the whole home becomes visible with one rename. */
        fd = openat(dst_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode & 07777 & ~(mode_t)06000) < 0)
                return -errno;
        for (size_t done = 0; done < size;) {
                ssize_t n = write(fd, data + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                done += (size_t)n;
        }
        return 0;
}

static int copy_symlink(int src_fd, int dst_fd, const char *name, uid_t uid, gid_t gid)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(src_fd, name, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        if (symlinkat(target, dst_fd, name) < 0 || fchownat(dst_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* Copies the tree under SRC_FD into DST_FD: directories, regular files and
 * symlinks (as links); devices, FIFOs and sockets are skipped. */
static int copy_tree(int src_fd, int dst_fd, uid_t uid, gid_t gid, unsigned depth)
{
        DIR *d;
        int r = 0;

        if (depth > SKEL_DEPTH_MAX)
                return -ELOOP;
        int dup_fd = fcntl(src_fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
                safe_close(dup_fd);
                return -errno;
        }
        for (struct dirent *e; r == 0 && (e = readdir(d));) {
                struct stat st;
                if (streq(e->d_name, ".") || streq(e->d_name, "..") ||
                        fstatat(src_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(st.st_mode))
                        r = copy_file(src_fd, dst_fd, e->d_name, st.st_mode, uid, gid);
                else if (S_ISLNK(st.st_mode))
                        r = copy_symlink(src_fd, dst_fd, e->d_name, uid, gid);
                else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int from = -EBADF, to = -EBADF;
                        if (mkdirat(dst_fd, e->d_name, 0700) < 0) {
                                r = -errno;
                                break;
                        }
                        from = openat(src_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        to = openat(dst_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (from < 0 || to < 0)
                                r = -errno;
                        else if ((r = copy_tree(from, to, uid, gid, depth + 1)) == 0 &&
                                 (fchown(to, uid, gid) < 0 || fchmod(to, st.st_mode & 0777) < 0))
                                r = -errno;
                }
        }
        closedir(d);
        return r;
}

/* Removes what we built under a temp name; unlinkat never follows links. */
static void remove_tree_at(int parent_fd, const char *name, unsigned depth)
{
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 && depth <= SKEL_DEPTH_MAX ? fdopendir(fd) : NULL;

        if (!d)
                safe_close(fd);
        for (struct dirent *e; d && (e = readdir(d));)
                if (!streq(e->d_name, ".") && !streq(e->d_name, "..") &&
                        unlinkat(dirfd(d), e->d_name, 0) < 0 && (errno == EISDIR || errno == EPERM))
                        remove_tree_at(dirfd(d), e->d_name, depth + 1);
        if (d)
                closedir(d);
        (void)unlinkat(parent_fd, name, AT_REMOVEDIR);
}

static int open_parent(const char *root, const char *home, char **ret_base)
{
        _cleanup_free_ char *path = NULL;
        char *slash;

        if (path_join_root(root, home, &path) < 0)
                return -ENOMEM;
        slash = strrchr(path, '/');
        if (!slash || !slash[1] || streq(slash + 1, ".") || streq(slash + 1, ".."))
                return -EINVAL;
        *ret_base = strdup(slash + 1);
        if (!*ret_base)
                return -ENOMEM;
        *slash = '\0';
        /* A fresh tree may not have the base directory (/home) yet. */
        if (*path && mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return open_dir_nofollow(AT_FDCWD, *path ? path : "/", 0);
}

int home_create(const char *root, const char *home, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *base = NULL, *temp = NULL, *skel = NULL;
        _cleanup_close_ int parent_fd = -EBADF, temp_fd = -EBADF, skel_fd = -EBADF;
        struct stat st;
        int r;

        parent_fd = open_parent(root, home, &base);
        if (parent_fd < 0)
                return parent_fd;
        if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        /* A fixed temp name: what a killed earlier pass left is removed here. */
        if (asprintf(&temp, ".#%s.new", base) < 0 || path_join_root(root, "/etc/skel", &skel) < 0)
                return -ENOMEM;
        remove_tree_at(parent_fd, temp, 0);
        if (mkdirat(parent_fd, temp, 0700) < 0)
                return -errno;
        temp_fd = openat(parent_fd, temp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (temp_fd < 0) {
                r = -errno;
                goto fail;
        }
        skel_fd = open_dir_nofollow(AT_FDCWD, skel, 0);
        if (skel_fd >= 0 && (r = copy_tree(skel_fd, temp_fd, uid, gid, 0)) < 0)
                goto fail;
        if (fchown(temp_fd, uid, gid) < 0 || fchmod(temp_fd, 0750) < 0 ||
                renameat2(parent_fd, temp, parent_fd, base, RENAME_NOREPLACE) < 0) {
                r = -errno;
                goto fail;
        }
        return 1;
fail:
        remove_tree_at(parent_fd, temp, 0);
        return r == -EEXIST ? 0 : r;
}
