/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/negative-table.h"

struct negative_header {
        char magic[8];
        uint32_t version, header_size, n_slots, slot_size;
        uint64_t file_size;
        uint32_t max_probe;
        uint8_t reserved[28];
};

struct negative_slot {
        uint64_t expires_usec;
        uint32_t id;
        uint8_t type, name_len, zero[2];
        char name[NEGATIVE_TABLE_NAME_MAX];
};

_Static_assert(sizeof(struct negative_header) == NEGATIVE_TABLE_HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct negative_slot) == NEGATIVE_TABLE_SLOT_SIZE, "slot layout");

static uint32_t key_hash(const struct nss_proto_request *q)
{
        uint32_t h = nss_proto_type_by_name(q->type) ? cache_hash_name(q->name, strlen(q->name))
                                                     : cache_hash_id(q->id);
        /* The same name as a user and as a group are different keys. */
        return h ^ cache_hash_id((uint32_t)q->type);
}

static bool slot_matches(const struct negative_slot *s, const struct nss_proto_request *q, size_t name_len)
{
        if (s->type != (uint8_t)q->type)
                return false;
        if (!nss_proto_type_by_name(q->type))
                return le32toh(s->id) == q->id;
        return s->name_len == name_len && memcmp(s->name, q->name, name_len) == 0;
}

static size_t n_slots_for(size_t n)
{
        size_t slots = 8;
        while (slots < 2 * n)
                slots *= 2;
        return slots;
}

int negative_table_build(
        const struct negative_entry *entries, size_t n, uint64_t now_usec, void **ret, size_t *ret_size)
{
        size_t kept = MIN(n, (size_t)NEGATIVE_TABLE_ENTRIES_MAX), n_slots = n_slots_for(kept);
        size_t size = NEGATIVE_TABLE_HEADER_SIZE + n_slots * NEGATIVE_TABLE_SLOT_SIZE;
        uint8_t *image = calloc(1, size);
        uint32_t max_probe = 0;

        if (!image)
                return -ENOMEM;
        struct negative_slot *slots = (struct negative_slot *)(image + NEGATIVE_TABLE_HEADER_SIZE);
        for (size_t i = 0, taken = 0; i < n && taken < kept; i++) {
                const struct negative_entry *e = &entries[i];
                bool by_name = nss_proto_type_by_name(e->q.type);
                size_t len = by_name ? strnlen(e->q.name, sizeof(e->q.name)) : 0;
                if (e->expires_usec <= now_usec || len > NEGATIVE_TABLE_NAME_MAX || (by_name && len == 0))
                        continue;
                uint32_t slot = key_hash(&e->q) & (uint32_t)(n_slots - 1), probe = 0;
                while (slots[slot].expires_usec != 0 && !slot_matches(&slots[slot], &e->q, len)) {
                        slot = (slot + 1) & (uint32_t)(n_slots - 1);
                        probe++;
                }
                if (slots[slot].expires_usec != 0)
                        continue; /* a duplicate: the first (newest) one counts */
                struct negative_slot *s = &slots[slot];
                *s = (struct negative_slot){
                        .expires_usec = htole64(e->expires_usec), .type = (uint8_t)e->q.type};
                if (by_name) {
                        s->name_len = (uint8_t)len;
                        memcpy(s->name, e->q.name, len);
                } else
                        s->id = htole32(e->q.id);
                max_probe = MAX(max_probe, probe);
                taken++;
        }
        struct negative_header *h = (struct negative_header *)image;
        memcpy(h->magic, NEGATIVE_TABLE_MAGIC, sizeof(h->magic));
        h->version = htole32(NEGATIVE_TABLE_VERSION);
        h->header_size = htole32(NEGATIVE_TABLE_HEADER_SIZE);
        h->n_slots = htole32((uint32_t)n_slots);
        h->slot_size = htole32(NEGATIVE_TABLE_SLOT_SIZE);
        h->file_size = htole64((uint64_t)size);
        h->max_probe = htole32(max_probe);
        *ret = image;
        *ret_size = size;
        return 0;
}

bool negative_table_has(const void *data, size_t size, const struct nss_proto_request *q, uint64_t now_usec)
{
        struct negative_header h;

        if (!data || size < NEGATIVE_TABLE_HEADER_SIZE || size > NEGATIVE_TABLE_SIZE_MAX)
                return false;
        memcpy(&h, data, sizeof(h));
        uint32_t n_slots = le32toh(h.n_slots), max_probe = le32toh(h.max_probe);
        if (memcmp(h.magic, NEGATIVE_TABLE_MAGIC, sizeof(h.magic)) != 0 ||
                le32toh(h.version) != NEGATIVE_TABLE_VERSION ||
                le32toh(h.header_size) != NEGATIVE_TABLE_HEADER_SIZE ||
                le32toh(h.slot_size) != NEGATIVE_TABLE_SLOT_SIZE || le64toh(h.file_size) != size ||
                n_slots == 0 || n_slots > NEGATIVE_TABLE_SLOTS_MAX || (n_slots & (n_slots - 1)) != 0 ||
                max_probe >= n_slots ||
                (size - NEGATIVE_TABLE_HEADER_SIZE) / NEGATIVE_TABLE_SLOT_SIZE != n_slots ||
                (size - NEGATIVE_TABLE_HEADER_SIZE) % NEGATIVE_TABLE_SLOT_SIZE != 0)
                return false;

        bool by_name = nss_proto_type_by_name(q->type);
        size_t len = by_name ? strnlen(q->name, sizeof(q->name)) : 0;
        if (len > NEGATIVE_TABLE_NAME_MAX || (by_name && len == 0))
                return false;
        const uint8_t *base = (const uint8_t *)data + NEGATIVE_TABLE_HEADER_SIZE;
        uint32_t slot = key_hash(q) & (n_slots - 1);
        for (uint32_t probe = 0; probe <= max_probe; probe++, slot = (slot + 1) & (n_slots - 1)) {
                struct negative_slot s;
                memcpy(&s, base + (size_t)slot * NEGATIVE_TABLE_SLOT_SIZE, sizeof(s));
                uint64_t expires = le64toh(s.expires_usec);
                if (expires == 0)
                        return false;
                if (s.name_len > NEGATIVE_TABLE_NAME_MAX)
                        continue;
                if (slot_matches(&s, q, len))
                        return expires > now_usec;
        }
        return false;
}
