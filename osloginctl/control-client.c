/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/control-proto.h"
#include "basic/macro.h"
#include "basic/socket-util.h"
#include "basic/time-util.h"
#include "osloginctl/control-client.h"

/* Hands each whole "progress: " line at the start of BUF[0..*SIZE) to CB
 * and removes it. */
static void take_progress(char *buf, size_t *size, control_progress_t cb, void *userdata)
{
        for (;;) {
                char *nl = memchr(buf, '\n', *size);
                if (!nl || !strneq(buf, "progress: ", 10))
                        return;
                *nl = '\0';
                cb(buf, userdata);
                size_t used = (size_t)(nl + 1 - buf);
                memmove(buf, nl + 1, *size - used);
                *size -= used;
        }
}

int control_query(const char *runtime_dir, const char *command, unsigned timeout_ms, char **ret_reply)
{
        return control_query_progress(runtime_dir, command, timeout_ms, NULL, NULL, ret_reply);
}

int control_query_progress(const char *runtime_dir, const char *command, unsigned timeout_ms,
        control_progress_t cb, void *userdata, char **ret_reply)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL, *line = NULL;
        uint64_t deadline = now_monotonic_usec() + timeout_ms * 1000ull;
        size_t size = 0;

        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", runtime_dir, CONTROL_SOCKET_NAME) >=
                sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        if (asprintf(&line, "%s\n", command) < 0 || !(buf = malloc(CONTROL_REPLY_MAX + 1)))
                return -ENOMEM;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
                return negative_errno();
        for (;;) {
                uint64_t now = now_monotonic_usec();
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (now >= deadline)
                        return -ETIMEDOUT;
                int k = poll(&p, 1, (int)((deadline - now + 999) / 1000));
                if (k < 0 && errno != EINTR)
                        return negative_errno();
                if (k <= 0)
                        continue;
                ssize_t n = recv(fd, buf + size, CONTROL_REPLY_MAX - size, 0);
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                size += (size_t)n;
                if (cb)
                        take_progress(buf, &size, cb, userdata);
                if (size >= CONTROL_REPLY_MAX)
                        return -EFBIG;
        }
        if (size == 0)
                return -ECONNRESET;
        buf[size] = '\0';
        *ret_reply = TAKE_PTR(buf);
        return 0;
}
