/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Who is on the other end of accountsd's sockets, and how much of the
 * daemon each peer may hold.
 *
 * Every socket (nss.sock, keys.sock, pam.sock) counts its connections per
 * peer UID (SO_PEERCRED at accept): one local user holding many
 * connections, or flooding misses, gets its own connections refused and
 * never the slots of other users. Root is bounded only by the socket's
 * total: sshd asks as root for every login at once.
 *
 * The listening sockets come from systemd when the daemon is socket-
 * activated (oslogin-accountsd.socket, FileDescriptorName= = the socket's
 * file name), so a restart loses no request: connections wait in the
 * backlog the service manager keeps. Without systemd the daemon binds them
 * itself (unix_listen). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct peer_count {
        uint32_t uid;
        unsigned n;
};

struct peer_table {
        struct peer_count *e;
        size_t n, allocated;
        unsigned total;
        unsigned max_total, max_per_uid;
        uint64_t refused_total, refused_per_uid;
};

/* The peer UID of connected socket FD: 0 and *RET_UID, or -errno. */
int peer_uid(int fd, uint32_t *ret_uid);
/* The peer's PID (SO_PEERCRED), 0 when unknown. */
uint32_t peer_pid(int fd);
/* PID's parent from /proc (the sshd session of a key helper), 0 when unknown. */
uint32_t peer_parent_pid(uint32_t pid);
/* Takes a slot for UID: 0, or -EUSERS (the UID holds max_per_uid already;
 * never for root), -EMFILE (max_total reached), -ENOMEM. */
int peer_table_acquire(struct peer_table *t, uint32_t uid);
void peer_table_release(struct peer_table *t, uint32_t uid);
unsigned peer_table_count(const struct peer_table *t, uint32_t uid);
void peer_table_done(struct peer_table *t);

/* UIDs already logged (a refusal is logged once per UID). Bounded: past
 * PEER_SEEN_MAX UIDs nothing more is logged. */
#define PEER_SEEN_MAX 64u
struct peer_seen {
        uint32_t uid[PEER_SEEN_MAX];
        size_t n;
};
/* True when UID was seen before; otherwise remembers it (when there is room). */
bool peer_seen_before(struct peer_seen *s, uint32_t uid);

/* The listening sockets systemd passed (sd_listen_fds_with_names), read
 * once at start; each taken at most once. */
int listen_fds_collect(void);
/* The passed socket named NAME (FileDescriptorName=), or -ENOENT. The
 * caller owns it. */
int listen_fds_take(const char *name);
/* Closes the passed sockets nobody took (a unit listing one we do not serve). */
void listen_fds_close_unused(void);

/* A socket by NAME: systemd's when passed, else a new one at DIR/NAME
 * with MODE (unix_listen). */
int listen_socket(const char *dir, const char *name, mode_t mode, int *ret_fd);
