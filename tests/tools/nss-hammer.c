/* SPDX-License-Identifier: Apache-2.0 */
/* nss-hammer: users and groups resolved through glibc (getpwnam_r,
 * getpwuid_r, getgrnam_r, getgrgid_r, getgrouplist) by many threads for a
 * fixed time, every answer checked against the set of answers that are
 * allowed while the cache is replaced and accountsd restarts
 * (tests/integration/test-nss-concurrency.sh).
 *
 *   nss-hammer run EXPECTED THREADS SECONDS   hammer; prints one line of figures; exit 0 when every
 *                                             answer was allowed, no thread hung and the process
 *                                             holds as many fds and threads after as before;
 *                                             variants_seen=N: how many of the allowed variants
 *                                             (generations) of changing records were answered
 *   nss-hammer serve                          long-running (nscd-style) process: one command per
 *                                             stdin line, one answer line each:
 *                                             "pw NAME", "uid UID", "gr NAME", "fds", "tasks"
 *
 * EXPECTED, one tab-separated record per line, several lines per key when
 * several answers are allowed (an old and a new cache generation):
 *   user NAME UID GID GECOS HOME SHELL   an allowed passwd answer
 *   absent NAME UID                      the user may also be absent
 *   group NAME GID MEMBER,MEMBER         an allowed group answer (member order is ignored)
 *   gabsent NAME GID                     the group may also be absent
 *   initgroups NAME GID GID,GID...       an allowed getgrouplist(NAME, GID) set (order ignored)
 *   initgroups-subset NAME GID GID,...   any subset holding GID is also allowed: a user whose groups
 *                                        change between generations, where accountsd may add a
 *                                        fresher group answered by a miss to an older cache until
 *                                        the next build (counted as mixed_initgroups=N)
 *   unknown NAME UID                     never resolves, by name or by UID
 * A user with no "absent" line must always resolve (a stable user). A name
 * answered with another name's UID, or a record mixing two generations, is
 * wrong. Exit: 0 all consistent, 1 inconsistent answers, 2 usage or setup
 * error, 3 a thread did not stop in time (deadlock), 4 fd or thread leak. */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_VARIANTS 4
#define MAX_REPORTED 20
/* Longer than any single lookup may take (the module's miss deadline is
 * 1 s): a thread still busy this long after the stop is hung. */
#define STOP_BUDGET_SEC 10

struct variant {
        char *line; /* the canonical text of an allowed answer */
};

struct entry {
        char *name;
        unsigned id;
        bool may_be_absent;
        char *subset_of; /* initgroups: any subset of these GIDs (with the primary) is allowed */
        size_t n_variants;
        struct variant variants[MAX_VARIANTS];
};

struct table {
        struct entry *e;
        size_t n, cap;
};

static struct table users, groups, grouplists, unknown;

static atomic_bool stop;
static atomic_uint reported;
static atomic_ulong n_bad, n_mixed_initgroups;
/* Which variant (generation) of a several-variant record was answered. */
static atomic_bool seen_variant[MAX_VARIANTS];

struct worker {
        pthread_t thread;
        unsigned seed;
        unsigned long lookups, found, absent, misses_unknown;
        uint64_t max_ns;
        bool done;
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct entry *table_get(struct table *t, const char *name, unsigned id, bool create)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->e[i].name, name) == 0)
                        return &t->e[i];
        if (!create)
                return NULL;
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                struct entry *e = realloc(t->e, cap * sizeof(*e));
                if (!e)
                        return NULL;
                t->e = e;
                t->cap = cap;
        }
        t->e[t->n] = (struct entry){.name = strdup(name), .id = id};
        if (!t->e[t->n].name)
                return NULL;
        return &t->e[t->n++];
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "b,a,c" → "a,b,c": lists compared as sets. */
static char *sorted_list(char **items, size_t n)
{
        size_t len = 1;
        char *out, *p;

        qsort(items, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                len += strlen(items[i]) + 1;
        out = p = malloc(len);
        if (!out)
                return NULL;
        *p = '\0';
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s%s", i ? "," : "", items[i]);
        return out;
}

static char *sorted_csv(const char *csv)
{
        char *copy = strdup(csv), *items[1024], *save = NULL, *out;
        size_t n = 0;

        if (!copy)
                return NULL;
        for (char *t = strtok_r(copy, ",", &save); t && n < 1024; t = strtok_r(NULL, ",", &save))
                items[n++] = t;
        out = sorted_list(items, n);
        free(copy);
        return out;
}

static char *sorted_ids(const gid_t *ids, size_t n)
{
        char *items[1024], *out;
        size_t m = n < 1024 ? n : 1024;

        for (size_t i = 0; i < m; i++)
                if (asprintf(&items[i], "%u", (unsigned)ids[i]) < 0)
                        return NULL;
        out = sorted_list(items, m);
        for (size_t i = 0; i < m; i++)
                free(items[i]);
        return out;
}

static int add_variant(struct entry *e, char *line)
{
        if (!e || !line || e->n_variants == MAX_VARIANTS)
                return -1;
        e->variants[e->n_variants++].line = line;
        return 0;
}

static int load_expected(const char *path)
{
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t size = 0;
        int r = 0;

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        while (r == 0 && getline(&line, &size, f) > 0) {
                char *fld[8] = {}, *p = line;
                size_t n = 0;
                char *text = NULL;

                line[strcspn(line, "\n")] = '\0';
                if (!*line || *line == '#')
                        continue;
                while (n < 8) {
                        fld[n++] = p;
                        p = strchr(p, '\t');
                        if (!p)
                                break;
                        *p++ = '\0';
                }
                if (n >= 7 && strcmp(fld[0], "user") == 0) {
                        if (asprintf(&text, "%s:%s:%s:%s:%s:%s", fld[1], fld[2], fld[3], fld[4], fld[5],
                                    fld[6]) < 0)
                                text = NULL;
                        r = add_variant(
                                table_get(&users, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true), text);
                } else if (n >= 3 && strcmp(fld[0], "absent") == 0) {
                        struct entry *e =
                                table_get(&users, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true);
                        r = e ? (e->may_be_absent = true, 0) : -1;
                } else if (n >= 4 && strcmp(fld[0], "group") == 0) {
                        char *m = sorted_csv(fld[3]);
                        if (m && asprintf(&text, "%s:%s:%s", fld[1], fld[2], m) < 0)
                                text = NULL;
                        free(m);
                        r = add_variant(
                                table_get(&groups, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true), text);
                } else if (n >= 3 && strcmp(fld[0], "gabsent") == 0) {
                        struct entry *e =
                                table_get(&groups, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true);
                        r = e ? (e->may_be_absent = true, 0) : -1;
                } else if (n >= 4 && strcmp(fld[0], "initgroups") == 0) {
                        r = add_variant(
                                table_get(&grouplists, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true),
                                sorted_csv(fld[3]));
                } else if (n >= 4 && strcmp(fld[0], "initgroups-subset") == 0) {
                        struct entry *e =
                                table_get(&grouplists, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true);
                        r = e && !e->subset_of && (e->subset_of = sorted_csv(fld[3])) ? 0 : -1;
                } else if (n >= 3 && strcmp(fld[0], "unknown") == 0) {
                        r = table_get(&unknown, fld[1], (unsigned)strtoul(fld[2], NULL, 10), true) ? 0 : -1;
                } else {
                        fprintf(stderr, "%s: bad line \"%s\"\n", path, fld[0]);
                        r = -1;
                }
        }
        free(line);
        fclose(f);
        if (r == 0 && (users.n == 0 || groups.n == 0 || grouplists.n == 0 || unknown.n == 0)) {
                fprintf(stderr, "%s: needs users, groups, initgroups and unknown entries\n", path);
                r = -1;
        }
        return r;
}

static void bad(const char *what, const char *key, const char *got)
{
        atomic_fetch_add(&n_bad, 1);
        if (atomic_fetch_add(&reported, 1) < MAX_REPORTED)
                fprintf(stderr, "BAD %s %s: got \"%s\"\n", what, key, got);
}

static bool allowed(const struct entry *e, const char *text)
{
        for (size_t i = 0; i < e->n_variants; i++)
                if (strcmp(e->variants[i].line, text) == 0) {
                        if (e->n_variants > 1)
                                atomic_store_explicit(&seen_variant[i], true, memory_order_relaxed);
                        return true;
                }
        return false;
}

/* Calls an NSS *_r function, doubling the buffer on ERANGE. */
#define NSS_CALL(r, buf, size, call)                                                                        \
        do {                                                                                                \
                for (;;) {                                                                                  \
                        (r) = (call);                                                                       \
                        if ((r) != ERANGE || (size) >= (1u << 20))                                          \
                                break;                                                                      \
                        char *nb_ = realloc((buf), (size)*2);                                               \
                        if (!nb_)                                                                           \
                                break;                                                                      \
                        (buf) = nb_;                                                                        \
                        (size) *= 2;                                                                        \
                }                                                                                           \
        } while (0)

struct bufs {
        char *buf;
        size_t size;
};

/* Returns 1 found, 0 absent; records inconsistencies. */
static int check_user(struct bufs *b, const struct entry *e, bool by_uid)
{
        struct passwd pwd, *res = NULL;
        char key[64], *text = NULL;
        int r;

        if (by_uid)
                NSS_CALL(r, b->buf, b->size, getpwuid_r(e->id, &pwd, b->buf, b->size, &res));
        else
                NSS_CALL(r, b->buf, b->size, getpwnam_r(e->name, &pwd, b->buf, b->size, &res));
        snprintf(key, sizeof(key), "%s%s%u", by_uid ? "getpwuid " : "getpwnam ", by_uid ? "" : e->name,
                by_uid ? e->id : 0);
        if (r != 0 || !res) {
                if (!e->may_be_absent)
                        bad(key, "(stable user absent)", r ? strerror(r) : "no entry");
                return 0;
        }
        if (asprintf(&text, "%s:%u:%u:%s:%s:%s", pwd.pw_name, pwd.pw_uid, pwd.pw_gid, pwd.pw_gecos,
                    pwd.pw_dir, pwd.pw_shell) < 0)
                return 0;
        if (!allowed(e, text) || strcmp(pwd.pw_passwd, "*") != 0)
                bad(key, "", text);
        free(text);
        return 1;
}

static int check_group(struct bufs *b, const struct entry *e, bool by_gid)
{
        struct group grp, *res = NULL;
        char key[64], *items[1024], *m, *text = NULL;
        size_t n = 0;
        int r;

        if (by_gid)
                NSS_CALL(r, b->buf, b->size, getgrgid_r(e->id, &grp, b->buf, b->size, &res));
        else
                NSS_CALL(r, b->buf, b->size, getgrnam_r(e->name, &grp, b->buf, b->size, &res));
        snprintf(key, sizeof(key), "%s%s", by_gid ? "getgrgid of " : "getgrnam ", e->name);
        if (r != 0 || !res) {
                if (!e->may_be_absent)
                        bad(key, "(stable group absent)", r ? strerror(r) : "no entry");
                return 0;
        }
        for (char **p = grp.gr_mem; *p && n < 1024; p++)
                items[n++] = *p;
        m = sorted_list(items, n);
        if (!m || asprintf(&text, "%s:%u:%s", grp.gr_name, grp.gr_gid, m) < 0)
                text = NULL;
        free(m);
        if (text && !allowed(e, text))
                bad(key, "", text);
        free(text);
        return 1;
}

static void check_initgroups(const struct entry *e)
{
        gid_t list[64];
        int n = 64;
        char *text;

        if (getgrouplist(e->name, e->id, list, &n) < 0) {
                bad("getgrouplist", e->name, "more than 64 groups");
                return;
        }
        text = sorted_ids(list, (size_t)n);
        if (text && !allowed(e, text)) {
                bool subset = e->subset_of != NULL, primary = false;
                for (int i = 0; subset && i < n; i++) {
                        char g[16], *p;
                        size_t len = (size_t)snprintf(g, sizeof(g), "%u", (unsigned)list[i]);
                        primary = primary || list[i] == e->id;
                        for (p = strstr(e->subset_of, g); p; p = strstr(p + 1, g))
                                if ((p == e->subset_of || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
                                        break;
                        subset = p != NULL;
                }
                if (subset && primary)
                        atomic_fetch_add(&n_mixed_initgroups, 1);
                else
                        bad("getgrouplist", e->name, text);
        }
        free(text);
}

static int check_unknown(struct bufs *b, const struct entry *e, bool by_uid)
{
        struct passwd pwd, *res = NULL;
        int r;

        if (by_uid)
                NSS_CALL(r, b->buf, b->size, getpwuid_r(e->id, &pwd, b->buf, b->size, &res));
        else
                NSS_CALL(r, b->buf, b->size, getpwnam_r(e->name, &pwd, b->buf, b->size, &res));
        if (r == 0 && res)
                bad(by_uid ? "getpwuid of unknown" : "getpwnam of unknown", e->name, pwd.pw_name);
        return 0;
}

static void *worker_main(void *p)
{
        struct worker *w = p;
        struct bufs b = {.size = 256};

        b.buf = malloc(b.size);
        if (!b.buf)
                return NULL;
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                unsigned x = (unsigned)rand_r(&w->seed), op = x % 100;
                uint64_t t0 = now_ns(), dt;
                int found = 0;

                if (op < 35)
                        found = check_user(&b, &users.e[(x / 100) % users.n], false);
                else if (op < 65)
                        found = check_user(&b, &users.e[(x / 100) % users.n], true);
                else if (op < 78)
                        found = check_group(&b, &groups.e[(x / 100) % groups.n], false);
                else if (op < 85)
                        found = check_group(&b, &groups.e[(x / 100) % groups.n], true);
                else if (op < 98) {
                        check_initgroups(&grouplists.e[(x / 100) % grouplists.n]);
                        found = 1;
                } else {
                        check_unknown(&b, &unknown.e[(x / 100) % unknown.n], op == 99);
                        w->misses_unknown++;
                }
                dt = now_ns() - t0;
                if (dt > w->max_ns)
                        w->max_ns = dt;
                w->lookups++;
                if (found)
                        w->found++;
                else
                        w->absent++;
        }
        free(b.buf);
        w->done = true;
        return NULL;
}

static int count_dir(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* Open descriptors, not counting the one opendir() itself uses. */
static int count_fds(void)
{
        int n = count_dir("/proc/self/fd");
        return n < 0 ? n : n - 1;
}

static int cmd_run(const char *expected, unsigned n_threads, unsigned seconds)
{
        static struct worker w[MAX_THREADS];
        struct bufs b = {.size = 4096};
        unsigned long lookups = 0, found = 0, absent = 0, unknown_lookups = 0;
        uint64_t max_ns = 0, t_start, t_end, deadline;
        int fds_before, fds_after, tasks_before, tasks_after, max_fds = 0, max_tasks = 0;
        bool hung = false;
        unsigned variants = 0;

        if (n_threads == 0 || n_threads > MAX_THREADS || seconds == 0 || load_expected(expected) < 0)
                return 2;
        /* Warm-up: glibc loads the module, the module maps the cache. */
        b.buf = malloc(b.size);
        if (!b.buf)
                return 2;
        for (size_t i = 0; i < users.n; i++)
                check_user(&b, &users.e[i], false);
        for (size_t i = 0; i < groups.n; i++)
                check_group(&b, &groups.e[i], false);
        check_initgroups(&grouplists.e[0]);
        free(b.buf);
        fds_before = count_fds();
        tasks_before = count_dir("/proc/self/task");

        t_start = now_ns();
        for (unsigned i = 0; i < n_threads; i++) {
                w[i].seed = 0x9e3779b9u * (i + 1);
                if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
                        fprintf(stderr, "pthread_create failed\n");
                        return 2;
                }
        }
        deadline = t_start + (uint64_t)seconds * 1000000000u;
        while (now_ns() < deadline) {
                int f = count_fds(), t = count_dir("/proc/self/task");
                if (f > max_fds)
                        max_fds = f;
                if (t > max_tasks)
                        max_tasks = t;
                usleep(100 * 1000);
        }
        atomic_store(&stop, true);
        t_end = now_ns();
        for (unsigned i = 0; i < n_threads; i++) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += STOP_BUDGET_SEC;
                if (pthread_timedjoin_np(w[i].thread, NULL, &ts) != 0) {
                        fprintf(stderr, "DEADLOCK: thread %u still busy %d s after the stop\n", i,
                                STOP_BUDGET_SEC);
                        hung = true;
                        break;
                }
        }
        if (hung) {
                printf("deadlock=1\n");
                fflush(stdout);
                _exit(3);
        }
        fds_after = count_fds();
        tasks_after = count_dir("/proc/self/task");
        for (unsigned i = 0; i < n_threads; i++) {
                lookups += w[i].lookups;
                found += w[i].found;
                absent += w[i].absent;
                unknown_lookups += w[i].misses_unknown;
                if (w[i].max_ns > max_ns)
                        max_ns = w[i].max_ns;
        }
        for (size_t i = 0; i < MAX_VARIANTS; i++)
                variants += atomic_load(&seen_variant[i]);
        printf("threads=%u seconds=%u lookups=%lu rate=%.0f/s found=%lu absent=%lu unknown=%lu bad=%lu "
               "max_lookup_ms=%.1f fds_before=%d fds_after=%d max_fds=%d tasks_before=%d tasks_after=%d "
               "max_tasks=%d variants_seen=%u mixed_initgroups=%lu\n",
                n_threads, seconds, lookups, (double)lookups * 1e9 / (double)(t_end - t_start), found,
                absent, unknown_lookups, atomic_load(&n_bad), (double)max_ns / 1e6, fds_before, fds_after,
                max_fds, tasks_before, tasks_after, max_tasks, variants, atomic_load(&n_mixed_initgroups));
        if (atomic_load(&n_bad) > 0)
                return 1;
        if (fds_after != fds_before || tasks_after != tasks_before) {
                fprintf(stderr, "LEAK: fds %d -> %d, threads %d -> %d\n", fds_before, fds_after,
                        tasks_before, tasks_after);
                return 4;
        }
        return 0;
}

static int cmd_serve(void)
{
        char *line = NULL, *buf = NULL;
        size_t size = 0, bsize = 1024;
        int r;

        buf = malloc(bsize);
        if (!buf)
                return 2;
        setvbuf(stdout, NULL, _IOLBF, 0);
        while (getline(&line, &size, stdin) > 0) {
                char *arg = strchr(line, ' ');

                line[strcspn(line, "\n")] = '\0';
                if (arg)
                        *arg++ = '\0';
                if (strcmp(line, "fds") == 0)
                        printf("%d\n", count_fds());
                else if (strcmp(line, "tasks") == 0)
                        printf("%d\n", count_dir("/proc/self/task"));
                else if (arg && (strcmp(line, "pw") == 0 || strcmp(line, "uid") == 0)) {
                        struct passwd pwd, *res = NULL;
                        if (strcmp(line, "pw") == 0)
                                NSS_CALL(r, buf, bsize, getpwnam_r(arg, &pwd, buf, bsize, &res));
                        else
                                NSS_CALL(r, buf, bsize,
                                        getpwuid_r((uid_t)strtoul(arg, NULL, 10), &pwd, buf, bsize, &res));
                        if (r == 0 && res)
                                printf("%s:%s:%u:%u:%s:%s:%s\n", pwd.pw_name, pwd.pw_passwd, pwd.pw_uid,
                                        pwd.pw_gid, pwd.pw_gecos, pwd.pw_dir, pwd.pw_shell);
                        else
                                printf("absent\n");
                } else if (arg && strcmp(line, "gr") == 0) {
                        struct group grp, *res = NULL;
                        NSS_CALL(r, buf, bsize, getgrnam_r(arg, &grp, buf, bsize, &res));
                        if (r == 0 && res) {
                                printf("%s:%s:%u:", grp.gr_name, grp.gr_passwd, grp.gr_gid);
                                for (char **m = grp.gr_mem; *m; m++)
                                        printf("%s%s", m == grp.gr_mem ? "" : ",", *m);
                                printf("\n");
                        } else
                                printf("absent\n");
                } else
                        printf("usage\n");
        }
        free(line);
        free(buf);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 5 && strcmp(argv[1], "run") == 0)
                return cmd_run(
                        argv[2], (unsigned)strtoul(argv[3], NULL, 10), (unsigned)strtoul(argv[4], NULL, 10));
        if (argc == 2 && strcmp(argv[1], "serve") == 0)
                return cmd_serve();
        fprintf(stderr, "usage: nss-hammer run EXPECTED THREADS SECONDS | nss-hammer serve\n");
        return 2;
}
