/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A string → size_t hash map (open addressing, keys copied), for the few
 * places that look names up thousands of times per pass. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"

struct strmap {
        char **keys;
        size_t *values;
        size_t size, used;
};

/* 0, or -ENOMEM. Replaces the value of an existing key. */
int strmap_put(struct strmap *m, const char *key, size_t value);
/* True and *ret_value (may be NULL) when KEY is present. */
bool strmap_get(const struct strmap *m, const char *key, size_t *ret_value);
void strmap_done(struct strmap *m);
