/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/atomic-file.h"
#include "basic/selinux-util.h"

static bool valid_component(const char *name)
{
        return !isempty(name) && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..") &&
               strlen(name) < 200;
}

int atomic_file_begin(
        int dir_fd, const char *name, mode_t mode, uid_t uid, gid_t gid, struct atomic_file *ret)
{
        _cleanup_free_ char *temp = NULL, *copy = NULL;
        int fd = -EBADF;

        if (!valid_component(name))
                return -EINVAL;
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        /* The temp is created with the label of the file it replaces. */
        int label = selinux_create_label_begin(dir_fd, name, S_IFREG | (mode & 07777));
        if (label < 0)
                return label;
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                free(temp);
                if (asprintf(&temp, ".#%s-%06lx", name, (unsigned long)(random() & 0xffffff)) < 0) {
                        temp = NULL;
                        return -ENOMEM;
                }
                fd = openat(
                        dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
                if (fd >= 0 || errno != EEXIST)
                        break;
        }
        if (label > 0) {
                int saved = errno;
                selinux_create_label_end();
                errno = saved;
        }
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode & 07777) < 0 ||
                ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)) {
                int r = -errno;
                close(fd);
                unlinkat(dir_fd, temp, 0);
                return r;
        }
        FILE *f = fdopen(fd, "w");
        if (!f) {
                int r = -errno;
                close(fd);
                unlinkat(dir_fd, temp, 0);
                return r;
        }
        *ret = (struct atomic_file){
                .dir_fd = dir_fd, .name = TAKE_PTR(copy), .temp_name = TAKE_PTR(temp), .f = f};
        return 0;
}

int atomic_file_sync(struct atomic_file *af)
{
        if (!af->f || !af->temp_name)
                return -EBADF;
        if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) < 0)
                return errno ? -errno : -EIO;
        return 0;
}

int atomic_file_rename(struct atomic_file *af)
{
        int r = 0;

        if (!af->f || !af->temp_name)
                return -EBADF;
        /* Data already flushed by atomic_file_sync(); fclose cannot lose any. */
        if (fclose(af->f) != 0)
                r = -errno;
        af->f = NULL;
        if (r == 0 && renameat(af->dir_fd, af->temp_name, af->dir_fd, af->name) < 0)
                r = -errno;
        if (r < 0) {
                atomic_file_abort(af);
                return r;
        }
        free(af->temp_name);
        free(af->name);
        af->temp_name = af->name = NULL;
        return 0;
}

int atomic_file_commit(struct atomic_file *af)
{
        int dir_fd = af->dir_fd;
        int r = atomic_file_sync(af);

        if (r == 0)
                r = atomic_file_rename(af);
        if (r < 0) {
                atomic_file_abort(af);
                return r;
        }
        /* Make the rename itself durable. */
        int dfd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
        }
        return 0;
}

void atomic_file_abort(struct atomic_file *af)
{
        if (af->f) {
                fclose(af->f);
                af->f = NULL;
        }
        if (af->temp_name) {
                int saved = errno;
                unlinkat(af->dir_fd, af->temp_name, 0);
                errno = saved;
        }
        free(af->temp_name);
        free(af->name);
        af->temp_name = af->name = NULL;
}

int write_file_atomic(
        int dir_fd, const char *name, const void *data, size_t size, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_atomic_file_ struct atomic_file af = {};
        int r = atomic_file_begin(dir_fd, name, mode, uid, gid, &af);

        if (r < 0)
                return r;
        if (size && fwrite(data, 1, size, af.f) != size)
                return errno ? -errno : -EIO;
        return atomic_file_commit(&af);
}

int open_dir_nofollow(int dir_fd, const char *path, int flags)
{
        _cleanup_free_ char *copy = strdup(path ?: "");
        int fd, next;
        char *save = NULL;

        if (!copy || isempty(path))
                return copy ? -EINVAL : -ENOMEM;
        fd = openat(path[0] == '/' ? AT_FDCWD : dir_fd, path[0] == '/' ? "/" : ".",
                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "..")) {
                        close(fd);
                        return -EINVAL;
                }
                next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | flags);
                int saved = errno;
                close(fd);
                if (next < 0)
                        return saved == ELOOP || saved == ENOTDIR ? -ELOOP : -saved;
                fd = next;
        }
        return fd;
}

int read_file_bounded(int dir_fd, const char *name, size_t max, char **ret_data, size_t *ret_size)
{
        /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
        _cleanup_close_ int fd =
                openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        data = malloc((size_t)st.st_size + 2);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, data + size, (size_t)st.st_size + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
                if (size > (size_t)st.st_size) /* grew while reading */
                        return -EFBIG;
        }
        data[size] = '\0';
        *ret_data = TAKE_PTR(data);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int atomic_file_remove_stale(int dir_fd, const char *name)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        size_t n = strlen(name);
        int removed = 0;

        if (!d) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        rewinddir(d);
        for (struct dirent *e; (e = readdir(d));)
                if (strneq(e->d_name, ".#", 2) && strneq(e->d_name + 2, name, n) &&
                        e->d_name[2 + n] == '-' && unlinkat(dir_fd, e->d_name, 0) == 0)
                        removed++;
        closedir(d);
        return removed;
}
