/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A set of 32-bit values (UIDs, GIDs), open addressing with linear probing,
 * at most half full: for the passes that ask "is this ID taken?" thousands
 * of times. Every value can be stored, 0 and UINT32_MAX included. A zeroed
 * struct is an empty set. (The string-keyed twin is strmap.h.) */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u32set {
        uint32_t *slots; /* value + 1; 0 = empty */
        size_t size, used;
        bool has_max; /* UINT32_MAX, which has no value + 1 */
};

/* 0 (also when VALUE was there already), or -ENOMEM (the set unchanged). */
int u32set_add(struct u32set *s, uint32_t value);
bool u32set_contains(const struct u32set *s, uint32_t value);
/* How many values the set holds. */
size_t u32set_size(const struct u32set *s);
void u32set_done(struct u32set *s);
