/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP answer parser of lib/mds/http.c: everything the metadata server
 * (or whoever answers on its address) sends passes through it. The first
 * byte picks how the rest is split into reads; the same bytes fed at once
 * must give the same answer, and no answer may break its own bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mds/http.h"

#define CAP 4096

static int run(const uint8_t *data, size_t size, size_t step, struct http_response *ret)
{
        struct http_parser p;
        int r = 0;

        http_parser_init(&p, CAP);
        for (size_t i = 0; i < size && r == 0; i += step)
                r = http_parser_feed(&p, data + i, step < size - i ? step : size - i);
        if (r == 0)
                r = http_parser_finish(&p);
        if (r == 1)
                http_parser_take(&p, ret);
        http_parser_done(&p);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct http_response whole = {}, split = {};
        size_t step;
        int a, b;

        if (size < 1)
                return 0;
        step = (size_t)data[0] % 17 + 1;
        data++;
        size--;
        a = run(data, size, size ? size : 1, &whole);
        b = run(data, size, step, &split);
        if (a != b)
                abort();
        if (a == 1) {
                if (!whole.body || whole.size > CAP || strlen(whole.body) > whole.size ||
                    whole.size != split.size || memcmp(whole.body, split.body, whole.size) != 0 ||
                    whole.status != split.status || whole.flavor != split.flavor ||
                    whole.status < 100 || whole.status > 599)
                        abort();
                if ((whole.etag == NULL) != (split.etag == NULL) || (whole.etag && strcmp(whole.etag, split.etag)))
                        abort();
        }
        http_response_done(&whole);
        http_response_done(&split);
        return 0;
}
