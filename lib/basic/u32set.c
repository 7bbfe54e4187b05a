/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hash.h"
#include "basic/u32set.h"

/* The slot holding VALUE, or the empty one where it would go. */
static size_t slot_of(const uint32_t *slots, size_t size, uint32_t value)
{
        size_t k = hash_mix32(value) & (size - 1);
        while (slots[k] != 0 && slots[k] != value + 1)
                k = (k + 1) & (size - 1);
        return k;
}

bool u32set_contains(const struct u32set *s, uint32_t value)
{
        if (value == UINT32_MAX)
                return s->has_max;
        return s->size > 0 && s->slots[slot_of(s->slots, s->size, value)] != 0;
}

static int grow(struct u32set *s)
{
        size_t size = s->size ? s->size * 2 : 1024;
        uint32_t *slots = calloc(size, sizeof(uint32_t));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->size; i++)
                if (s->slots[i])
                        slots[slot_of(slots, size, s->slots[i] - 1)] = s->slots[i];
        free(s->slots);
        s->slots = slots;
        s->size = size;
        return 0;
}

int u32set_add(struct u32set *s, uint32_t value)
{
        if (value == UINT32_MAX) {
                s->has_max = true;
                return 0;
        }
        if (u32set_contains(s, value))
                return 0;
        if ((s->used + 1) * 2 > s->size && grow(s) < 0)
                return -ENOMEM;
        s->slots[slot_of(s->slots, s->size, value)] = value + 1;
        s->used++;
        return 0;
}

size_t u32set_size(const struct u32set *s)
{
        return s->used + s->has_max;
}

void u32set_done(struct u32set *s)
{
        free(s->slots);
        memset(s, 0, sizeof(*s));
}
