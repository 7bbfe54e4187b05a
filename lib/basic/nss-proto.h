/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The NSS miss protocol between libnss_oslogin.so.2 and accountsd, on the
 * Unix stream socket NSS_PROTO_SOCKET_PATH (mode 0666: it only answers
 * lookups). One request and one reply per connection; the client closes.
 *
 * Every message: a 12-byte header, then PAYLOAD_SIZE bytes (the framing
 * of basic/message-header.h, shared with the broker protocol).
 *   u32 magic   NSS_PROTO_MAGIC
 *   u16 version NSS_PROTO_VERSION
 *   u16 kind    request: enum nss_proto_type; reply: enum nss_proto_status
 *   u32 payload_size
 * (little-endian).
 *
 * Request payload (at most NSS_PROTO_REQUEST_MAX bytes in all):
 *   GETPWNAM, GETGRNAM, INITGROUPS: the name, no NUL (basic/valid.h rules)
 *   GETPWUID, GETGRGID:             u32 id
 * Reply payload: empty unless the status is FOUND; then the record of
 * basic/cache-record.h for the question: passwd record (GETPW*), group
 * record (GETGR*), gid-list record (INITGROUPS). At most
 * NSS_PROTO_REPLY_MAX bytes in all (groups can have thousands of members).
 *
 * The client checks that the answer matches the question (same name, UID
 * or GID) and treats any malformed reply as UNAVAIL. The server closes the
 * connection on a malformed request without answering.
 *
 * accountsd serves the socket without blocking (accountsd/nss-server.c):
 * it reads the header, checks it with nss_proto_header_decode(), reads the
 * payload, decodes the whole message with nss_proto_request_decode(), and
 * sends the reply message that the directory built with the
 * nss_proto_reply_*() encoders. nss_proto_read_request() and
 * nss_proto_write_message() are the blocking equivalents, for the test
 * servers, the benchmark and the fuzzer.
 * Client side (the module, osloginctl, tests): nss_proto_query(). */

#include <stdbool.h>
#include <stdint.h>

#include "basic/cache-record.h"
#include "basic/message-header.h"
#include "basic/valid.h"

#define NSS_SOCKET_NAME "nss.sock"
#define NSS_PROTO_SOCKET_PATH OSLOGIN_RUNTIME_DIR "/" NSS_SOCKET_NAME
#define NSS_PROTO_MAGIC 0x4e4c534fu /* "OSLN" */
#define NSS_PROTO_VERSION 1u
#define NSS_PROTO_HEADER_SIZE MESSAGE_HEADER_SIZE
#define NSS_PROTO_REQUEST_MAX 256u
#define NSS_PROTO_REPLY_MAX (1024u * 1024u)
/* Environment guard: accountsd sets OSLOGIN_NSS_BYPASS=1 in its own
 * environment so that any lookup it makes never loops back to itself
 * through the module (read with secure_getenv: in setuid programs it is
 * ignored, and it can only disable the socket, never add answers). */
#define NSS_PROTO_BYPASS_ENV "OSLOGIN_NSS_BYPASS"

enum nss_proto_type {
        NSS_PROTO_GETPWNAM = 1,
        NSS_PROTO_GETPWUID = 2,
        NSS_PROTO_GETGRNAM = 3,
        NSS_PROTO_GETGRGID = 4,
        NSS_PROTO_INITGROUPS = 5,
};

enum nss_proto_status {
        NSS_PROTO_FOUND = 0,
        NSS_PROTO_NOTFOUND = 1,
        NSS_PROTO_UNAVAIL = 2,  /* the daemon cannot tell (MDS down, breaker open) */
        NSS_PROTO_TRYAGAIN = 3, /* transient; the module maps it to UNAVAIL too: it never retries */
};

struct nss_proto_request {
        enum nss_proto_type type;
        char name[USER_NAME_MAX + 1]; /* GETPWNAM, GETGRNAM, INITGROUPS */
        uint32_t id;                  /* GETPWUID, GETGRGID */
};

/* True for the by-name types. */
bool nss_proto_type_by_name(enum nss_proto_type type);
const char *nss_proto_type_to_string(enum nss_proto_type type);
const char *nss_proto_status_to_string(enum nss_proto_status status);

/* Fills a request; -EINVAL for an invalid name or type. */
int nss_proto_request_by_name(enum nss_proto_type type, const char *name, struct nss_proto_request *ret);
int nss_proto_request_by_id(enum nss_proto_type type, uint32_t id, struct nss_proto_request *ret);

/* Parses a message header. IS_REPLY selects the size limit and the kind
 * check. 0 with the kind and payload size, or -EBADMSG. */
int nss_proto_header_decode(
        const uint8_t *header, bool is_reply, uint16_t *ret_kind, uint32_t *ret_payload_size);

/* Request codec. Decode takes a whole message (header + payload). */
int nss_proto_request_encode(const struct nss_proto_request *q, struct byte_buffer *b);
int nss_proto_request_decode(const uint8_t *msg, size_t size, struct nss_proto_request *ret);

/* Reply encoders (server side): a whole message appended to B. */
int nss_proto_reply_status(struct byte_buffer *b, enum nss_proto_status status);
int nss_proto_reply_passwd(struct byte_buffer *b, uint32_t uid, uint32_t gid, const char *name,
        const char *gecos, const char *home, const char *shell);
int nss_proto_reply_group(struct byte_buffer *b, uint32_t gid, const char *name, const char *const *members);
int nss_proto_reply_gid_list(struct byte_buffer *b, const char *name, const uint32_t *gids, size_t n_gids);

struct nss_proto_reply {
        enum nss_proto_status status;
        union {
                struct passwd_record passwd;     /* GETPWNAM, GETPWUID */
                struct group_record group;       /* GETGRNAM, GETGRGID */
                struct gid_list_record gid_list; /* INITGROUPS */
        };
};

/* Decodes a whole reply message to question Q: -EBADMSG when malformed or
 * when the record does not answer Q (other name/UID/GID). Spans point into
 * MSG. */
int nss_proto_reply_decode(
        const struct nss_proto_request *q, const uint8_t *msg, size_t size, struct nss_proto_reply *ret);

/* Client: connect (non-blocking, SOCK_CLOEXEC) to SOCKET_PATH, send Q
 * (MSG_NOSIGNAL), wait for the whole reply with poll() until TIMEOUT_MS
 * after the call started. Returns 0 and the raw reply message (malloc'd,
 * decode it with nss_proto_reply_decode()), -ENOENT/-ECONNREFUSED/-EAGAIN
 * at once when no daemon listens, -ETIMEDOUT, -EBADMSG, -errno. Never
 * retries, never sleeps otherwise. */
int nss_proto_query(const char *socket_path, const struct nss_proto_request *q, unsigned timeout_ms,
        uint8_t **ret_msg, size_t *ret_size);

/* Server: read one request from a connected socket within TIMEOUT_MS.
 * -EBADMSG on anything malformed (close without answering), -ETIMEDOUT,
 * -ECONNRESET when the peer closed early. */
int nss_proto_read_request(int fd, unsigned timeout_ms, struct nss_proto_request *ret);
/* Writes B's bytes within TIMEOUT_MS (MSG_NOSIGNAL). */
int nss_proto_write_message(int fd, const struct byte_buffer *b, unsigned timeout_ms);
