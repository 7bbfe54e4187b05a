/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Blocking-with-a-deadline I/O on non-blocking stream sockets, shared by
 * the socket protocols' clients and servers (nss-proto, broker-proto) and
 * the daemon's listeners. Deadlines are CLOCK_MONOTONIC microseconds
 * (basic/time-util.h). Always MSG_NOSIGNAL, SOCK_CLOEXEC. */

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Waits for EVENTS on FD until DEADLINE: 0, -ETIMEDOUT or -errno. */
int fd_wait_until(int fd, short events, uint64_t deadline);
/* Exactly SIZE bytes: 0, -ECONNRESET when the peer closed first,
 * -ETIMEDOUT, -errno. */
int recv_exact_until(int fd, void *buf, size_t size, uint64_t deadline);
/* All SIZE bytes: 0, -ETIMEDOUT, -errno (-EPIPE when the peer is gone). */
int send_all_until(int fd, const void *buf, size_t size, uint64_t deadline);
/* A non-blocking, close-on-exec connection to the stream socket PATH. A
 * Unix socket connects at once or fails at once (-ENOENT, -ECONNREFUSED,
 * -EAGAIN when the backlog is full): no waiting, no retry. */
int unix_connect(const char *path, int *ret_fd);
/* A listening socket at DIR/NAME with MODE, replacing one an earlier run
 * left (DIR is root's: nobody else can plant one). Logs its failures. */
int unix_listen(const char *dir, const char *name, mode_t mode, int *ret_fd);
