/* SPDX-License-Identifier: Apache-2.0 */
/* The negative table on hostile bytes (basic/negative-table.h), as the NSS
 * module reads it from a file it mapped.
 *
 * An input that starts with NEGATIVE_TABLE_MAGIC is a table image: every
 * question derived from it (each slot's name and ID as every type, and a
 * few fixed ones) is looked up, at several times; none may read outside
 * the image (ASan) or loop. A table that says "not found" for a question
 * must hold that question in a slot within max_probe of its home slot.
 *
 * Any other input is a script for the writer, one entry per line:
 *   TYPE NAME-OR-ID TTL_USEC      (TYPE: 1-5, enum nss_proto_type)
 * The table built from it must answer every unexpired entry among the
 * first NEGATIVE_TABLE_ENTRIES_MAX distinct ones it kept, and nothing for
 * an expired one or a question never written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/negative-table.h"
#include "basic/valid.h"
#include "tests/fuzz/fuzz-check.h"

#define NOW 1000000000ull

static const enum nss_proto_type types[] = {NSS_PROTO_GETPWNAM, NSS_PROTO_GETPWUID, NSS_PROTO_GETGRNAM,
        NSS_PROTO_GETGRGID, NSS_PROTO_INITGROUPS};

static void ask_all(const uint8_t *data, size_t size, const struct nss_proto_request *q)
{
        static const uint64_t times[] = {0, NOW, UINT64_MAX};
        for (size_t t = 0; t < sizeof(times) / sizeof(times[0]); t++)
                (void)negative_table_has(data, size, q, times[t]);
}

static void fuzz_image(const uint8_t *data, size_t size)
{
        /* The fixed questions, then what the slots hold (bounded by size, not
         * by anything the header claims). */
        struct nss_proto_request q = {.type = NSS_PROTO_GETPWNAM};
        strcpy(q.name, "ghost");
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                q.type = types[i];
                q.id = 1000;
                ask_all(data, size, &q);
        }
        for (size_t off = NEGATIVE_TABLE_HEADER_SIZE;
                off + NEGATIVE_TABLE_SLOT_SIZE <= size && off < 64 * 1024; off += NEGATIVE_TABLE_SLOT_SIZE) {
                const uint8_t *slot = data + off;
                size_t len = MIN((size_t)slot[13], (size_t)USER_NAME_MAX);
                struct nss_proto_request s = {};
                memcpy(&s.id, slot + 8, 4);
                memcpy(s.name, slot + 16, MIN(len, (size_t)NEGATIVE_TABLE_NAME_MAX));
                for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                        s.type = types[i];
                        ask_all(data, size, &s);
                }
        }
}

struct entry {
        struct negative_entry e;
        bool kept;
};

static bool same_key(const struct nss_proto_request *a, const struct nss_proto_request *b)
{
        return a->type == b->type &&
               (nss_proto_type_by_name(a->type) ? streq(a->name, b->name) : a->id == b->id);
}

static void fuzz_script(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = strndup((const char *)data, size);
        _cleanup_free_ struct entry *entries = calloc(size / 4 + 1, sizeof(*entries));
        _cleanup_free_ struct negative_entry *flat = NULL;
        _cleanup_free_ void *image = NULL;
        size_t n = 0, image_size;

        if (!text || !entries)
                return;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                unsigned type;
                char key[USER_NAME_MAX + 1];
                unsigned long long ttl;
                if (sscanf(line, "%u %32s %llu", &type, key, &ttl) != 3 || type < 1 || type > 5)
                        continue;
                struct negative_entry *e = &entries[n].e;
                e->q.type = (enum nss_proto_type)type;
                if (nss_proto_type_by_name(e->q.type))
                        snprintf(e->q.name, sizeof(e->q.name), "%s", key);
                else
                        e->q.id = (uint32_t)strtoul(key, NULL, 10);
                e->expires_usec = ttl > UINT64_MAX - NOW ? UINT64_MAX : NOW + ttl;
                n++;
        }
        if (!(flat = calloc(n + 1, sizeof(*flat))))
                return;
        for (size_t i = 0; i < n; i++)
                flat[i] = entries[i].e;
        CHECK(negative_table_build(flat, n, NOW, &image, &image_size) == 0);
        CHECK(image_size <= NEGATIVE_TABLE_SIZE_MAX);
        /* Which entries the builder keeps: the first (newest) of each key, not
         * expired, with a name that fits, at most NEGATIVE_TABLE_ENTRIES_MAX. */
        size_t taken = 0;
        for (size_t i = 0; i < n && taken < NEGATIVE_TABLE_ENTRIES_MAX; i++) {
                const struct negative_entry *e = &entries[i].e;
                size_t len = strlen(e->q.name);
                if (e->expires_usec <= NOW || (nss_proto_type_by_name(e->q.type) && (len == 0 || len > 32)))
                        continue;
                bool dup = false;
                for (size_t j = 0; j < i && !dup; j++)
                        dup = entries[j].kept && same_key(&entries[j].e.q, &e->q);
                if (dup)
                        continue;
                entries[i].kept = true;
                taken++;
        }
        for (size_t i = 0; i < n; i++) {
                const struct negative_entry *e = &entries[i].e;
                bool kept_key = false;
                uint64_t expires = 0;
                for (size_t j = 0; j < n; j++)
                        if (entries[j].kept && same_key(&entries[j].e.q, &e->q)) {
                                kept_key = true;
                                expires = entries[j].e.expires_usec;
                                break;
                        }
                CHECK(negative_table_has(image, image_size, &e->q, NOW) == kept_key);
                if (kept_key)
                        CHECK(!negative_table_has(image, image_size, &e->q, expires));
        }
        struct nss_proto_request never = {.type = NSS_PROTO_GETPWNAM};
        strcpy(never.name, "never-written-name");
        bool written = false;
        for (size_t i = 0; i < n; i++)
                written = written || same_key(&entries[i].e.q, &never);
        CHECK(written || !negative_table_has(image, image_size, &never, NOW));
        /* The image is also an image. */
        fuzz_image(image, image_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 256 * 1024)
                return 0;
        if (size >= 8 && memcmp(data, NEGATIVE_TABLE_MAGIC, 8) == 0)
                fuzz_image(data, size);
        else
                fuzz_script(data, size);
        return 0;
}
