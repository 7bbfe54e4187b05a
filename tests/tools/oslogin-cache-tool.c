/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-cache-tool: builds and reads directory cache files, and stands in
 * for accountsd's miss socket, for tests and benchmarks.
 *
 *   oslogin-cache-tool build OUT [FLOOR [TIMEOUT_MS [GENERATION]]] < TSV
 *   oslogin-cache-tool generate OUT N_USERS N_GROUPS [GENERATION]
 *   oslogin-cache-tool lookup CACHE user|group NAME|ID
 *   oslogin-cache-tool serve SOCKET TSV [--delay-ms N] [--garbage] [--wrong-answer] [--count FILE]
 *   oslogin-cache-tool query SOCKET getpwnam|getpwuid|getgrnam|getgrgid|initgroups KEY
 *
 * TSV lines (tab-separated): "user NAME UID GID GECOS HOME SHELL" and
 * "group NAME GID MEMBER,MEMBER..." ('-' for no members); '#' comments. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "basic/cache-writer.h"
#include "basic/nss-proto.h"
#include "basic/parse-util.h"
#include "basic/strv.h"

static int fail(const char *what, int error)
{
        fprintf(stderr, "oslogin-cache-tool: %s: %s\n", what, strerror(error < 0 ? -error : error));
        return 1;
}

static uint32_t u32_arg(const char *s)
{
        uint32_t v;
        if (safe_atou32(s, &v) < 0) {
                fprintf(stderr, "oslogin-cache-tool: not a number: \"%s\"\n", s);
                exit(2);
        }
        return v;
}

/* One TSV line into the writer; NULL fields mean a malformed line. */
static int add_line(struct cache_writer *w, char *line)
{
        char *f[7] = {};
        size_t n = 0;

        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' || line[0] == 0)
                return 0;
        for (char *p = line; p && n < 7; n++)
                f[n] = strsep(&p, "\t");
        if (n == 7 && streq(f[0], "user"))
                return cache_writer_add_user(w, f[1], u32_arg(f[2]), u32_arg(f[3]), f[4], f[5], f[6]);
        if (n == 4 && streq(f[0], "group")) {
                _cleanup_strv_free_ char **members = NULL;
                if (!streq(f[3], "-")) {
                        members = strv_split(f[3], ",");
                        if (!members)
                                return -ENOMEM;
                }
                return cache_writer_add_group(w, f[1], u32_arg(f[2]), (const char *const *)members);
        }
        return -EINVAL;
}

static int load_tsv(struct cache_writer *w, FILE *f)
{
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        unsigned lineno = 0;
        int k;

        while (getline(&line, &n, f) > 0) {
                lineno++;
                k = add_line(w, line);
                if (k < 0) {
                        fprintf(stderr, "oslogin-cache-tool: line %u: %s\n", lineno, strerror(-k));
                        return k;
                }
        }
        return 0;
}

static int commit_to(struct cache_writer *w, const char *path)
{
        _cleanup_free_ char *copy_dir = strdup(path), *copy_base = strdup(path);
        _cleanup_close_ int dir_fd = -EBADF;

        if (!copy_dir || !copy_base)
                return -ENOMEM;
        dir_fd = open(dirname(copy_dir), O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return negative_errno();
        return cache_writer_commit(w, dir_fd, basename(copy_base));
}

static int cmd_build(int argc, char **argv)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        int k;

        if (argc < 3)
                return 2;
        k = cache_writer_new(&w);
        if (k < 0)
                return fail("new", k);
        cache_writer_set_settings(w, argc > 3 ? u32_arg(argv[3]) : OSLOGIN_UID_FLOOR_DEFAULT,
                argc > 4 ? u32_arg(argv[4]) : CACHE_SOCKET_TIMEOUT_MS_DEFAULT);
        cache_writer_set_generation(w, argc > 5 ? u32_arg(argv[5]) : 1);
        k = load_tsv(w, stdin);
        if (k < 0)
                return 1;
        k = commit_to(w, argv[2]);
        return k < 0 ? fail(argv[2], k) : 0;
}

/* Synthetic directory: user%06u with UID and GID 2000000+i, and groups
 * grp%05u (GID 3000000+g) listing users g, g+N_GROUPS, g+2*N_GROUPS... */
static int generate_directory(struct cache_writer *w, uint32_t n_users, uint32_t n_groups)
{
        char name[32], home[64], gecos[64];
        int k;

        for (uint32_t i = 0; i < n_users; i++) {
                snprintf(name, sizeof(name), "user%06u", i);
                snprintf(home, sizeof(home), "/home/user%06u", i);
                snprintf(gecos, sizeof(gecos), "Generated User %u", i);
                k = cache_writer_add_user(w, name, 2000000 + i, 2000000 + i, gecos, home, "/bin/bash");
                if (k < 0)
                        return k;
        }
        for (uint32_t g = 0; g < n_groups; g++) {
                uint32_t per = n_groups ? (n_users + n_groups - 1) / n_groups : 0;
                _cleanup_strv_free_ char **members = calloc(per + 1, sizeof(char *));
                size_t m = 0;

                if (!members)
                        return -ENOMEM;
                for (uint32_t i = g; i < n_users && m < per; i += n_groups) {
                        if (asprintf(&members[m], "user%06u", i) < 0)
                                return -ENOMEM;
                        m++;
                }
                snprintf(name, sizeof(name), "grp%05u", g);
                k = cache_writer_add_group(w, name, 3000000 + g, (const char *const *)members);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int cmd_generate(int argc, char **argv)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        int k;

        if (argc < 5)
                return 2;
        k = cache_writer_new(&w);
        if (k < 0)
                return fail("new", k);
        cache_writer_set_generation(w, argc > 5 ? u32_arg(argv[5]) : 1);
        k = generate_directory(w, u32_arg(argv[3]), u32_arg(argv[4]));
        if (k < 0)
                return fail("generate", k);
        k = commit_to(w, argv[2]);
        return k < 0 ? fail(argv[2], k) : 0;
}

static bool all_digits(const char *s)
{
        return *s && strspn(s, "0123456789") == strlen(s);
}

static void print_passwd(const struct passwd_record *pw)
{
        printf("%.*s:*:%u:%u:%.*s:%.*s:%.*s\n", (int)pw->name.len, pw->name.ptr, pw->uid, pw->gid,
                (int)pw->gecos.len, pw->gecos.ptr, (int)pw->home.len, pw->home.ptr, (int)pw->shell.len,
                pw->shell.ptr);
}

static void print_group(const struct group_record *gr)
{
        struct span m;
        bool first = true;

        printf("%.*s:*:%u:", (int)gr->name.len, gr->name.ptr, gr->gid);
        for (struct byte_reader it = gr->members; group_record_next_member(&it, &m) == 0; first = false)
                printf("%s%.*s", first ? "" : ",", (int)m.len, m.ptr);
        printf("\n");
}

static void print_gid_list(const struct gid_list_record *l)
{
        printf("%.*s:", (int)l->name.len, l->name.ptr);
        for (uint32_t i = 0; i < l->n_gids; i++)
                printf("%s%u", i ? "," : "", gid_list_record_get(l, i));
        printf("\n");
}

static int cmd_lookup(int argc, char **argv)
{
        _cleanup_cache_map_ struct cache_map *m = NULL;
        struct passwd_record pw;
        struct group_record gr;
        struct gid_list_record gl;
        int k;

        if (argc < 5)
                return 2;
        k = cache_map_open(argv[2], 0, &m);
        if (k < 0)
                return fail(argv[2], k);
        const char *key = argv[4];
        if (streq(argv[3], "user")) {
                k = all_digits(key) ? cache_map_find_user_by_uid(m, u32_arg(key), &pw)
                                    : cache_map_find_user_by_name(m, key, &pw);
                if (k == 0)
                        print_passwd(&pw);
        } else if (streq(argv[3], "group")) {
                k = all_digits(key) ? cache_map_find_group_by_gid(m, u32_arg(key), &gr)
                                    : cache_map_find_group_by_name(m, key, &gr);
                if (k == 0)
                        print_group(&gr);
        } else if (streq(argv[3], "members")) {
                k = cache_map_find_memberships(m, key, &gl);
                if (k == 0)
                        print_gid_list(&gl);
        } else
                return 2;
        return k == 0 ? 0 : k == -ENOENT ? 3 : fail(key, k);
}

static char *dup_span(struct span s)
{
        char *p = strndup(s.ptr, s.len);
        if (!p)
                abort();
        return p;
}

/* The stub's answer to Q from its in-memory cache. */
static int stub_answer(
        const struct cache_map *m, const struct nss_proto_request *q, bool wrong, struct byte_buffer *b)
{
        struct passwd_record pw;
        struct group_record gr;
        struct gid_list_record gl;
        uint32_t cursor = 0;
        int k;

        switch (q->type) {
        case NSS_PROTO_GETPWNAM:
        case NSS_PROTO_GETPWUID: {
                k = wrong                           ? cache_map_next_user(m, &cursor, &pw)
                    : q->type == NSS_PROTO_GETPWNAM ? cache_map_find_user_by_name(m, q->name, &pw)
                                                    : cache_map_find_user_by_uid(m, q->id, &pw);
                if (k < 0)
                        break;
                _cleanup_free_ char *name = dup_span(pw.name), *gecos = dup_span(pw.gecos),
                                    *home = dup_span(pw.home), *shell = dup_span(pw.shell);
                return nss_proto_reply_passwd(b, pw.uid, pw.gid, name, gecos, home, shell);
        }
        case NSS_PROTO_GETGRNAM:
        case NSS_PROTO_GETGRGID: {
                k = q->type == NSS_PROTO_GETGRNAM ? cache_map_find_group_by_name(m, q->name, &gr)
                                                  : cache_map_find_group_by_gid(m, q->id, &gr);
                if (k < 0)
                        break;
                _cleanup_strv_free_ char **members = calloc(gr.n_members + 1, sizeof(char *));
                struct span s;
                size_t n = 0;
                if (!members)
                        return -ENOMEM;
                for (struct byte_reader it = gr.members; group_record_next_member(&it, &s) == 0;)
                        members[n++] = dup_span(s);
                _cleanup_free_ char *gname = dup_span(gr.name);
                return nss_proto_reply_group(b, gr.gid, gname, (const char *const *)members);
        }
        case NSS_PROTO_INITGROUPS: {
                k = cache_map_find_memberships(m, q->name, &gl);
                if (k < 0)
                        break;
                _cleanup_free_ uint32_t *gids = calloc(gl.n_gids + 1, sizeof(uint32_t));
                if (!gids)
                        return -ENOMEM;
                for (uint32_t i = 0; i < gl.n_gids; i++)
                        gids[i] = gid_list_record_get(&gl, i);
                return nss_proto_reply_gid_list(b, q->name, gids, gl.n_gids);
        }
        }
        return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND);
}

struct serve_options {
        unsigned delay_ms;
        bool garbage, wrong;
        const char *count_file;
};

static void serve_one(int fd, const struct cache_map *m, const struct serve_options *o)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        struct nss_proto_request q;

        if (nss_proto_read_request(fd, 1000, &q) < 0)
                return; /* malformed: close without answering */
        if (o->count_file) {
                FILE *f = fopen(o->count_file, "ae");
                if (f) {
                        fprintf(f, "%s %s%.0u\n", nss_proto_type_to_string(q.type), q.name, q.id);
                        fclose(f);
                }
        }
        if (o->delay_ms > 0)
                nanosleep(
                        &(struct timespec){o->delay_ms / 1000, (long)(o->delay_ms % 1000) * 1000000L}, NULL);
        if (o->garbage) {
                static const uint8_t junk[] = {
                        'O', 'S', 'L', 'N', 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3};
                (void)send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
                return;
        }
        if (stub_answer(m, &q, o->wrong, &b) < 0)
                (void)nss_proto_reply_status(&b, NSS_PROTO_UNAVAIL);
        (void)nss_proto_write_message(fd, &b, 1000);
}

static int cmd_serve(int argc, char **argv)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL;
        _cleanup_free_ void *image = NULL;
        _cleanup_fclose_ FILE *tsv = NULL;
        _cleanup_close_ int listen_fd = -EBADF;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct serve_options o = {};
        size_t size;
        int k;

        if (argc < 4 || strlen(argv[2]) >= sizeof(sa.sun_path))
                return 2;
        for (int i = 4; i < argc; i++) {
                if (streq(argv[i], "--delay-ms") && i + 1 < argc)
                        o.delay_ms = u32_arg(argv[++i]);
                else if (streq(argv[i], "--garbage"))
                        o.garbage = true;
                else if (streq(argv[i], "--wrong-answer"))
                        o.wrong = true;
                else if (streq(argv[i], "--count") && i + 1 < argc)
                        o.count_file = argv[++i];
                else
                        return 2;
        }
        tsv = fopen(argv[3], "re");
        if (!tsv)
                return fail(argv[3], errno);
        if (cache_writer_new(&w) < 0 || load_tsv(w, tsv) < 0)
                return 1;
        k = cache_writer_build(w, &image, &size);
        if (k >= 0)
                k = cache_map_from_memory(image, size, &m);
        if (k < 0)
                return fail("build", k);

        strcpy(sa.sun_path, argv[2]);
        (void)unlink(argv[2]);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                listen(listen_fd, 64) < 0)
                return fail(argv[2], errno);
        (void)chmod(argv[2], 0666);
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
                _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0)
                        serve_one(fd, m, &o);
        }
}

static int cmd_query(int argc, char **argv)
{
        static const char *const types[] = {[NSS_PROTO_GETPWNAM] = "getpwnam",
                [NSS_PROTO_GETPWUID] = "getpwuid",
                [NSS_PROTO_GETGRNAM] = "getgrnam",
                [NSS_PROTO_GETGRGID] = "getgrgid",
                [NSS_PROTO_INITGROUPS] = "initgroups"};
        _cleanup_free_ uint8_t *msg = NULL;
        struct nss_proto_request q = {};
        struct nss_proto_reply r;
        size_t size;
        int k = -EINVAL;

        if (argc < 5)
                return 2;
        for (unsigned t = NSS_PROTO_GETPWNAM; t <= NSS_PROTO_INITGROUPS; t++)
                if (streq(argv[3], types[t]))
                        k = nss_proto_type_by_name(t) ? nss_proto_request_by_name(t, argv[4], &q)
                                                      : nss_proto_request_by_id(t, u32_arg(argv[4]), &q);
        if (k < 0)
                return fail("request", k);
        k = nss_proto_query(argv[2], &q, 1000, &msg, &size);
        if (k >= 0)
                k = nss_proto_reply_decode(&q, msg, size, &r);
        if (k < 0)
                return fail("query", k), 4;
        printf("%s\n", nss_proto_status_to_string(r.status));
        if (r.status != NSS_PROTO_FOUND)
                return 3;
        if (q.type == NSS_PROTO_GETPWNAM || q.type == NSS_PROTO_GETPWUID)
                print_passwd(&r.passwd);
        else if (q.type == NSS_PROTO_INITGROUPS)
                print_gid_list(&r.gid_list);
        else
                print_group(&r.group);
        return 0;
}

int main(int argc, char **argv)
{
        int r = 2;

        if (argc >= 2 && streq(argv[1], "build"))
                r = cmd_build(argc, argv);
        else if (argc >= 2 && streq(argv[1], "generate"))
                r = cmd_generate(argc, argv);
        else if (argc >= 2 && streq(argv[1], "lookup"))
                r = cmd_lookup(argc, argv);
        else if (argc >= 2 && streq(argv[1], "serve"))
                r = cmd_serve(argc, argv);
        else if (argc >= 2 && streq(argv[1], "query"))
                r = cmd_query(argc, argv);
        if (r == 2)
                fprintf(stderr, "usage: see the comment at the top of tests/tools/oslogin-cache-tool.c\n");
        return r;
}
