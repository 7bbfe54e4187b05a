/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* Makes room for at least NEED elements of SIZE bytes in the array *P.
 *
 * With ALLOCATED (the capacity of *P, in elements): nothing happens while
 * NEED fits; otherwise the array grows to at least twice its capacity (and at
 * least 8), so appending one element at a time is amortised O(1), and
 * *ALLOCATED is updated. Without it (NULL): the array is resized to exactly
 * NEED elements, for callers that keep no capacity.
 *
 * Returns 0, or -ENOMEM when memory runs out or NEED * SIZE overflows; on
 * failure *P (still valid, still owned by the caller) and *ALLOCATED are
 * unchanged. NEED == 0 allocates nothing and succeeds. */
int grow_array(void **p, size_t *allocated, size_t need, size_t size);

/* grow_array() for a typed array variable or member: GROW_ARRAY(s->items,
 * &s->allocated, s->n + 1). */
#define GROW_ARRAY(array, allocated, need)                                                                  \
        grow_array((void **)&(array), (allocated), (need), sizeof(*(array)))
