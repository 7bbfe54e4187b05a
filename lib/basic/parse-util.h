/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Strict decimal parsing: digits only (no sign, no whitespace, no leading
 * '+'), overflow-checked. Returns 0 and writes *ret, or -EINVAL / -ERANGE. */

#include <stdbool.h>
#include <stdint.h>

int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
/* Booleans as the metadata server spells them (1 t T TRUE true True / 0 f F
 * FALSE false False). Returns 1, 0, or -EINVAL for anything else. */
int parse_metadata_boolean(const char *s);
/* Config-file booleans: the above plus yes/no/on/off, case-insensitive. */
int parse_config_boolean(const char *s);
