/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

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
        char **grown;

        if (!copy)
                return -ENOMEM;
        grown = realloc(*l, (n + 2) * sizeof(char *));
        if (!grown) {
                free(copy);
                return -ENOMEM;
        }
        grown[n] = copy;
        grown[n + 1] = NULL;
        *l = grown;
        return 0;
}

char **strv_split(const char *s, const char *separators)
{
        char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        while (s && *s) {
                size_t skip = strspn(s, separators), len;
                s += skip;
                len = strcspn(s, separators);
                if (len == 0)
                        break;
                char *field = strndup(s, len);
                if (!field || strv_extend(&l, field) < 0) {
                        free(field);
                        strv_free(l);
                        return NULL;
                }
                free(field);
                s += len;
        }
        return l;
}
