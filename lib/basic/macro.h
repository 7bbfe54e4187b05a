/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Small language helpers shared by every component, the NSS module included:
 * cleanup attributes, ownership transfer, and a few annotations. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define _public_ __attribute__((visibility("default")))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || (s)[0] == '\0')

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                         \
        ({                                                                                                  \
                __typeof__(p) _taken_ = (p);                                                                \
                (p) = NULL;                                                                                 \
                _taken_;                                                                                    \
        })
#define TAKE_FD(fd)                                                                                         \
        ({                                                                                                  \
                int _taken_fd_ = (fd);                                                                      \
                (fd) = -EBADF;                                                                              \
                _taken_fd_;                                                                                 \
        })

/* Define a cleanup helper for "func(*p)" that tolerates NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                             \
        static inline void func##p(type *p)                                                                 \
        {                                                                                                   \
                if (*p)                                                                                     \
                        func(*p);                                                                           \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes and keeps errno: cleanup runs on error paths that already set it. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved_errno = errno;
                close(fd);
                errno = saved_errno;
        }
        return -EBADF;
}
static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f) {
                int saved_errno = errno;
                fclose(*f);
                errno = saved_errno;
        }
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* A NULL-terminated array of strings, freed with its elements. */
static inline void strv_free(char **l)
{
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/* Wipes a secret (2FA code, token) before freeing it. */
static inline void erase_and_freep(void *p)
{
        char *s = *(char **)p;
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}
#define _cleanup_erase_ _cleanup_(erase_and_freep)

/* Convert a libc return value (-1 + errno) into a negative errno. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}
