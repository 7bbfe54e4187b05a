/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The hash functions, once: FNV-1a over bytes (32- and 64-bit) and the
 * murmur3 finaliser that spreads a 32-bit value over all bits.
 *
 * The cache file's indexes and the negative table are built from these
 * (cache_hash_name(), cache_hash_id()), so the NSS module and every
 * accountsd that ever wrote a cache depend on their exact values:
 * tests/unit/test-hash.c pins them. Never change them in place. */

#include <stddef.h>
#include <stdint.h>

#define FNV1A32_OFFSET 0x811c9dc5u
#define FNV1A32_PRIME 0x01000193u
#define FNV1A64_OFFSET 0xcbf29ce484222325ull
#define FNV1A64_PRIME 0x100000001b3ull

static inline uint32_t fnv1a32(const void *data, size_t size)
{
        const uint8_t *p = data;
        uint32_t h = FNV1A32_OFFSET;
        for (size_t i = 0; i < size; i++)
                h = (h ^ p[i]) * FNV1A32_PRIME;
        return h;
}

/* Goes on from H (FNV1A64_OFFSET to start) over more bytes: a digest of
 * several pieces, equal to fnv1a64() of them back to back. */
static inline uint64_t fnv1a64_update(uint64_t h, const void *data, size_t size)
{
        const uint8_t *p = data;
        for (size_t i = 0; i < size; i++)
                h = (h ^ p[i]) * FNV1A64_PRIME;
        return h;
}

static inline uint64_t fnv1a64(const void *data, size_t size)
{
        return fnv1a64_update(FNV1A64_OFFSET, data, size);
}

/* murmur3's fmix32: every input bit reaches every output bit, so the low
 * bits that pick a slot (hash & (n_slots - 1)) are good ones. */
static inline uint32_t hash_mix32(uint32_t h)
{
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        return h;
}
