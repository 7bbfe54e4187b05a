/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A property the fuzzed code must keep: a failure aborts, which libFuzzer
 * and the corpus replay (regress-main.c) both report with the input. */

#include <stdio.h>
#include <stdlib.h>

#define CHECK(expr)                                                                                         \
        do {                                                                                                \
                if (!(expr)) {                                                                              \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);            \
                        abort();                                                                            \
                }                                                                                           \
        } while (0)
