/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "basic/alloc-util.h"

int grow_array(void **p, size_t *allocated, size_t need, size_t size)
{
        size_t want = need;

        if (allocated && need <= *allocated)
                return 0;
        if (need == 0)
                return 0;
        if (size == 0 || need > SIZE_MAX / size)
                return -ENOMEM;
        if (allocated) {
                /* Doubling, but never past what SIZE_MAX bytes can hold: near the
                 * limit the exact NEED is still worth a try. */
                size_t doubled = *allocated > SIZE_MAX / 2 ? SIZE_MAX : *allocated * 2;
                if (doubled > want)
                        want = doubled;
                if (want < 8)
                        want = 8;
                if (want > SIZE_MAX / size)
                        want = need;
        }
        void *q = realloc(*p, want * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        if (allocated)
                *allocated = want;
        return 0;
}
