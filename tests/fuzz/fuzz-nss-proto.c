/* SPDX-License-Identifier: Apache-2.0 */
/* Both sides of the NSS socket protocol (basic/nss-proto.h) on hostile
 * bytes.
 *
 * The input is what travels on one connection: a request message, then the
 * reply to it. The request (its header says where it ends) goes to both
 * readers, nss_proto_read_request() over a socketpair (the blocking one)
 * and nss_proto_header_decode() + nss_proto_request_decode() (what
 * accountsd's nss-server.c runs), which must agree, and a request that decodes
 * must encode back to the same bytes. The rest goes to what the NSS module
 * and osloginctl run on a reply, nss_proto_reply_decode() against that
 * question (or, when the request is no good, against a fixed set of
 * questions), then pack_passwd()/pack_group() into exact-size buffers, and
 * accountsd's directory_writer_add_reply(). A reply the server's encoder
 * also accepts must encode back to the same bytes. Seeds:
 * tests/fuzz/gen-seeds.c (`make fuzz-seeds`). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accountsd/directory-records.h"
#include "basic/cache-writer.h"
#include "basic/nss-proto.h"
#include "nss_oslogin/pack.h"
#include "tests/fuzz/fuzz-check.h"

static char *span_dup(struct span s)
{
        char *p = strndup(s.ptr, s.len);
        CHECK(p);
        return p;
}

/* The blocking reader (the test servers') on one connection's bytes. */
static int read_request_socket(const uint8_t *data, size_t size, struct nss_proto_request *ret)
{
        int fds[2], k;

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        /* The server never reads more than a whole request. */
        size = MIN(size, (size_t)NSS_PROTO_REQUEST_MAX);
        CHECK(send(fds[1], data, size, MSG_NOSIGNAL) == (ssize_t)size);
        CHECK(shutdown(fds[1], SHUT_WR) == 0);
        /* Everything is queued and the peer has shut down: no waiting. */
        k = nss_proto_read_request(fds[0], 1000, ret);
        close(fds[0]);
        close(fds[1]);
        return k;
}

/* Returns the request's length in DATA, or 0 when there is no request. */
static size_t fuzz_request(const uint8_t *data, size_t size, struct nss_proto_request *ret)
{
        struct nss_proto_request q, q_socket;
        uint32_t payload_size;
        uint16_t kind;
        size_t n;
        int k, k_socket;

        k_socket = read_request_socket(data, size, &q_socket);
        CHECK(k_socket == 0 || k_socket == -EBADMSG || k_socket == -ECONNRESET);
        if (size < NSS_PROTO_HEADER_SIZE || nss_proto_header_decode(data, false, &kind, &payload_size) < 0) {
                CHECK(k_socket < 0);
                return 0;
        }
        n = NSS_PROTO_HEADER_SIZE + (size_t)payload_size;
        if (n > size) {
                CHECK(k_socket == -ECONNRESET);
                return 0;
        }
        k = nss_proto_request_decode(data, n, &q);
        CHECK(k == 0 || k == -EBADMSG);
        CHECK(k == k_socket);
        if (k < 0)
                return 0;
        CHECK(memcmp(&q, &q_socket, sizeof(q)) == 0);
        CHECK((unsigned)q.type == kind);
        (void)nss_proto_type_to_string(q.type);

        /* One encoding per request. */
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REQUEST_MAX);
        struct nss_proto_request built;
        CHECK(nss_proto_request_encode(&q, &b) == 0);
        CHECK(b.size == n && memcmp(b.data, data, n) == 0);
        k = nss_proto_type_by_name(q.type) ? nss_proto_request_by_name(q.type, q.name, &built)
                                           : nss_proto_request_by_id(q.type, q.id, &built);
        CHECK(k == 0 && memcmp(&built, &q, sizeof(q)) == 0);
        *ret = q;
        return n;
}

static void check_pack_passwd(const struct passwd_record *pw)
{
        size_t need = pw->name.len + pw->gecos.len + pw->home.len + pw->shell.len + 4 + 2;
        _cleanup_free_ char *buf = malloc(need);
        struct passwd p;

        CHECK(buf);
        CHECK(pack_passwd(pw, &p, buf, need - 1) == -ERANGE);
        CHECK(pack_passwd(pw, &p, buf, need) == 0);
        CHECK(span_eq(pw->name, p.pw_name) && span_eq(pw->gecos, p.pw_gecos) &&
                span_eq(pw->home, p.pw_dir) && span_eq(pw->shell, p.pw_shell));
}

static void check_pack_group(const struct group_record *gr)
{
        size_t need = ((size_t)gr->n_members + 1) * sizeof(char *) + gr->name.len + 1 + 2, n = 0;
        struct span member;
        struct group g;

        for (struct byte_reader it = gr->members; group_record_next_member(&it, &member) == 0; n++)
                need += member.len + 1;
        CHECK(n == gr->n_members);
        _cleanup_free_ char *buf = malloc(need);
        CHECK(buf);
        CHECK(pack_group(gr, &g, buf, need - 1) == -ERANGE);
        CHECK(pack_group(gr, &g, buf, need) == 0);
        n = 0;
        for (struct byte_reader it = gr->members; group_record_next_member(&it, &member) == 0; n++)
                CHECK(span_eq(member, g.gr_mem[n]));
        CHECK(g.gr_mem[n] == NULL && span_eq(gr->name, g.gr_name));
}

/* The server's encoder, where it accepts the same fields, gives the same
 * bytes: one encoding per reply. (The decoder is looser than the encoder
 * on paths, e.g. "/a//b": that is not a difference in bytes.) */
static void check_reencode(
        const struct nss_proto_request *q, const struct nss_proto_reply *r, const uint8_t *msg, size_t size)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        int k;

        if (r->status != NSS_PROTO_FOUND)
                k = nss_proto_reply_status(&b, r->status);
        else if (q->type == NSS_PROTO_GETPWNAM || q->type == NSS_PROTO_GETPWUID) {
                _cleanup_free_ char *name = span_dup(r->passwd.name), *gecos = span_dup(r->passwd.gecos),
                                    *home = span_dup(r->passwd.home), *shell = span_dup(r->passwd.shell);
                k = nss_proto_reply_passwd(&b, r->passwd.uid, r->passwd.gid, name, gecos, home, shell);
        } else if (q->type == NSS_PROTO_GETGRNAM || q->type == NSS_PROTO_GETGRGID) {
                _cleanup_strv_free_ char **members = calloc((size_t)r->group.n_members + 1, sizeof(char *));
                _cleanup_free_ char *name = span_dup(r->group.name);
                struct byte_reader it = r->group.members;
                struct span m;
                CHECK(members);
                for (size_t i = 0; group_record_next_member(&it, &m) == 0; i++)
                        members[i] = span_dup(m);
                k = nss_proto_reply_group(&b, r->group.gid, name, (const char *const *)members);
        } else {
                _cleanup_free_ uint32_t *gids = calloc((size_t)r->gid_list.n_gids + 1, sizeof(uint32_t));
                _cleanup_free_ char *name = span_dup(r->gid_list.name);
                CHECK(gids);
                for (size_t i = 0; i < r->gid_list.n_gids; i++)
                        gids[i] = gid_list_record_get(&r->gid_list, i);
                k = nss_proto_reply_gid_list(&b, name, gids, r->gid_list.n_gids);
        }
        CHECK(k == 0 || k == -EINVAL);
        if (k == 0)
                CHECK(b.size == size && memcmp(b.data, msg, size) == 0);
}

static void fuzz_reply(const struct nss_proto_request *q, const uint8_t *msg, size_t size)
{
        struct nss_proto_reply r;
        int k = nss_proto_reply_decode(q, msg, size, &r);

        CHECK(k == 0 || k == -EBADMSG);
        if (k == 0) {
                (void)nss_proto_status_to_string(r.status);
                if (r.status == NSS_PROTO_FOUND)
                        switch (q->type) {
                        case NSS_PROTO_GETPWNAM:
                        case NSS_PROTO_GETPWUID:
                                /* The answer matches the question. */
                                CHECK(q->type == NSS_PROTO_GETPWNAM ? span_eq(r.passwd.name, q->name)
                                                                    : r.passwd.uid == q->id);
                                check_pack_passwd(&r.passwd);
                                break;
                        case NSS_PROTO_GETGRNAM:
                        case NSS_PROTO_GETGRGID:
                                CHECK(q->type == NSS_PROTO_GETGRNAM ? span_eq(r.group.name, q->name)
                                                                    : r.group.gid == q->id);
                                check_pack_group(&r.group);
                                break;
                        case NSS_PROTO_INITGROUPS:
                                CHECK(span_eq(r.gid_list.name, q->name) &&
                                        r.gid_list.n_gids <= RECORD_GIDS_MAX);
                                for (size_t i = 0; i < r.gid_list.n_gids; i++)
                                        (void)gid_list_record_get(&r.gid_list, i);
                                break;
                        }
                check_reencode(q, &r, msg, size);
        }

        /* accountsd keeps answered misses in its next cache generation. */
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        CHECK(cache_writer_new(&w) == 0);
        k = directory_writer_add_reply(w, q, msg, size);
        CHECK(k == 0); /* refusals leave the entry out; only -ENOMEM is an error */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nss_proto_request q;
        size_t n = fuzz_request(data, size, &q);

        if (n > 0) {
                fuzz_reply(&q, data + n, size - n);
                return 0;
        }

        /* No usable request: the whole input is a reply to each kind of question. */
        static const struct nss_proto_request questions[] = {
                {.type = NSS_PROTO_GETPWNAM, .name = "alice"},
                {.type = NSS_PROTO_GETPWUID, .id = 1000001},
                {.type = NSS_PROTO_GETGRNAM, .name = "eng"},
                {.type = NSS_PROTO_GETGRGID, .id = 1000042},
                {.type = NSS_PROTO_INITGROUPS, .name = "alice"},
        };
        for (size_t i = 0; i < ELEMENTSOF(questions); i++)
                fuzz_reply(&questions[i], data, size);
        return 0;
}
