/* SPDX-License-Identifier: Apache-2.0 */
/* nss-test-client: NSS calls the way programs make them, for the
 * integration tests and benchmarks of libnss_oslogin.so.2.
 *
 *   nss-test-client getpwnam NAME [FIRST_BUFLEN]   getpwnam_r through glibc, doubling the
 *   nss-test-client getgrnam NAME [FIRST_BUFLEN]   buffer on ERANGE; prints the entry and tries=N
 *   nss-test-client direct MODULE NAME             dlopen MODULE, _nss_oslogin_getpwnam_r: prints the status
 *   nss-test-client stress THREADS LOOKUPS N_USERS  getpwnam_r of u0..u(N-1) through glibc; each answer must
 *                                                   be self-consistent (home = /home/GECOS/NAME); prints
 *                                                   "bad=N generations=N"
 * Exit: 0 found, 2 not found, 3 error. */
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_getpwnam(const char *name, size_t buflen)
{
        struct passwd pwd, *res = NULL;
        char *buf = NULL;
        int tries = 0, r;

        for (;;) {
                char *b = realloc(buf, buflen);
                if (!b)
                        return 3;
                buf = b;
                tries++;
                r = getpwnam_r(name, &pwd, buf, buflen, &res);
                if (r != ERANGE)
                        break;
                buflen *= 2;
        }
        if (r == 0 && res)
                printf("%s:%s:%u:%u:%s:%s:%s tries=%d\n", pwd.pw_name, pwd.pw_passwd, pwd.pw_uid, pwd.pw_gid,
                        pwd.pw_gecos, pwd.pw_dir, pwd.pw_shell, tries);
        else
                printf("not found: %s\n", r ? strerror(r) : "no entry");
        free(buf);
        return r == 0 && res ? 0 : r == 0 ? 2 : 3;
}

static int cmd_getgrnam(const char *name, size_t buflen)
{
        struct group grp, *res = NULL;
        char *buf = NULL;
        int tries = 0, r;

        for (;;) {
                char *b = realloc(buf, buflen);
                if (!b)
                        return 3;
                buf = b;
                tries++;
                r = getgrnam_r(name, &grp, buf, buflen, &res);
                if (r != ERANGE)
                        break;
                buflen *= 2;
        }
        if (r == 0 && res) {
                int n = 0;
                for (char **m = grp.gr_mem; *m; m++)
                        n++;
                printf("%s:%s:%u: members=%d aligned=%d tries=%d\n", grp.gr_name, grp.gr_passwd, grp.gr_gid,
                        n, (int)((uintptr_t)grp.gr_mem % sizeof(char *) == 0), tries);
        } else
                printf("not found: %s\n", r ? strerror(r) : "no entry");
        free(buf);
        return r == 0 && res ? 0 : r == 0 ? 2 : 3;
}

static int cmd_direct(const char *module, const char *name)
{
        void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        enum nss_status (*getpwnam)(const char *, struct passwd *, char *, size_t, int *);
        struct passwd pwd;
        char buf[1024];
        int err = 0;

        if (!h) {
                fprintf(stderr, "%s\n", dlerror());
                return 3;
        }
        *(void **)&getpwnam = dlsym(h, "_nss_oslogin_getpwnam_r");
        if (!getpwnam)
                return 3;
        enum nss_status s = getpwnam(name, &pwd, buf, sizeof(buf), &err);
        printf("status=%d errnop=%d%s%s\n", (int)s, err, s == NSS_STATUS_SUCCESS ? " name=" : "",
                s == NSS_STATUS_SUCCESS ? pwd.pw_name : "");
        return s == NSS_STATUS_SUCCESS ? 0 : s == NSS_STATUS_NOTFOUND ? 2 : 3;
}

struct stress {
        unsigned lookups, n_users;
        unsigned bad, seen[256];
};

static void *stress_thread(void *p)
{
        struct stress *s = p;
        struct passwd pwd, *res;
        char buf[512], name[32], home[128];

        for (unsigned i = 0; i < s->lookups; i++) {
                unsigned gen;
                snprintf(name, sizeof(name), "u%u", (i * 7919u) % s->n_users);
                if (getpwnam_r(name, &pwd, buf, sizeof(buf), &res) != 0 || !res) {
                        s->bad++;
                        continue;
                }
                snprintf(home, sizeof(home), "/home/%s/%s", pwd.pw_gecos, name);
                if (strcmp(pwd.pw_name, name) != 0 || strcmp(pwd.pw_dir, home) != 0 ||
                        sscanf(pwd.pw_gecos, "g%u", &gen) != 1) {
                        s->bad++;
                        continue;
                }
                s->seen[gen % 256] = 1;
        }
        return NULL;
}

static int cmd_stress(unsigned n_threads, unsigned lookups, unsigned n_users)
{
        pthread_t t[64];
        struct stress s[64] = {};
        unsigned bad = 0, generations = 0;

        if (n_threads == 0 || n_threads > 64 || n_users == 0)
                return 3;
        for (unsigned i = 0; i < n_threads; i++) {
                s[i] = (struct stress){.lookups = lookups, .n_users = n_users};
                if (pthread_create(&t[i], NULL, stress_thread, &s[i]) != 0)
                        return 3;
        }
        for (unsigned i = 0; i < n_threads; i++) {
                pthread_join(t[i], NULL);
                bad += s[i].bad;
        }
        for (unsigned g = 0; g < 256; g++) {
                unsigned any = 0;
                for (unsigned i = 0; i < n_threads; i++)
                        any |= s[i].seen[g];
                generations += any;
        }
        printf("bad=%u generations=%u\n", bad, generations);
        return bad == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "getpwnam") == 0)
                return cmd_getpwnam(argv[2], argc > 3 ? strtoul(argv[3], NULL, 10) : 1024);
        if (argc >= 3 && strcmp(argv[1], "getgrnam") == 0)
                return cmd_getgrnam(argv[2], argc > 3 ? strtoul(argv[3], NULL, 10) : 1024);
        if (argc == 4 && strcmp(argv[1], "direct") == 0)
                return cmd_direct(argv[2], argv[3]);
        if (argc == 5 && strcmp(argv[1], "stress") == 0)
                return cmd_stress(
                        strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
        fprintf(stderr, "usage: see tests/tools/nss-test-client.c\n");
        return 3;
}
