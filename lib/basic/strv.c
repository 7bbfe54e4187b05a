/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "basic/alloc-util.h"
#include "basic/strv.h"

size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s)
{
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

int strv_extend(char ***l, const char *s)
{
        size_t n = strv_length(*l);
        char *copy = strdup(s);

        if (!copy || GROW_ARRAY(*l, NULL, n + 2) < 0) {
                free(copy);
                return -ENOMEM;
        }
        (*l)[n] = copy;
        (*l)[n + 1] = NULL;
        return 0;
}

char **strv_split(const char *s, const char *separators)
{
        size_t n = 0, k = 0;
        char **l;

        /* Count first: one allocation, linear in the input. */
        for (const char *p = s ?: ""; *p;) {
                p += strspn(p, separators);
                size_t len = strcspn(p, separators);
                if (len == 0)
                        break;
                n++;
                p += len;
        }
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return NULL;
        for (const char *p = s ?: ""; k < n;) {
                p += strspn(p, separators);
                size_t len = strcspn(p, separators);
                l[k] = strndup(p, len);
                if (!l[k]) {
                        strv_free(l);
                        return NULL;
                }
                k++;
                p += len;
        }
        return l;
}
