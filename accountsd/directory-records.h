/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Conversions between the cache file, NSS reply messages and the cache
 * writer, for directory.c (pure functions, unit-tested). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/cache-reader.h"
#include "basic/cache-writer.h"
#include "basic/nss-proto.h"

/* Appends the reply to Q from MAP (NULL: none) to B. -ENOENT when MAP does
 * not hold it; a user in MAP without memberships answers INITGROUPS with
 * an empty list (the full build saw every group). */
int directory_answer_from_map(
        const struct cache_map *map, const struct nss_proto_request *q, struct byte_buffer *b);
/* Adds the record of a FOUND reply to Q (user, plus its self group when GID
 * == UID; or group) to W. Duplicates and refused entries are skipped (0);
 * -ENOMEM. */
int directory_writer_add_reply(
        struct cache_writer *w, const struct nss_proto_request *q, const uint8_t *msg, size_t size);
/* Whether the FOUND reply MSG to Q names a user or group MAP (may be NULL)
 * holds under another name or ID: a miss must not give a second name to a
 * cached UID/GID, nor a second ID to a cached name. */
bool directory_answer_collides(
        const struct cache_map *map, const struct nss_proto_request *q, const uint8_t *msg, size_t size);
