/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hash.h"
#include "basic/strmap.h"

static size_t slot_of(const struct strmap *m, const char *key)
{
        size_t k = (size_t)fnv1a64(key, strlen(key)) & (m->size - 1);
        while (m->keys[k] && !streq(m->keys[k], key))
                k = (k + 1) & (m->size - 1);
        return k;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *ret_value)
{
        if (!m->size)
                return false;
        size_t k = slot_of(m, key);
        if (!m->keys[k])
                return false;
        if (ret_value)
                *ret_value = m->values[k];
        return true;
}

static int grow(struct strmap *m)
{
        struct strmap bigger = {.size = m->size ? m->size * 2 : 64};
        bigger.keys = calloc(bigger.size, sizeof(char *));
        bigger.values = calloc(bigger.size, sizeof(size_t));
        if (!bigger.keys || !bigger.values) {
                free(bigger.keys);
                free(bigger.values);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->size; i++)
                if (m->keys[i]) {
                        size_t k = slot_of(&bigger, m->keys[i]);
                        bigger.keys[k] = m->keys[i];
                        bigger.values[k] = m->values[i];
                        bigger.used++;
                }
        free(m->keys);
        free(m->values);
        *m = bigger;
        return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t value)
{
        if ((m->used + 1) * 2 > m->size && grow(m) < 0)
                return -ENOMEM;
        size_t k = slot_of(m, key);
        if (!m->keys[k]) {
                m->keys[k] = strdup(key);
                if (!m->keys[k])
                        return -ENOMEM;
                m->used++;
        }
        m->values[k] = value;
        return 0;
}

void strmap_done(struct strmap *m)
{
        for (size_t i = 0; i < m->size; i++)
                free(m->keys[i]);
        free(m->keys);
        free(m->values);
        memset(m, 0, sizeof(*m));
}
