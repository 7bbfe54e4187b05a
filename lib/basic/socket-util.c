/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/socket-util.h"
#include "basic/time-util.h"

int fd_wait_until(int fd, short events, uint64_t deadline)
{
        for (;;) {
                uint64_t now = now_monotonic_usec();
                struct pollfd p = {.fd = fd, .events = events};
                int n;

                if (now >= deadline)
                        return -ETIMEDOUT;
                /* Round up: a 0 ms poll() would spin until the deadline. */
                n = poll(&p, 1, (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT32_MAX));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -ETIMEDOUT;
                return 0;
        }
}

int recv_exact_until(int fd, void *buf, size_t size, uint64_t deadline)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = recv(fd, (uint8_t *)buf + done, size - done, MSG_DONTWAIT);
                if (n > 0) {
                        done += (size_t)n;
                        continue;
                }
                if (n == 0)
                        return -ECONNRESET;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return negative_errno();
                int k = fd_wait_until(fd, POLLIN, deadline);
                if (k < 0)
                        return k;
        }
        return 0;
}

int send_all_until(int fd, const void *buf, size_t size, uint64_t deadline)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = send(fd, (const uint8_t *)buf + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n >= 0) {
                        done += (size_t)n;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                        return negative_errno();
                int k = fd_wait_until(fd, POLLOUT, deadline);
                if (k < 0)
                        return k;
        }
        return 0;
}

int unix_connect(const char *path, int *ret_fd)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -EINVAL;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int unix_listen(const char *dir, const char *name, mode_t mode, int *ret_fd)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;

        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "Socket path \"%s/%s\" too long.", dir, name);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a socket: %m");
        if (unlink(sa.sun_path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Cannot remove the old \"%s\": %m", sa.sun_path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, mode) < 0 ||
                listen(fd, 128) < 0)
                return log_error_errno(errno, "Cannot listen on \"%s\": %m", sa.sun_path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}
