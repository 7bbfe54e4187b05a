/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The broker protocol: accountsd answers the questions of its thin clients
 * (oslogin-authorized-keys, the certificate principals command and
 * pam_oslogin.so), which link libc (and libpam) only and never talk to the
 * metadata server themselves.
 *
 * Two Unix stream sockets, one protocol; each socket states which kinds
 * it serves and whom it serves (checked with SO_PEERCRED on every
 * connection, the file mode is only a first layer):
 *   keys.sock  0666  KEYS, PRINCIPALS        from root or the configured
 *                                            AuthorizedKeysCommandUser
 *   pam.sock   0600  ACCOUNT, AUTH_START,    from root only
 *                    AUTH_CONTINUE
 * A kind sent to the wrong socket, or by a peer the socket does not serve,
 * gets BROKER_REFUSED and the connection is closed.
 *
 * One request and one reply per connection; the client closes. Every
 * message: a 12-byte header, then PAYLOAD_SIZE bytes (little-endian; the
 * framing of basic/message-header.h, shared with the NSS protocol):
 *   u32 magic   BROKER_PROTO_MAGIC
 *   u16 version BROKER_PROTO_VERSION
 *   u16 kind    request: enum broker_kind; reply: enum broker_status
 *   u32 payload_size
 * Payload fields use the reader and writer of basic/cache-record.h (u32;
 * string = u32 length + bytes, no NUL inside). No string carries a control
 * character (< 0x20, 0x7f): a key line with a newline would be two lines
 * in sshd's eyes, and a message goes to a terminal; the daemon drops or
 * cleans such values before it answers. Requests are at most
 * BROKER_REQUEST_MAX bytes, replies at most BROKER_REPLY_MAX.
 *
 * Request payloads:
 *   KEYS           string user, string fingerprint ("" = every key)
 *   PRINCIPALS     string user, string certificate (sshd's %k, base64)
 *   ACCOUNT        string user, string service (PAM_SERVICE),
 *                  string rhost (PAM_RHOST, "" if none), u32 uid (the
 *                  UID NSS resolves USER to in the asking process: the
 *                  daemon refuses a profile with another UID before it
 *                  grants or revokes anything; never 0)
 *   AUTH_START     string user, string service, string rhost
 *   AUTH_CONTINUE  string user, string session, u32 challenge_id,
 *                  u32 action (enum broker_auth_action),
 *                  string credential (a secret: wiped on both sides)
 *
 * Reply payloads: always first u32 kind (the request kind answered: a reply
 * meant for another question is malformed), then a string message (why,
 * for the log and, for AUTH_*, the server's reason to show the user; may
 * be ""), then:
 *   KEYS, GRANTED:        u32 n, n x string authorized_keys line
 *   PRINCIPALS, GRANTED:  u32 n, n x string principal
 *   ACCOUNT, GRANTED:     u32 flags (enum broker_account_flag), u32 uid
 *                         (the profile's UID: the module refuses when
 *                         NSS resolves the user to another one; never 0)
 *   AUTH_START, CHALLENGE and AUTH_CONTINUE, CHALLENGE:
 *                         string session (opaque token made by the
 *                         daemon; the metadata server's session id never
 *                         leaves it), u32 n, n x (u32 id, string type,
 *                         string status), 1 <= n <= BROKER_CHALLENGES_MAX
 *   anything else:        nothing more.
 * Which statuses answer which kind:
 *   KEYS, PRINCIPALS, ACCOUNT: GRANTED DENIED NOT_OURS UNKNOWN_USER
 *                              UNAVAILABLE REFUSED
 *   AUTH_START:    GRANTED CHALLENGE NO_FACTOR DENIED NOT_OURS
 *                  UNKNOWN_USER UNAVAILABLE REFUSED
 *                  (GRANTED: the server authenticated without a challenge)
 *   AUTH_CONTINUE: GRANTED CHALLENGE DENIED UNAVAILABLE REFUSED
 * (CHALLENGE after AUTH_CONTINUE: START_ALTERNATE was done, or the code
 * was wrong and another try is allowed; the message says which.)
 *
 * Decoders fail with -EBADMSG on short input, oversize lengths, embedded
 * NUL, a bad magic/version/kind and trailing bytes; a client treats any
 * malformed reply as UNAVAILABLE. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/cache-record.h"
#include "basic/message-header.h"
#include "basic/valid.h"

#define KEYS_SOCKET_NAME "keys.sock"
#define PAM_SOCKET_NAME "pam.sock"
#define BROKER_KEYS_SOCKET_PATH OSLOGIN_RUNTIME_DIR "/" KEYS_SOCKET_NAME
#define BROKER_PAM_SOCKET_PATH OSLOGIN_RUNTIME_DIR "/" PAM_SOCKET_NAME
#define BROKER_PROTO_MAGIC 0x4b4c534fu /* "OSLK" */
#define BROKER_PROTO_VERSION 1u
#define BROKER_PROTO_HEADER_SIZE MESSAGE_HEADER_SIZE
#define BROKER_REQUEST_MAX (16u * 1024u)
#define BROKER_REPLY_MAX (256u * 1024u)
#define BROKER_MESSAGE_MAX 1024u  /* the message string */
#define BROKER_KEY_LINE_MAX 8192u /* one authorized_keys line */
#define BROKER_KEYS_MAX 256u
#define BROKER_CERTIFICATE_MAX 12288u
#define BROKER_CREDENTIAL_MAX 256u
#define BROKER_SESSION_MAX 64u
#define BROKER_CHALLENGES_MAX 16u
#define BROKER_CHALLENGE_TYPE_MAX 64u

enum broker_kind {
        BROKER_KEYS = 1,
        BROKER_PRINCIPALS = 2,
        BROKER_ACCOUNT = 3,
        BROKER_AUTH_START = 4,
        BROKER_AUTH_CONTINUE = 5,
};

enum broker_status {
        BROKER_GRANTED = 0,      /* keys/principals follow; account allowed; authenticated */
        BROKER_DENIED = 1,       /* a definite no (policy, expired, refused fingerprint, wrong code) */
        BROKER_NOT_OURS = 2,     /* a local account (or root): the host decides, not OS Login */
        BROKER_UNKNOWN_USER = 3, /* no such OS Login user */
        BROKER_UNAVAILABLE = 4,  /* cannot know now (server down, breaker open, busy): fail closed */
        BROKER_CHALLENGE = 5,    /* AUTH_*: a second factor is needed, challenges follow */
        BROKER_NO_FACTOR = 6,    /* AUTH_START: two-factor is off; OS Login users have no password */
        BROKER_REFUSED = 7,      /* this peer may not ask this on this socket */
};

enum broker_account_flag {
        BROKER_ACCOUNT_ADMIN = 1u << 0, /* adminLogin holds: the daemon granted sudo */
};

enum broker_auth_action {
        BROKER_AUTH_RESPOND = 1,         /* CREDENTIAL answers challenge CHALLENGE_ID */
        BROKER_AUTH_START_ALTERNATE = 2, /* trigger CHALLENGE_ID (SMS, phone prompt) first */
};

struct broker_challenge {
        uint32_t id;
        char type[BROKER_CHALLENGE_TYPE_MAX + 1];   /* "TOTP", "AUTHZEN", "INTERNAL_TWO_FACTOR", ... */
        char status[BROKER_CHALLENGE_TYPE_MAX + 1]; /* "READY", "PROPOSED", ... */
};

struct broker_request {
        enum broker_kind kind;
        char user[USER_NAME_MAX + 1];
        char fingerprint[BROKER_MESSAGE_MAX + 1];   /* KEYS */
        char *certificate;                          /* PRINCIPALS, malloc'd */
        char service[64 + 1], rhost[256 + 1];       /* ACCOUNT, AUTH_* */
        uint32_t uid;                               /* ACCOUNT: what NSS resolved USER to */
        char session[BROKER_SESSION_MAX + 1];       /* AUTH_CONTINUE */
        uint32_t challenge_id, action;              /* AUTH_CONTINUE */
        char credential[BROKER_CREDENTIAL_MAX + 1]; /* AUTH_CONTINUE: wiped by broker_request_done() */
};

struct broker_reply {
        enum broker_status status;
        char message[BROKER_MESSAGE_MAX + 1];
        char **lines; /* KEYS/PRINCIPALS GRANTED: NULL-terminated, malloc'd */
        uint32_t account_flags;
        uint32_t uid; /* ACCOUNT GRANTED: the OS Login profile's UID (not 0) */
        char session[BROKER_SESSION_MAX + 1];
        struct broker_challenge challenges[BROKER_CHALLENGES_MAX];
        size_t n_challenges;
};

/* Wipes the credential and frees what the structs own. */
void broker_request_done(struct broker_request *q);
void broker_reply_done(struct broker_reply *r);

const char *broker_kind_to_string(enum broker_kind k);
const char *broker_status_to_string(enum broker_status s);

/* Codec. Encoders append a whole message (header + payload) to B and
 * return -EINVAL for a field out of its bounds; decoders take a whole
 * message and return 0 or -EBADMSG. A reply is decoded for the kind of
 * the request it answers. */
int broker_request_encode(const struct broker_request *q, struct byte_buffer *b);
int broker_request_decode(const uint8_t *msg, size_t size, struct broker_request *ret);
int broker_reply_encode(enum broker_kind kind, const struct broker_reply *r, struct byte_buffer *b);
int broker_reply_decode(enum broker_kind kind, const uint8_t *msg, size_t size, struct broker_reply *ret);
/* True when STATUS is an answer to KIND (the table above). */
bool broker_status_answers(enum broker_kind kind, enum broker_status status);
/* Parses a message header; IS_REPLY selects the size limit and the kind
 * check. 0 with the kind (or status) and payload size, or -EBADMSG. */
int broker_header_decode(
        const uint8_t *header, bool is_reply, uint16_t *ret_kind, uint32_t *ret_payload_size);

/* Client: connect (SOCK_CLOEXEC|SOCK_NONBLOCK) to SOCKET_PATH, send Q
 * (MSG_NOSIGNAL), wait for the whole reply with poll() until TIMEOUT_MS
 * after the call started, decode it. -ENOENT/-ECONNREFUSED at once when
 * no daemon listens, -ETIMEDOUT, -EBADMSG, -errno; never retries. */
int broker_query(const char *socket_path, const struct broker_request *q, unsigned timeout_ms,
        struct broker_reply *ret);

/* Server side. accountsd serves the sockets without blocking
 * (accountsd/broker-server.c): broker_header_decode() on the header, then
 * broker_request_decode() on the whole request, and broker_reply_encode()
 * for the answer. The blocking pair below is for test servers:
 * broker_read_request() reads one whole request within TIMEOUT_MS (the
 * raw bytes, credential included, are wiped before it returns): -EBADMSG
 * on anything malformed, -ETIMEDOUT, -ECONNRESET when the peer closed
 * early. broker_write_reply() encodes and sends within TIMEOUT_MS
 * (MSG_NOSIGNAL); -EINVAL when R cannot be encoded for KIND. */
int broker_read_request(int fd, unsigned timeout_ms, struct broker_request *ret);
int broker_write_reply(int fd, enum broker_kind kind, const struct broker_reply *r, unsigned timeout_ms);
