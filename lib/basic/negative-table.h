/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The negative table (doc/cache-format.md): the names and IDs accountsd
 * recently learned do not exist, each with the time its "not found" stops
 * holding (negative_ttl after the server said so). accountsd replaces the
 * file atomically after each new negative answer; libnss_oslogin.so.2 maps
 * it and, for a question the cache cannot answer, looks here before it asks
 * nss.sock, so a repeated unknown name costs no socket round trip.
 *
 *   [header, 64 bytes]  magic "OSLNEGT1", u32 version, u32 header_size,
 *                       u32 n_slots, u32 slot_size, u64 file_size,
 *                       u32 max_probe, zero padding
 *   [n_slots slots]     48 bytes each: u64 expires_usec (CLOCK_MONOTONIC,
 *                       0: empty), u32 id, u8 type, u8 name_len, 2 zero
 *                       bytes, name (32 bytes, not NUL-terminated)
 *
 * Little-endian. A key (type with name, or type with ID) hashes to slot
 * hash & (n_slots - 1), linear probing; readers look at no more than
 * max_probe + 1 slots. n_slots is a power of two, at most
 * NEGATIVE_TABLE_SLOTS_MAX, at least twice the entries: the file is at
 * most 64 + 2048 * 48 bytes (96 kB). A reader checks every field against
 * the size it mapped and trusts nothing else. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/cache-format.h"
#include "basic/nss-proto.h"

#define NEGATIVE_TABLE_FILE_NAME "negative.table"
#define NEGATIVE_TABLE_PATH CACHE_DIR "/" NEGATIVE_TABLE_FILE_NAME
#define NEGATIVE_TABLE_MAGIC "OSLNEGT1"
#define NEGATIVE_TABLE_VERSION 1u
#define NEGATIVE_TABLE_HEADER_SIZE 64u
#define NEGATIVE_TABLE_SLOT_SIZE 48u
#define NEGATIVE_TABLE_NAME_MAX 32u
#define NEGATIVE_TABLE_SLOTS_MAX 2048u
#define NEGATIVE_TABLE_ENTRIES_MAX (NEGATIVE_TABLE_SLOTS_MAX / 2)
#define NEGATIVE_TABLE_SIZE_MAX                                                                             \
        (NEGATIVE_TABLE_HEADER_SIZE + NEGATIVE_TABLE_SLOTS_MAX * NEGATIVE_TABLE_SLOT_SIZE)

struct negative_entry {
        struct nss_proto_request q;
        uint64_t expires_usec; /* CLOCK_MONOTONIC */
};

/* The file for the first NEGATIVE_TABLE_ENTRIES_MAX of the N ENTRIES (give
 * the newest first); those with a name longer than NEGATIVE_TABLE_NAME_MAX
 * or already expired at NOW are left out, and so are duplicates. 0 and a
 * malloc'ed image, or -ENOMEM. */
int negative_table_build(
        const struct negative_entry *entries, size_t n, uint64_t now_usec, void **ret, size_t *ret_size);

/* Whether the image DATA of SIZE bytes holds Q, unexpired at NOW: true only
 * for a well-formed table that has it (a damaged one answers nothing). */
bool negative_table_has(const void *data, size_t size, const struct nss_proto_request *q, uint64_t now_usec);
