/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "basic/cache-format.h"
#include "basic/cache-writer.h"
#include "basic/hash.h"
#include "basic/macro.h"
#include "basic/strmap.h"
#include "basic/u32set.h"

/* The published FNV-1a test vectors (draft-eastlake-fnv). */
static void test_fnv1a(void **state)
{
        (void)state;
        assert_int_equal(fnv1a32("", 0), 0x811c9dc5u);
        assert_int_equal(fnv1a32("a", 1), 0xe40c292cu);
        assert_int_equal(fnv1a32("foobar", 6), 0xbf9cf968u);
        assert_true(fnv1a64("", 0) == 0xcbf29ce484222325ull);
        assert_true(fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
        assert_true(fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
        /* In pieces: the same as in one go (the keys cache's digest relies on it). */
        assert_true(
                fnv1a64_update(fnv1a64_update(FNV1A64_OFFSET, "foo", 3), "bar", 3) == fnv1a64("foobar", 6));
        assert_true(fnv1a64_update(FNV1A64_OFFSET, "", 0) == FNV1A64_OFFSET);
        /* Bytes, not chars: a high byte is not sign-extended. */
        assert_int_equal(fnv1a32("\xe9", 1), (0x811c9dc5u ^ 0xe9u) * 0x01000193u);
}

/* The cache file's hashes, as every released accountsd and NSS module
 * computed them: a change here makes old caches unreadable (every lookup
 * misses) until rewritten. The values come from the code before lib/basic/hash.h. */
static void test_cache_hashes_pinned(void **state)
{
        static const struct {
                const char *name;
                uint32_t hash;
        } names[] = {
                {"", 0xab3e7c0bu},
                {"a", 0x1a80b1b3u},
                {"alice", 0xea14d61eu},
                {"alice_example_com", 0x8dbde733u},
                {"root", 0x00d3494au},
                {"google-sudoers", 0xcb41180cu},
                {"abcdefghijabcdefghijabcdefghij12", 0xbb6442c3u},
        };
        static const struct {
                uint32_t id, hash;
        } ids[] = {
                {0u, 0xd9aaf7d3u},
                {1u, 0xaddc76bcu},
                {1000u, 0x165551dau},
                {1001u, 0x6d93529eu},
                {65534u, 0x648fbab3u},
                {4294967294u, 0xad90aec8u},
                {4294967295u, 0x7dffdedeu},
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                assert_int_equal(cache_hash_name(names[i].name, strlen(names[i].name)), names[i].hash);
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                assert_int_equal(cache_hash_id(ids[i].id), ids[i].hash);
}

/* A whole cache image, byte for byte: the checksum of a fixed directory as
 * the writer built it before the hashes moved to lib/basic/hash.h. */
static void test_cache_image_pinned(void **state)
{
        struct cache_writer *w = NULL;
        _cleanup_free_ void *data = NULL;
        size_t size = 0;
        char name[32];
        const char *members[] = {"user1", "user2", "user250", NULL};

        (void)state;
        assert_int_equal(cache_writer_new(&w), 0);
        cache_writer_set_settings(w, 1000, 500);
        cache_writer_set_generation(w, 7);
        cache_writer_set_creation_time(w, 1700000000000000ull);
        for (unsigned i = 0; i < 300; i++) {
                snprintf(name, sizeof(name), "user%u", i);
                assert_int_equal(
                        cache_writer_add_user(w, name, 100000 + i, 100000 + i, "G", "/home/x", "/bin/bash"),
                        0);
        }
        for (unsigned i = 0; i < 40; i++) {
                snprintf(name, sizeof(name), "group%u", i);
                assert_int_equal(cache_writer_add_group(w, name, 200000 + i, members), 0);
        }
        assert_int_equal(cache_writer_build(w, &data, &size), 0);
        cache_writer_free(w);
        assert_int_equal(size, 36848);
        assert_true(cache_checksum(data, size) == 0xb9c01012958a6189ull);
}

/* The string map and the ID set built on them. */
static void test_tables(void **state)
{
        struct strmap m = {};
        struct u32set s = {};
        char key[32];
        size_t v;

        (void)state;
        for (uint32_t i = 0; i < 5000; i++) {
                snprintf(key, sizeof(key), "k%u", i);
                assert_int_equal(strmap_put(&m, key, i), 0);
                assert_int_equal(u32set_add(&s, i * 7), 0);
        }
        assert_int_equal(u32set_add(&s, 0), 0); /* again: no double count */
        for (uint32_t i = 0; i < 5000; i++) {
                snprintf(key, sizeof(key), "k%u", i);
                assert_true(strmap_get(&m, key, &v));
                assert_int_equal(v, i);
                assert_true(u32set_contains(&s, i * 7));
                assert_false(u32set_contains(&s, i * 7 + 1));
        }
        assert_false(strmap_get(&m, "k5000", NULL));
        assert_int_equal(u32set_size(&s), 5000);

        /* Every value, the edges included. */
        assert_false(u32set_contains(&s, UINT32_MAX));
        assert_int_equal(u32set_add(&s, UINT32_MAX), 0);
        assert_int_equal(u32set_add(&s, UINT32_MAX - 1), 0);
        assert_true(u32set_contains(&s, UINT32_MAX));
        assert_true(u32set_contains(&s, UINT32_MAX - 1));
        assert_int_equal(u32set_size(&s), 5002);

        struct u32set empty = {};
        assert_false(u32set_contains(&empty, 0));
        assert_false(u32set_contains(&empty, UINT32_MAX));
        strmap_done(&m);
        u32set_done(&s);
        assert_int_equal(u32set_size(&s), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fnv1a),
                cmocka_unit_test(test_cache_hashes_pinned),
                cmocka_unit_test(test_cache_image_pinned),
                cmocka_unit_test(test_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
