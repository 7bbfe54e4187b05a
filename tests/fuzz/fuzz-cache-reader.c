/* SPDX-License-Identifier: Apache-2.0 */
/* The directory cache on hostile bytes (basic/cache-reader.h), as the NSS
 * module and accountsd read it.
 *
 * An input that starts with CACHE_MAGIC is a cache file. It is opened as
 * is (the checksum must stop almost every mutation), then "resealed" with
 * the right file_size and checksum so the structural checks behind the
 * checksum see the mutation too. Every verified map gets every lookup,
 * enumeration, membership query, pack into an exact-size NSS buffer and an
 * import into a new writer; accountsd's answer to each question from the
 * map must decode, on the module's side, as the answer to that question.
 * The same image is also opened through a memfd (the streamed checksum
 * must agree with the in-memory one).
 *
 * Any other input is a script of records for the writer (one per line):
 *   u NAME:UID:GID:GECOS:HOME:SHELL
 *   g NAME:GID:MEMBER,MEMBER,...
 *   s UID_FLOOR:SOCKET_TIMEOUT_MS   (before the first entry only)
 * What the writer accepts is built, read back, and must agree in full: the
 * round trip. Seeds: tests/fuzz/gen-seeds.c (`make fuzz-seeds`). */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accountsd/directory-records.h"
#include "basic/cache-reader.h"
#include "basic/cache-writer.h"
#include "basic/strv.h"
#include "basic/valid.h"
#include "nss_oslogin/pack.h"
#include "tests/fuzz/fuzz-check.h"

/* Bounds the work per input: a script of more lines is cut. */
#define SCRIPT_ENTRIES_MAX 128u

static void span_to_cstr(struct span s, char out[static USER_NAME_MAX + 1])
{
        CHECK(s.len <= USER_NAME_MAX);
        memcpy(out, s.ptr, s.len);
        out[s.len] = 0;
}

/* pack_passwd() into a buffer of exactly the size it needs (ASan sees
 * any write past it), and one byte less must give -ERANGE. */
static void check_pack_passwd(const struct passwd_record *pw)
{
        size_t need = pw->name.len + pw->gecos.len + pw->home.len + pw->shell.len + 4 + 2;
        _cleanup_free_ char *buf = malloc(need);
        struct passwd p;

        CHECK(buf);
        CHECK(pack_passwd(pw, &p, buf, need - 1) == -ERANGE);
        CHECK(pack_passwd(pw, &p, buf, need) == 0);
        CHECK(span_eq(pw->name, p.pw_name) && span_eq(pw->gecos, p.pw_gecos) &&
                span_eq(pw->home, p.pw_dir) && span_eq(pw->shell, p.pw_shell) &&
                strcmp(p.pw_passwd, "*") == 0);
        CHECK(p.pw_uid == pw->uid && p.pw_gid == pw->gid);
}

static void check_pack_group(const struct group_record *gr)
{
        size_t need = ((size_t)gr->n_members + 1) * sizeof(char *) + gr->name.len + 1 + 2, n = 0;
        struct span member;
        struct group g;

        for (struct byte_reader it = gr->members; group_record_next_member(&it, &member) == 0; n++)
                need += member.len + 1;
        CHECK(n == gr->n_members);
        _cleanup_free_ char *buf = malloc(need); /* malloc: aligned for char * */
        CHECK(buf);
        CHECK(pack_group(gr, &g, buf, need - 1) == -ERANGE);
        CHECK(pack_group(gr, &g, buf, need) == 0);
        CHECK(g.gr_gid == gr->gid && span_eq(gr->name, g.gr_name));
        n = 0;
        for (struct byte_reader it = gr->members; group_record_next_member(&it, &member) == 0; n++)
                CHECK(g.gr_mem[n] && span_eq(member, g.gr_mem[n]));
        CHECK(g.gr_mem[n] == NULL);
}

static void query_memberships(const struct cache_map *m, const char *name)
{
        struct gid_list_record gl;
        uint64_t sum = 0;
        int k = cache_map_find_memberships(m, name, &gl);

        CHECK(k == 0 || k == -ENOENT || k == -EBADMSG);
        if (k < 0)
                return;
        CHECK(span_eq(gl.name, name) && gl.n_gids <= RECORD_GIDS_MAX);
        for (size_t i = 0; i < gl.n_gids; i++)
                sum += gid_list_record_get(&gl, i);
        (void)sum;
}

/* accountsd answers a miss from its map: whatever it sends, the NSS
 * module must be able to read as the answer to that question. */
static void check_answer(const struct cache_map *m, const struct nss_proto_request *q)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        struct nss_proto_reply r;
        int k = directory_answer_from_map(m, q, &b);

        /* -EINVAL: a field the encoder's validators refuse (they are stricter
         * than the record decoder); -EMSGSIZE: over NSS_PROTO_REPLY_MAX. */
        CHECK(k == 0 || k == -ENOENT || k == -EBADMSG || k == -EINVAL || k == -EMSGSIZE);
        if (k == 0)
                CHECK(nss_proto_reply_decode(q, b.data, b.size, &r) == 0 && r.status == NSS_PROTO_FOUND);
}

static void check_answers(const struct cache_map *m, const char *name, uint32_t id)
{
        struct nss_proto_request q;

        if (nss_proto_request_by_name(NSS_PROTO_GETPWNAM, name, &q) == 0) {
                check_answer(m, &q);
                q.type = NSS_PROTO_GETGRNAM;
                check_answer(m, &q);
                q.type = NSS_PROTO_INITGROUPS;
                check_answer(m, &q);
        }
        CHECK(nss_proto_request_by_id(NSS_PROTO_GETPWUID, id, &q) == 0);
        check_answer(m, &q);
        q.type = NSS_PROTO_GETGRGID;
        check_answer(m, &q);
}

static void query_user(const struct cache_map *m, const char *name, uint32_t uid)
{
        struct passwd_record pw;
        int k;

        k = cache_map_find_user_by_name(m, name, &pw);
        CHECK(k == 0 || k == -ENOENT || k == -EBADMSG);
        if (k == 0) {
                CHECK(span_eq(pw.name, name)); /* an answer matches its question */
                check_pack_passwd(&pw);
        }
        k = cache_map_find_user_by_uid(m, uid, &pw);
        CHECK(k == 0 || k == -ENOENT || k == -EBADMSG);
        if (k == 0) {
                CHECK(pw.uid == uid);
                check_pack_passwd(&pw);
        }
        query_memberships(m, name);
        check_answers(m, name, uid);
}

static void query_group(const struct cache_map *m, const char *name, uint32_t gid)
{
        struct group_record gr;
        int k;

        k = cache_map_find_group_by_name(m, name, &gr);
        CHECK(k == 0 || k == -ENOENT || k == -EBADMSG);
        if (k == 0) {
                CHECK(span_eq(gr.name, name));
                check_pack_group(&gr);
        }
        k = cache_map_find_group_by_gid(m, gid, &gr);
        CHECK(k == 0 || k == -ENOENT || k == -EBADMSG);
        if (k == 0) {
                CHECK(gr.gid == gid);
                check_pack_group(&gr);
        }
}

/* Everything a process can ask a verified map, whatever it contains. */
static void exercise_map(const struct cache_map *m)
{
        static const char *const names[] = {"alice", "root", "eng", "a"};
        char name[USER_NAME_MAX + 1];
        struct passwd_record pw;
        struct group_record gr;
        struct span member;
        uint32_t cursor, last;
        int k;

        (void)cache_map_header(m);
        CHECK(cache_map_socket_timeout_ms(m) <= CACHE_SOCKET_TIMEOUT_MS_MAX);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                query_user(m, names[i], 1000001);
                query_group(m, names[i], 1000001);
        }

        /* The cursor only moves forward, so each walk ends. */
        for (cursor = 0, last = 0; (k = cache_map_next_user(m, &cursor, &pw)) == 0; last = cursor) {
                CHECK(cursor > last);
                check_pack_passwd(&pw);
                span_to_cstr(pw.name, name);
                query_user(m, name, pw.uid);
        }
        CHECK(k == -ENOENT || k == -EBADMSG);
        for (cursor = 0, last = 0; (k = cache_map_next_group(m, &cursor, &gr)) == 0; last = cursor) {
                CHECK(cursor > last);
                check_pack_group(&gr);
                span_to_cstr(gr.name, name);
                query_group(m, name, gr.gid);
                for (struct byte_reader it = gr.members; group_record_next_member(&it, &member) == 0;) {
                        span_to_cstr(member, name);
                        query_memberships(m, name);
                }
        }
        CHECK(k == -ENOENT || k == -EBADMSG);

        /* accountsd carries an old generation over into a new one. */
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        _cleanup_free_ void *data = NULL;
        size_t size;
        CHECK(cache_writer_new(&w) == 0);
        cache_writer_set_settings(w, cache_map_uid_floor(m), cache_map_socket_timeout_ms(m));
        k = cache_writer_import(w, m);
        CHECK(k == 0 || k == -EBADMSG);
        CHECK(cache_writer_build(w, &data, &size) == 0);
}

/* The same bytes opened from a file must give the same verdict. */
static void check_open_fd(const void *data, size_t size, int expected)
{
        static int fd = -1;
        struct cache_map *m = NULL;
        int k;

        if (fd < 0)
                fd = memfd_create("fuzz-cache", MFD_CLOEXEC);
        CHECK(fd >= 0);
        CHECK(ftruncate(fd, 0) == 0);
        CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
        k = cache_map_open_fd(fd, 0, &m);
        CHECK(k == expected);
        if (k == 0) {
                CHECK(memcmp(cache_map_header(m), data, CACHE_CHECKSUM_START) == 0);
                exercise_map(m);
        }
        cache_map_unref(m);
}

static void fuzz_file(const uint8_t *input, size_t size)
{
        /* A heap copy: an mmap()ed file is page-aligned, the fuzzer's
         * buffer is not, and the index entries are read as u32 pairs. */
        _cleanup_free_ uint8_t *data = malloc(MAX(size, (size_t)1));
        struct cache_map *m = NULL;
        int k;

        CHECK(data);
        memcpy(data, input, size);
        k = cache_map_from_memory(data, size, &m);
        CHECK(k == 0 || k == -EBADMSG);
        if (k == 0)
                exercise_map(m);
        m = cache_map_unref(m);
        if (size < CACHE_HEADER_SIZE)
                return;

        /* Resealed: past the checksum. */
        uint64_t file_size = htole64(size), checksum;
        memcpy(data + offsetof(struct cache_header, file_size), &file_size, 8);
        checksum = htole64(cache_checksum(data + CACHE_CHECKSUM_START, size - CACHE_CHECKSUM_START));
        memcpy(data + offsetof(struct cache_header, checksum), &checksum, 8);
        k = cache_map_from_memory(data, size, &m);
        CHECK(k == 0 || k == -EBADMSG);
        if (k == 0)
                exercise_map(m);
        m = cache_map_unref(m);
        check_open_fd(data, size, k);
}

/* --- round trip --- */

struct model_user {
        char name[USER_NAME_MAX + 1], gecos[GECOS_MAX + 1], home[RECORD_PATH_MAX + 1],
                shell[RECORD_PATH_MAX + 1];
        uint32_t uid, gid;
};

struct model_group {
        char name[USER_NAME_MAX + 1];
        uint32_t gid;
        char **members; /* unique, first-seen order */
        size_t n_members;
};

struct model {
        struct model_user *users;
        struct model_group *groups;
        size_t n_users, n_groups;
        uint32_t uid_floor, socket_timeout_ms;
};

static void model_done(struct model *md)
{
        for (size_t i = 0; i < md->n_groups; i++)
                strv_free(md->groups[i].members);
        free(md->users);
        free(md->groups);
}

static bool parse_u32(const char *s, uint32_t *ret)
{
        char *end;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0 || v > UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

static void script_user(struct cache_writer *w, struct model *md, char *args)
{
        char *name = strsep(&args, ":"), *uid = strsep(&args, ":"), *gid = strsep(&args, ":"),
             *gecos = strsep(&args, ":"), *home = strsep(&args, ":"), *shell = args;
        struct model_user u = {};

        if (!name || !shell || !parse_u32(uid, &u.uid) || !parse_u32(gid, &u.gid))
                return;
        if (cache_writer_add_user(w, name, u.uid, u.gid, gecos, home, shell) < 0)
                return;
        /* The writer validated the lengths. */
        strcpy(u.name, name);
        strcpy(u.gecos, gecos);
        strcpy(u.home, home);
        strcpy(u.shell, shell);
        md->users[md->n_users++] = u;
}

static void script_group(struct cache_writer *w, struct model *md, char *args)
{
        char *name = strsep(&args, ":"), *gid = strsep(&args, ":"), *list = args;
        _cleanup_strv_free_ char **members = NULL;
        size_t n = 0;
        uint32_t id;

        if (!name || !list || !parse_u32(gid, &id))
                return;
        members = calloc(strlen(list) + 2, sizeof(char *));
        CHECK(members);
        for (char *m; list && *list && (m = strsep(&list, ","));) {
                bool seen = false;
                for (size_t i = 0; i < n && !seen; i++)
                        seen = strcmp(members[i], m) == 0;
                if (!seen)
                        CHECK(members[n++] = strdup(m));
        }
        if (cache_writer_add_group(w, name, id, (const char *const *)members) < 0)
                return;
        struct model_group *g = &md->groups[md->n_groups++];
        *g = (struct model_group){.gid = id, .members = TAKE_PTR(members), .n_members = n};
        strcpy(g->name, name);
}

static void run_script(struct cache_writer *w, struct model *md, char *text)
{
        size_t lines = 0;

        for (char *line; (line = strsep(&text, "\n")) && lines < SCRIPT_ENTRIES_MAX; lines++) {
                uint32_t floor, timeout;
                char *args = line + 2;
                if (strlen(line) < 2 || line[1] != ' ')
                        continue;
                if (line[0] == 'u')
                        script_user(w, md, args);
                else if (line[0] == 'g')
                        script_group(w, md, args);
                else if (line[0] == 's' && md->n_users + md->n_groups == 0 &&
                         parse_u32(strsep(&args, ":"), &floor) && parse_u32(args, &timeout)) {
                        /* Only before the first entry: the writer checks the floor as
                         * entries are added (accountsd sets it before a build). */
                        cache_writer_set_settings(w, floor, timeout);
                        md->uid_floor = floor;
                        md->socket_timeout_ms = MIN(timeout, CACHE_SOCKET_TIMEOUT_MS_MAX);
                }
        }
}

static int compare_group_gid(const void *a, const void *b)
{
        const struct model_group *x = a, *y = b;
        return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* The groups listing NAME, in GID order, as the file must store them. */
static void check_memberships(const struct cache_map *m, const struct model *md, const char *name)
{
        struct gid_list_record gl;
        size_t n = 0;
        int k = cache_map_find_memberships(m, name, &gl);

        for (size_t i = 0; i < md->n_groups; i++)
                for (size_t j = 0; j < md->groups[i].n_members; j++)
                        if (strcmp(md->groups[i].members[j], name) == 0) {
                                CHECK(k == 0 && n < gl.n_gids);
                                CHECK(gid_list_record_get(&gl, n++) == md->groups[i].gid);
                        }
        CHECK(n == 0 ? k == -ENOENT : (k == 0 && n == gl.n_gids));
}

static void check_round_trip(const struct cache_map *m, const struct model *md)
{
        const struct cache_header *h = cache_map_header(m);
        struct passwd_record pw;
        struct group_record gr;
        struct span member;
        uint32_t cursor = 0;
        size_t n = 0;

        CHECK(h->n_users == md->n_users && h->n_groups == md->n_groups);
        CHECK(cache_map_uid_floor(m) == md->uid_floor);
        CHECK(cache_map_socket_timeout_ms(m) == md->socket_timeout_ms);
        for (size_t i = 0; i < md->n_users; i++) {
                const struct model_user *u = &md->users[i];
                CHECK(cache_map_find_user_by_name(m, u->name, &pw) == 0);
                CHECK(pw.uid == u->uid && pw.gid == u->gid && span_eq(pw.gecos, u->gecos) &&
                        span_eq(pw.home, u->home) && span_eq(pw.shell, u->shell));
                CHECK(cache_map_find_user_by_uid(m, u->uid, &pw) == 0 && span_eq(pw.name, u->name));
                check_memberships(m, md, u->name);
        }
        for (uint32_t last = 0; cache_map_next_user(m, &cursor, &pw) == 0; n++, last = pw.uid)
                CHECK(n == 0 || pw.uid > last); /* by UID */
        CHECK(n == md->n_users);
        for (size_t i = 0; i < md->n_groups; i++) {
                const struct model_group *g = &md->groups[i];
                size_t j = 0;
                CHECK(cache_map_find_group_by_gid(m, g->gid, &gr) == 0 && span_eq(gr.name, g->name));
                CHECK(cache_map_find_group_by_name(m, g->name, &gr) == 0 && gr.gid == g->gid);
                CHECK(gr.n_members == g->n_members);
                for (struct byte_reader it = gr.members; group_record_next_member(&it, &member) == 0; j++)
                        CHECK(j < g->n_members && span_eq(member, g->members[j]));
                CHECK(j == g->n_members);
                for (j = 0; j < g->n_members; j++)
                        check_memberships(m, md, g->members[j]);
        }
        cursor = 0;
        n = 0;
        for (uint32_t last = 0; cache_map_next_group(m, &cursor, &gr) == 0; n++, last = gr.gid)
                CHECK(n == 0 || gr.gid > last); /* by GID */
        CHECK(n == md->n_groups);
}

static void fuzz_round_trip(const uint8_t *input, size_t size)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL, *again = NULL;
        _cleanup_free_ void *image = NULL, *image2 = NULL;
        _cleanup_free_ char *text = strndup((const char *)input, size);
        _cleanup_cache_map_ struct cache_map *m = NULL;
        struct model md = {
                .uid_floor = OSLOGIN_UID_FLOOR_DEFAULT,
                .socket_timeout_ms = CACHE_SOCKET_TIMEOUT_MS_DEFAULT,
        };
        size_t image_size, image2_size;

        CHECK(text);
        md.users = calloc(SCRIPT_ENTRIES_MAX, sizeof(*md.users));
        md.groups = calloc(SCRIPT_ENTRIES_MAX, sizeof(*md.groups));
        CHECK(md.users && md.groups);
        CHECK(cache_writer_new(&w) == 0);
        cache_writer_set_generation(w, 7);
        cache_writer_set_creation_time(w, 1);
        run_script(w, &md, text);
        CHECK(cache_writer_build(w, &image, &image_size) == 0);
        CHECK(cache_map_from_memory(image, image_size, &m) == 0);
        qsort(md.groups, md.n_groups, sizeof(*md.groups), compare_group_gid);
        check_round_trip(m, &md);
        exercise_map(m);

        /* Import is lossless for a file the writer made: same bytes again. */
        CHECK(cache_writer_new(&again) == 0);
        cache_writer_set_settings(again, md.uid_floor, md.socket_timeout_ms);
        cache_writer_set_generation(again, 7);
        cache_writer_set_creation_time(again, 1);
        CHECK(cache_writer_import(again, m) == 0);
        CHECK(cache_writer_build(again, &image2, &image2_size) == 0);
        CHECK(image2_size == image_size && memcmp(image, image2, image_size) == 0);
        model_done(&md);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size >= 8 && memcmp(data, CACHE_MAGIC, 8) == 0)
                fuzz_file(data, size);
        else
                fuzz_round_trip(data, size);
        return 0;
}
