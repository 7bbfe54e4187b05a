/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <string.h>

#include "basic/cache-format.h"
#include "basic/hash.h"

#define CHECKSUM_PRIME 0x9e3779b97f4a7c15ull

static inline uint64_t rotl64(uint64_t v, unsigned n)
{
        return (v << n) | (v >> (64 - n));
}

static inline uint64_t lane_step(uint64_t h, uint64_t w)
{
        return rotl64((h ^ w) * CHECKSUM_PRIME, 31);
}

void cache_checksum_init(struct cache_checksum *c)
{
        *c = (struct cache_checksum){
                .lane = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull,
                        0x082efa98ec4e6c89ull},
        };
}

void cache_checksum_update(struct cache_checksum *c, const void *data, size_t size)
{
        const uint8_t *p = data;

        /* Four independent multiply chains keep the CPU busy while the
         * next words load. */
        for (size_t i = 0; i + 32 <= size; i += 32)
                for (unsigned l = 0; l < 4; l++) {
                        uint64_t w;
                        memcpy(&w, p + i + 8 * l, 8);
                        c->lane[l] = lane_step(c->lane[l], le64toh(w));
                }
        c->size += size;
}

uint64_t cache_checksum_final(struct cache_checksum *c, const void *tail, size_t size)
{
        const uint8_t *p = tail;
        size_t i = 0;

        for (unsigned l = 0; i + 8 <= size; i += 8, l++) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                c->lane[l] = lane_step(c->lane[l], le64toh(w));
        }
        if (i < size) {
                uint64_t w = 0;
                memcpy(&w, p + i, size - i);
                c->lane[3] = lane_step(c->lane[3], le64toh(w) ^ 0xff);
        }

        uint64_t h = (uint64_t)(c->size + size) * CHECKSUM_PRIME;
        for (unsigned l = 0; l < 4; l++)
                h = lane_step(h, c->lane[l]);
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        return h;
}

uint64_t cache_checksum(const void *data, size_t size)
{
        struct cache_checksum c;
        size_t blocks = size - size % 32;

        cache_checksum_init(&c);
        cache_checksum_update(&c, data, blocks);
        return cache_checksum_final(&c, (const uint8_t *)data + blocks, size - blocks);
}

uint32_t cache_hash_name(const char *name, size_t len)
{
        return hash_mix32(fnv1a32(name, len));
}

uint32_t cache_hash_id(uint32_t id)
{
        return hash_mix32(id ^ 0x5bd1e995u);
}
