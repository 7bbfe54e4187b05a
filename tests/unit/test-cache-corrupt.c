/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile cache files: every truncation, every flipped byte, random
 * mutations, each both as-is (the checksum must catch it) and "resealed"
 * with a correct size and checksum so the structural checks behind the
 * checksum are exercised too. Nothing may crash or read out of bounds
 * (the ASan and valgrind runs check the latter). */
#include "tests/unit/unit.h"

#include <endian.h>

#include "basic/cache-writer.h"

static void *image;
static size_t image_size;

static int setup(void **state)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;

        (void)state;
        assert_int_equal(cache_writer_new(&w), 0);
        cache_writer_set_creation_time(w, 1);
        assert_int_equal(
                cache_writer_add_user(w, "alice", 1000001, 1000001, "Alice", "/home/alice", "/bin/bash"), 0);
        assert_int_equal(cache_writer_add_user(w, "bob", 1000002, 1000002, "", "/home/bob", "/bin/sh"), 0);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 100, "C", "/home/carol", "/bin/sh"), 0);
        assert_int_equal(cache_writer_add_group(
                                 w, "eng", 1000042, (const char *const[]){"alice", "bob", "dave", NULL}),
                0);
        assert_int_equal(
                cache_writer_add_group(w, "alice", 1000001, (const char *const[]){"alice", NULL}), 0);
        assert_int_equal(cache_writer_build(w, &image, &image_size), 0);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        free(image);
        return 0;
}

/* Every query a module could make; the results do not matter, only that
 * each returns 0, -ENOENT or -EBADMSG and touches nothing outside. */
static void exercise(const struct cache_map *m)
{
        static const char *const names[] = {"alice", "bob", "carol", "dave", "eng", "zed"};
        struct passwd_record pw;
        struct group_record gr;
        struct gid_list_record gl;
        struct span s;
        uint32_t cursor;
        size_t steps;
        int k;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                k = cache_map_find_user_by_name(m, names[i], &pw);
                assert_true(k == 0 || k == -ENOENT || k == -EBADMSG);
                k = cache_map_find_group_by_name(m, names[i], &gr);
                assert_true(k == 0 || k == -ENOENT || k == -EBADMSG);
                if (k == 0)
                        for (struct byte_reader it = gr.members; group_record_next_member(&it, &s) == 0;)
                                assert_true(s.len > 0);
                k = cache_map_find_memberships(m, names[i], &gl);
                assert_true(k == 0 || k == -ENOENT || k == -EBADMSG);
                for (uint32_t j = 0; k == 0 && j < gl.n_gids; j++)
                        (void)gid_list_record_get(&gl, j);
        }
        for (uint32_t id = 1000000; id < 1000045; id++) {
                (void)cache_map_find_user_by_uid(m, id, &pw);
                (void)cache_map_find_group_by_gid(m, id, &gr);
        }
        for (cursor = 0, steps = 0; cache_map_next_user(m, &cursor, &pw) == 0; steps++)
                assert_true(steps < image_size);
        for (cursor = 0, steps = 0; cache_map_next_group(m, &cursor, &gr) == 0; steps++)
                assert_true(steps < image_size);
}

/* Gives a damaged copy a consistent size and checksum. */
static void reseal(uint8_t *p, size_t size)
{
        uint64_t v;

        if (size < CACHE_HEADER_SIZE)
                return;
        v = htole64(size);
        memcpy(p + offsetof(struct cache_header, file_size), &v, 8);
        v = htole64(cache_checksum(p + CACHE_CHECKSUM_START, size - CACHE_CHECKSUM_START));
        memcpy(p + offsetof(struct cache_header, checksum), &v, 8);
}

/* Maps an exact-size heap copy, so any overread is an ASan error. */
static int try_map(const uint8_t *p, size_t size)
{
        _cleanup_free_ uint8_t *copy = malloc(size ? size : 1);
        struct cache_map *m = NULL;
        int k;

        assert_non_null(copy);
        memcpy(copy, p, size);
        k = cache_map_from_memory(copy, size, &m);
        if (k == 0) {
                exercise(m);
                cache_map_unref(m);
        } else
                assert_int_equal(k, -EBADMSG);
        return k;
}

static void test_intact(void **state)
{
        (void)state;
        assert_int_equal(try_map(image, image_size), 0);
}

static void test_truncated(void **state)
{
        _cleanup_free_ uint8_t *p = malloc(image_size);

        (void)state;
        for (size_t len = 0; len < image_size; len++) {
                memcpy(p, image, image_size);
                assert_int_equal(try_map(p, len), -EBADMSG);
                reseal(p, len);
                (void)try_map(p, len);
        }
}

static void test_flipped_bytes(void **state)
{
        _cleanup_free_ uint8_t *p = malloc(image_size);
        size_t opened = 0;

        (void)state;
        for (size_t i = 0; i < image_size; i++)
                for (unsigned bit = 0; bit < 8; bit += 3) {
                        memcpy(p, image, image_size);
                        p[i] ^= (uint8_t)(1u << bit);
                        /* Any single change is caught by the checksum. */
                        assert_int_equal(try_map(p, image_size), -EBADMSG);
                        reseal(p, image_size);
                        if (try_map(p, image_size) == 0)
                                opened++;
                }
        /* Most resealed flips land in records and open fine. */
        assert_true(opened > 0);
}

static void test_random_mutations(void **state)
{
        _cleanup_free_ uint8_t *p = malloc(image_size);
        unsigned seed = 12345;

        (void)state;
        for (unsigned round = 0; round < 5000; round++) {
                memcpy(p, image, image_size);
                unsigned n = 1 + rand_r(&seed) % 8;
                for (unsigned i = 0; i < n; i++) {
                        size_t at = (size_t)rand_r(&seed) % image_size;
                        /* Bias towards values that make lengths and offsets interesting. */
                        static const uint8_t values[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x20, ':'};
                        p[at] = rand_r(&seed) % 2 ? values[rand_r(&seed) % sizeof(values)]
                                                  : (uint8_t)rand_r(&seed);
                }
                reseal(p, image_size);
                (void)try_map(p, image_size);
        }
}

static void test_header_fields(void **state)
{
        _cleanup_free_ uint8_t *p = malloc(image_size);
        struct cache_header h;

        (void)state;
        /* A section that ends past the file, an index that is not a power of
         * two, a max_probe beyond its table, a misaligned index. */
        for (unsigned c = 0; c < 4; c++) {
                memcpy(p, image, image_size);
                memcpy(&h, p, sizeof(h));
                if (c == 0)
                        h.sections[CACHE_SECTION_USERS].size = htole32(UINT32_MAX);
                else if (c == 1)
                        h.indexes[CACHE_INDEX_USER_NAME].n_slots = htole32(3);
                else if (c == 2)
                        h.indexes[CACHE_INDEX_USER_UID].max_probe = htole32(UINT32_MAX);
                else
                        h.indexes[CACHE_INDEX_GROUP_GID].offset =
                                htole32(le32toh(h.indexes[CACHE_INDEX_GROUP_GID].offset) + 4);
                memcpy(p, &h, sizeof(h));
                reseal(p, image_size);
                assert_int_equal(try_map(p, image_size), -EBADMSG);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_intact),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_flipped_bytes),
                cmocka_unit_test(test_random_mutations),
                cmocka_unit_test(test_header_fields),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
