/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "accountsd/broker-peers.h"
#include "basic/log.h"
#include "basic/socket-util.h"
#include "basic/macro.h"

int peer_uid(int fd, uint32_t *ret_uid)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        *ret_uid = cred.uid;
        return 0;
}

static struct peer_count *find(const struct peer_table *t, uint32_t uid)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->e[i].uid == uid)
                        return &t->e[i];
        return NULL;
}

unsigned peer_table_count(const struct peer_table *t, uint32_t uid)
{
        const struct peer_count *c = find(t, uid);
        return c ? c->n : 0;
}

int peer_table_acquire(struct peer_table *t, uint32_t uid)
{
        struct peer_count *c = find(t, uid);

        if (t->total >= t->max_total) {
                t->refused_total++;
                return -EMFILE;
        }
        if (uid != 0 && c && c->n >= t->max_per_uid) {
                t->refused_per_uid++;
                return -EUSERS;
        }
        if (!c) {
                /* At most max_total UIDs hold a slot: the table is bounded by the total. */
                if (t->n == t->allocated) {
                        size_t k = t->allocated ? t->allocated * 2 : 16;
                        struct peer_count *grown = reallocarray(t->e, k, sizeof(*grown));
                        if (!grown)
                                return -ENOMEM;
                        t->e = grown;
                        t->allocated = k;
                }
                c = &t->e[t->n++];
                *c = (struct peer_count){.uid = uid};
        }
        c->n++;
        t->total++;
        return 0;
}

void peer_table_release(struct peer_table *t, uint32_t uid)
{
        struct peer_count *c = find(t, uid);

        if (!c || c->n == 0)
                return;
        t->total--;
        if (--c->n == 0)
                *c = t->e[--t->n];
}

void peer_table_done(struct peer_table *t)
{
        free(t->e);
        t->e = NULL;
        t->n = t->allocated = t->total = 0;
}

bool peer_seen_before(struct peer_seen *s, uint32_t uid)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->uid[i] == uid)
                        return true;
        if (s->n >= PEER_SEEN_MAX)
                return true;
        s->uid[s->n++] = uid;
        return false;
}

/* Process-wide: sd_listen_fds() may be read once (it unsets the environment). */
static struct {
        int *fds;
        char **names;
        int n;
        bool collected;
} passed;

int listen_fds_collect(void)
{
        char **names = NULL;
        int n;

        if (passed.collected)
                return passed.n;
        passed.collected = true;
        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return log_error_errno(n, "Cannot read the sockets passed by systemd: %m");
        if (n == 0)
                return 0;
        passed.fds = calloc(n, sizeof(int));
        if (!passed.fds) {
                strv_free(names);
                return -ENOMEM;
        }
        for (int i = 0; i < n; i++)
                passed.fds[i] = SD_LISTEN_FDS_START + i;
        passed.names = names;
        passed.n = n;
        log_debug("%d listening sockets passed by systemd.", n);
        return n;
}

int listen_fds_take(const char *name)
{
        for (int i = 0; i < passed.n; i++)
                if (passed.fds[i] >= 0 && passed.names && passed.names[i] && streq(passed.names[i], name)) {
                        int fd = passed.fds[i];
                        passed.fds[i] = -EBADF;
                        return fd;
                }
        return -ENOENT;
}

void listen_fds_close_unused(void)
{
        for (int i = 0; i < passed.n; i++)
                if (passed.fds[i] >= 0) {
                        log_warning("Socket \"%s\" passed by systemd is not one of ours; closed.",
                                passed.names && passed.names[i] ? passed.names[i] : "?");
                        safe_close(passed.fds[i]);
                        passed.fds[i] = -EBADF;
                }
}

int listen_socket(const char *dir, const char *name, mode_t mode, int *ret_fd)
{
        int fd = listen_fds_take(name);

        if (fd >= 0) {
                /* The loop never blocks on accept(): systemd passes blocking sockets. */
                /* Not closed: a descriptor that is not the socket promised may be anything. */
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(EBADF,
                                "Socket \"%s\" from systemd is not a listening Unix stream socket.", name);
                int flags = fcntl(fd, F_GETFL);
                if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                        safe_close(fd);
                        return log_error_errno(errno, "Cannot make socket \"%s\" non-blocking: %m", name);
                }
                log_debug("Using socket \"%s\" from systemd.", name);
                *ret_fd = fd;
                return 0;
        }
        return unix_listen(dir, name, mode, ret_fd);
}

uint32_t peer_pid(int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0
                       ? 0
                       : (uint32_t)cred.pid;
}

uint32_t peer_parent_pid(uint32_t pid)
{
        char path[32], buf[512];
        _cleanup_close_ int fd = -EBADF;
        unsigned long ppid;
        ssize_t n;

        if (pid == 0)
                return 0;
        snprintf(path, sizeof(path), "/proc/%" PRIu32 "/stat", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
                return 0;
        buf[n] = '\0';
        /* "PID (COMM) STATE PPID ...": COMM may hold anything, even ")". */
        const char *p = strrchr(buf, ')');
        if (!p || sscanf(p + 1, " %*c %lu", &ppid) != 1 || ppid == 0 || ppid > UINT32_MAX)
                return 0;
        return (uint32_t)ppid;
}
