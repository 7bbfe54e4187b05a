/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* NULL-terminated string arrays (strv_free and its cleanup live in macro.h). */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"

/* Splits S at any of SEPARATORS, dropping empty fields. NULL on ENOMEM. */
char **strv_split(const char *s, const char *separators);
size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Appends a copy of S. Returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);
