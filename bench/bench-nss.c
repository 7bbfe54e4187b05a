/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmarks of the directory cache and libnss_oslogin.so.2 (driven by
 * bench/bench-nss.sh inside a private namespace; see BENCHMARKS.md).
 *
 *   nss-bench-tool build OUT N_USERS N_GROUPS   time and peak RSS of building the cache
 *   nss-bench-tool hit MODULE N_USERS ITER      _nss_oslogin_getpwnam_r via dlopen: median, RSS delta
 *   nss-bench-tool unavail MODULE ITER          a miss with no accountsd: median
 *   nss-bench-tool glibc N_USERS ITER           getpwnam() through glibc (whatever nsswitch.conf says)
 *   nss-bench-tool glibc-unknown NAME ITER      getpwnam() of a name nobody has, through glibc
 *   nss-bench-tool glibc-name NAME ITER         getpwnam() of one name that exists, through glibc
 *   nss-bench-tool negative MODULE ITER         an unknown name via dlopen: answered "not found" over
 *                                               nss.sock (a stub answering from memory, as accountsd
 *                                               does for a repeated name), then from the negative table */
#include <dlfcn.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "basic/atomic-file.h"
#include "basic/cache-writer.h"
#include "basic/negative-table.h"
#include "basic/parse-util.h"

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *, size_t, int *);

static uint64_t nsec_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
        qsort(v, n, sizeof(*v), compare_u64);
        return v[n / 2];
}

/* "Rss{Anon,File}:" from /proc/self/status, in kB. */
static long status_kb(const char *key)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long v = -1;

        while (f && fgets(line, sizeof(line), f))
                if (strneq(line, key, strlen(key)))
                        v = strtol(line + strlen(key), NULL, 10);
        return v;
}

static uint32_t arg_u32(const char *s)
{
        uint32_t v = 0;
        if (safe_atou32(s, &v) < 0) {
                fprintf(stderr, "not a number: %s\n", s);
                exit(2);
        }
        return v;
}

static int cmd_build(const char *out, uint32_t n_users, uint32_t n_groups)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        char name[32], home[64], gecos[64];
        struct rusage ru;
        uint64_t start = nsec_now();
        int k;

        if (cache_writer_new(&w) < 0)
                return 1;
        for (uint32_t i = 0; i < n_users; i++) {
                snprintf(name, sizeof(name), "u%06u", i);
                snprintf(home, sizeof(home), "/home/u%06u", i);
                snprintf(gecos, sizeof(gecos), "User Number %u", i);
                if (cache_writer_add_user(w, name, 2000000 + i, 2000000 + i, gecos, home, "/bin/bash") < 0)
                        return 1;
        }
        for (uint32_t g = 0; g < n_groups; g++) {
                const char *members[11] = {};
                char names[10][16];
                for (uint32_t m = 0; m < 10; m++) {
                        snprintf(names[m], sizeof(names[m]), "u%06u", (g * 10 + m) % n_users);
                        members[m] = names[m];
                }
                snprintf(name, sizeof(name), "g%05u", g);
                if (cache_writer_add_group(w, name, 3000000 + g, members) < 0)
                        return 1;
        }
        int dir_fd = open(".", O_DIRECTORY | O_CLOEXEC);
        k = cache_writer_commit(w, dir_fd, out);
        close(dir_fd);
        if (k < 0)
                return 1;
        uint64_t ns = nsec_now() - start;
        getrusage(RUSAGE_SELF, &ru);
        _cleanup_cache_map_ struct cache_map *m = NULL;
        if (cache_map_open(out, 0, &m) < 0)
                return 1;
        printf("cache build: %u users + %u groups in %.0f ms, file %.1f MB, peak RSS %.1f MB\n", n_users,
                n_groups, ns / 1e6, cache_map_header(m)->file_size / 1048576.0, ru.ru_maxrss / 1024.0);
        return 0;
}

static int cmd_hit(const char *module, uint32_t n_users, uint32_t iter)
{
        long anon0 = status_kb("RssAnon:"), file0 = status_kb("RssFile:");
        void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        getpwnam_fn getpwnam;
        struct passwd pwd;
        char buf[1024], name[32];
        int err;

        if (!h)
                return fprintf(stderr, "%s\n", dlerror()), 1;
        *(void **)&getpwnam = dlsym(h, "_nss_oslogin_getpwnam_r");
        uint64_t first = nsec_now();
        if (getpwnam("u000000", &pwd, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
                return fprintf(stderr, "u000000 not found\n"), 1;
        first = nsec_now() - first;
        long anon1 = status_kb("RssAnon:"), file1 = status_kb("RssFile:");

        _cleanup_free_ uint64_t *t = calloc(iter, sizeof(uint64_t));
        unsigned seed = 1;
        for (uint32_t i = 0; i < iter; i++) {
                snprintf(name, sizeof(name), "u%06u", (unsigned)rand_r(&seed) % n_users);
                uint64_t s = nsec_now();
                enum nss_status st = getpwnam(name, &pwd, buf, sizeof(buf), &err);
                t[i] = nsec_now() - s;
                if (st != NSS_STATUS_SUCCESS)
                        return fprintf(stderr, "%s not found\n", name), 1;
        }
        printf("module hit (dlopen, %u users): median %.2f us over %u lookups; first lookup (map+verify) "
               "%.2f ms\n",
                n_users, median(t, iter) / 1e3, iter, first / 1e6);
        printf("module RSS delta: anon %+ld kB, file-backed %+ld kB (module text + shared cache pages)\n",
                anon1 - anon0, file1 - file0);
        return 0;
}

static int cmd_unavail(const char *module, uint32_t iter)
{
        void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        getpwnam_fn getpwnam;
        struct passwd pwd;
        char buf[1024];
        int err;

        if (!h)
                return 1;
        *(void **)&getpwnam = dlsym(h, "_nss_oslogin_getpwnam_r");
        _cleanup_free_ uint64_t *t = calloc(iter, sizeof(uint64_t));
        for (uint32_t i = 0; i < iter; i++) {
                uint64_t s = nsec_now();
                enum nss_status st = getpwnam("nosuchuser", &pwd, buf, sizeof(buf), &err);
                t[i] = nsec_now() - s;
                if (st != NSS_STATUS_UNAVAIL)
                        return fprintf(stderr, "expected UNAVAIL, got %d\n", st), 1;
        }
        printf("miss with no accountsd (UNAVAIL): median %.2f us\n", median(t, iter) / 1e3);
        return 0;
}

static int cmd_glibc(uint32_t n_users, uint32_t iter)
{
        _cleanup_free_ uint64_t *t = calloc(iter, sizeof(uint64_t));
        char name[32];
        unsigned seed = 2;

        for (uint32_t i = 0; i < iter; i++) {
                snprintf(name, sizeof(name), "u%06u", (unsigned)rand_r(&seed) % n_users);
                uint64_t s = nsec_now();
                struct passwd *p = getpwnam(name);
                t[i] = nsec_now() - s;
                if (!p)
                        return fprintf(stderr, "%s not found\n", name), 1;
        }
        printf("%.2f\n", median(t, iter) / 1e3);
        return 0;
}

static int cmd_glibc_name(const char *name, uint32_t iter, bool exists)
{
        _cleanup_free_ uint64_t *t = calloc(iter, sizeof(uint64_t));

        for (uint32_t i = 0; i < iter; i++) {
                uint64_t s = nsec_now();
                struct passwd *p = getpwnam(name);
                t[i] = nsec_now() - s;
                if (!p != !exists)
                        return fprintf(stderr, "%s %sfound\n", name, p ? "" : "not "), 1;
        }
        printf("%.2f\n", median(t, iter) / 1e3);
        return 0;
}

/* accountsd answering a name it remembers as unknown: read, "not found". */
static unsigned stub_served;

static void *stub_main(void *p)
{
        int listen_fd = *(int *)p;

        for (;;) {
                _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
                _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                struct nss_proto_request q;
                if (fd < 0)
                        return NULL;
                if (nss_proto_read_request(fd, 1000, &q) < 0 ||
                        nss_proto_reply_status(&b, NSS_PROTO_NOTFOUND) < 0)
                        continue;
                __atomic_add_fetch(&stub_served, 1, __ATOMIC_RELAXED);
                (void)nss_proto_write_message(fd, &b, 1000);
        }
}

static uint64_t time_unknown(getpwnam_fn getpwnam, uint32_t iter)
{
        _cleanup_free_ uint64_t *t = calloc(iter, sizeof(uint64_t));
        struct passwd pwd;
        char buf[1024];
        int err;

        for (uint32_t i = 0; i < iter; i++) {
                uint64_t s = nsec_now();
                enum nss_status st = getpwnam("ghost_example_com", &pwd, buf, sizeof(buf), &err);
                t[i] = nsec_now() - s;
                if (st != NSS_STATUS_NOTFOUND) {
                        fprintf(stderr, "expected NOTFOUND, got %d\n", st);
                        exit(1);
                }
        }
        return median(t, iter);
}

static int cmd_negative(const char *module, uint32_t iter)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        getpwnam_fn getpwnam;
        pthread_t thread;

        if (!h || listen_fd < 0)
                return 1;
        *(void **)&getpwnam = dlsym(h, "_nss_oslogin_getpwnam_r");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", NSS_PROTO_SOCKET_PATH);
        (void)unlink(sa.sun_path);
        (void)unlink(NEGATIVE_TABLE_PATH);
        if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 64) < 0 ||
                pthread_create(&thread, NULL, stub_main, &listen_fd) != 0)
                return fprintf(stderr, "cannot serve %s\n", sa.sun_path), 1;
        uint64_t over_socket = time_unknown(getpwnam, iter);
        unsigned served_socket = __atomic_load_n(&stub_served, __ATOMIC_RELAXED);

        struct negative_entry e = {
                .q = {.type = NSS_PROTO_GETPWNAM}, .expires_usec = nsec_now() / 1000 + 3600000000ull};
        strcpy(e.q.name, "ghost_example_com");
        _cleanup_free_ void *image = NULL;
        size_t size;
        int dir_fd = open(CACHE_DIR, O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || negative_table_build(&e, 1, nsec_now() / 1000, &image, &size) < 0 ||
                write_file_atomic(dir_fd, NEGATIVE_TABLE_FILE_NAME, image, size, 0644, -1, -1) < 0)
                return fprintf(stderr, "cannot write the negative table\n"), 1;
        close(dir_fd);
        usleep((CACHE_CHECK_INTERVAL_MS + 50) * 1000); /* the module looks at most that often */
        uint64_t from_table = time_unknown(getpwnam, iter);
        unsigned served_table = __atomic_load_n(&stub_served, __ATOMIC_RELAXED) - served_socket;
        printf("repeated unknown name via dlopen, %u lookups: over nss.sock median %.2f us (%u questions to "
               "the "
               "daemon); from the negative table median %.2f us (%u questions to the daemon)\n",
                iter, over_socket / 1e3, served_socket, from_table / 1e3, served_table);
        (void)unlink(sa.sun_path); /* the table stays, for glibc-unknown */
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 5 && streq(argv[1], "build"))
                return cmd_build(argv[2], arg_u32(argv[3]), arg_u32(argv[4]));
        if (argc == 5 && streq(argv[1], "hit"))
                return cmd_hit(argv[2], arg_u32(argv[3]), arg_u32(argv[4]));
        if (argc == 4 && streq(argv[1], "unavail"))
                return cmd_unavail(argv[2], arg_u32(argv[3]));
        if (argc == 4 && streq(argv[1], "glibc"))
                return cmd_glibc(arg_u32(argv[2]), arg_u32(argv[3]));
        if (argc == 4 && streq(argv[1], "glibc-unknown"))
                return cmd_glibc_name(argv[2], arg_u32(argv[3]), false);
        if (argc == 4 && streq(argv[1], "negative"))
                return cmd_negative(argv[2], arg_u32(argv[3]));
        if (argc == 4 && streq(argv[1], "glibc-name"))
                return cmd_glibc_name(argv[2], arg_u32(argv[3]), true);
        fprintf(stderr, "usage: see bench/bench-nss.c\n");
        return 2;
}
