/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/macro.h"
#include "basic/mkdir-util.h"

int mkdir_p_open(int dir_fd, const char *path, mode_t parent_mode, mode_t mode)
{
        _cleanup_close_ int fd = -EBADF;
        char *save = NULL, *next;

        if (isempty(path))
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        fd = openat(path[0] == '/' ? AT_FDCWD : dir_fd, path[0] == '/' ? "/" : ".",
                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (char *c = strtok_r(copy, "/", &save); c; c = next) {
                next = strtok_r(NULL, "/", &save);
                if (streq(c, ".."))
                        return -EINVAL;
                /* EEXIST: whatever is there is checked by the O_NOFOLLOW open. */
                if (!streq(c, ".") && mkdirat(fd, c, next ? parent_mode : mode) < 0 && errno != EEXIST)
                        return -errno;
                int sub = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return errno == ELOOP || errno == ENOTDIR ? -ELOOP : -errno;
                safe_close(fd);
                fd = sub;
        }
        return TAKE_FD(fd);
}
