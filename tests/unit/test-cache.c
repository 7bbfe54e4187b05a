/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "basic/cache-writer.h"

static const char *const eng_members[] = {
        "alice_example_com", "bob_example_com", "localuser", "alice_example_com", NULL};

/* A small directory: two users, their self groups, one shared group. */
static struct cache_writer *small_writer(void)
{
        struct cache_writer *w = NULL;

        assert_int_equal(cache_writer_new(&w), 0);
        cache_writer_set_generation(w, 7);
        cache_writer_set_creation_time(w, 1700000000000000ull);
        cache_writer_set_settings(w, 1000, 500);
        /* Added out of UID order on purpose: the output is sorted. */
        assert_int_equal(cache_writer_add_user(w, "bob_example_com", 1000002, 1000002, "",
                                 "/home/bob_example_com", "/bin/sh"),
                0);
        assert_int_equal(cache_writer_add_user(w, "alice_example_com", 1000001, 1000001, "Alice Example,,,",
                                 "/home/alice_example_com", "/bin/bash"),
                0);
        assert_int_equal(cache_writer_add_group(w, "eng", 1000042, eng_members), 0);
        assert_int_equal(cache_writer_add_group(w, "alice_example_com", 1000001,
                                 (const char *const[]){"alice_example_com", NULL}),
                0);
        assert_int_equal(cache_writer_add_group(w, "empty", 1000050, NULL), 0);
        return w;
}

static void build_small(void **ret_data, size_t *ret_size)
{
        _cleanup_cache_writer_ struct cache_writer *w = small_writer();
        assert_int_equal(cache_writer_build(w, ret_data, ret_size), 0);
}

static void test_round_trip(void **state)
{
        _cleanup_free_ void *data = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL;
        struct passwd_record pw;
        struct group_record gr;
        struct gid_list_record gl;
        struct span s;
        size_t size;

        (void)state;
        build_small(&data, &size);
        assert_int_equal(cache_map_from_memory(data, size, &m), 0);
        assert_int_equal(cache_map_header(m)->generation, 7);
        assert_int_equal(cache_map_header(m)->n_users, 2);
        assert_int_equal(cache_map_header(m)->n_groups, 3);
        assert_int_equal(cache_map_uid_floor(m), 1000);
        assert_int_equal(cache_map_socket_timeout_ms(m), 500);

        assert_int_equal(cache_map_find_user_by_name(m, "alice_example_com", &pw), 0);
        assert_int_equal(pw.uid, 1000001);
        assert_true(span_eq(pw.gecos, "Alice Example,,,"));
        assert_true(span_eq(pw.home, "/home/alice_example_com"));
        assert_true(span_eq(pw.shell, "/bin/bash"));
        assert_int_equal(cache_map_find_user_by_uid(m, 1000002, &pw), 0);
        assert_true(span_eq(pw.name, "bob_example_com"));
        assert_true(span_eq(pw.gecos, ""));
        assert_int_equal(cache_map_find_user_by_name(m, "carol", &pw), -ENOENT);
        assert_int_equal(cache_map_find_user_by_uid(m, 1000003, &pw), -ENOENT);

        assert_int_equal(cache_map_find_group_by_name(m, "eng", &gr), 0);
        assert_int_equal(gr.gid, 1000042);
        assert_int_equal(gr.n_members, 3); /* the duplicate was dropped */
        struct byte_reader it = gr.members;
        assert_int_equal(group_record_next_member(&it, &s), 0);
        assert_true(span_eq(s, "alice_example_com"));
        assert_int_equal(group_record_next_member(&it, &s), 0);
        assert_int_equal(group_record_next_member(&it, &s), 0);
        assert_true(span_eq(s, "localuser"));
        assert_int_equal(group_record_next_member(&it, &s), -ENOENT);
        assert_int_equal(cache_map_find_group_by_gid(m, 1000050, &gr), 0);
        assert_int_equal(gr.n_members, 0);
        assert_int_equal(cache_map_find_group_by_gid(m, 1000002, &gr), -ENOENT);

        assert_int_equal(cache_map_find_memberships(m, "alice_example_com", &gl), 0);
        assert_int_equal(gl.n_gids, 2);
        assert_int_equal(gid_list_record_get(&gl, 0), 1000001);
        assert_int_equal(gid_list_record_get(&gl, 1), 1000042);
        assert_int_equal(cache_map_find_memberships(m, "localuser", &gl), 0);
        assert_int_equal(gl.n_gids, 1);
        assert_int_equal(cache_map_find_memberships(m, "nobody", &gl), -ENOENT);
}

static void test_enumeration_order(void **state)
{
        _cleanup_free_ void *data = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL;
        struct passwd_record pw;
        struct group_record gr;
        uint32_t cursor = 0, last = 0;
        size_t size, n = 0;

        (void)state;
        build_small(&data, &size);
        assert_int_equal(cache_map_from_memory(data, size, &m), 0);
        while (cache_map_next_user(m, &cursor, &pw) == 0) {
                assert_true(pw.uid > last);
                last = pw.uid;
                n++;
        }
        assert_int_equal(n, 2);
        assert_int_equal(cache_map_next_user(m, &cursor, &pw), -ENOENT);
        cursor = 0, n = 0, last = 0;
        while (cache_map_next_group(m, &cursor, &gr) == 0) {
                assert_true(gr.gid > last);
                last = gr.gid;
                n++;
        }
        assert_int_equal(n, 3);
}

static void test_deterministic(void **state)
{
        _cleanup_free_ void *a = NULL, *b = NULL;
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        size_t na, nb;

        (void)state;
        build_small(&a, &na);
        /* Same content added in another order. */
        assert_int_equal(cache_writer_new(&w), 0);
        cache_writer_set_generation(w, 7);
        cache_writer_set_creation_time(w, 1700000000000000ull);
        cache_writer_set_settings(w, 1000, 500);
        assert_int_equal(cache_writer_add_group(w, "empty", 1000050, NULL), 0);
        assert_int_equal(cache_writer_add_group(w, "alice_example_com", 1000001,
                                 (const char *const[]){"alice_example_com", NULL}),
                0);
        assert_int_equal(cache_writer_add_group(w, "eng", 1000042, eng_members), 0);
        assert_int_equal(cache_writer_add_user(w, "alice_example_com", 1000001, 1000001, "Alice Example,,,",
                                 "/home/alice_example_com", "/bin/bash"),
                0);
        assert_int_equal(cache_writer_add_user(w, "bob_example_com", 1000002, 1000002, "",
                                 "/home/bob_example_com", "/bin/sh"),
                0);
        assert_int_equal(cache_writer_build(w, &b, &nb), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
}

static void test_invalid_and_duplicates(void **state)
{
        _cleanup_cache_writer_ struct cache_writer *w = small_writer();

        (void)state;
        assert_int_equal(
                cache_writer_add_user(w, "alice_example_com", 1000009, 1, "", "/h", "/bin/sh"), -EEXIST);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000001, 1, "", "/h", "/bin/sh"), -EEXIST);
        assert_int_equal(cache_writer_add_user(w, "carol", 999, 999, "", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 0, 0, "", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 65534, 1, "", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "car:ol", 1000003, 1, "", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 1, "a:b", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 1, "a\nb", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 1, "", "rel", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 1, "", "/h/../x", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 0, "", "/h", "/bin/sh"), -EINVAL);
        assert_int_equal(cache_writer_add_group(w, "eng", 1000099, NULL), -EEXIST);
        assert_int_equal(cache_writer_add_group(w, "ops", 1000042, NULL), -EEXIST);
        assert_int_equal(cache_writer_add_group(w, "ops", 10, NULL), -EINVAL);
        assert_int_equal(
                cache_writer_add_group(w, "ops", 1000099, (const char *const[]){"a,b", NULL}), -EINVAL);
        /* Failed adds left nothing behind. */
        assert_int_equal(cache_writer_add_user(w, "carol", 1000003, 1000003, "", "/h", "/bin/sh"), 0);
}

static void test_import(void **state)
{
        _cleanup_free_ void *data = NULL, *merged = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL, *m2 = NULL;
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        struct passwd_record pw;
        struct group_record gr;
        size_t size, merged_size;

        (void)state;
        build_small(&data, &size);
        assert_int_equal(cache_map_from_memory(data, size, &m), 0);
        assert_int_equal(cache_writer_new(&w), 0);
        /* The new answer wins over the old entry of the same name. */
        assert_int_equal(cache_writer_add_user(w, "bob_example_com", 1000002, 1000002, "Bob New",
                                 "/home/bob_example_com", "/bin/zsh"),
                0);
        assert_int_equal(cache_writer_import(w, m), 0);
        assert_int_equal(cache_writer_build(w, &merged, &merged_size), 0);
        assert_int_equal(cache_map_from_memory(merged, merged_size, &m2), 0);
        assert_int_equal(cache_map_find_user_by_name(m2, "bob_example_com", &pw), 0);
        assert_true(span_eq(pw.shell, "/bin/zsh"));
        assert_int_equal(cache_map_find_user_by_uid(m2, 1000001, &pw), 0);
        assert_int_equal(cache_map_find_group_by_name(m2, "eng", &gr), 0);
        assert_int_equal(gr.n_members, 3);
}

/* The synthetic group of every user: in each user's memberships, in GID
 * order, without a member list; users a rewrite adds get it too. */
static void test_users_group(void **state)
{
        _cleanup_free_ void *data = NULL, *merged = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL, *m2 = NULL;
        _cleanup_cache_writer_ struct cache_writer *w = small_writer(), *w2 = NULL;
        struct group_record gr;
        struct gid_list_record gl;
        size_t size, merged_size;

        (void)state;
        cache_writer_set_users_group(w, 1000045); /* between eng (1000042) and empty (1000050) */
        assert_int_equal(cache_writer_add_group(w, "oslogin-users", 1000045, NULL), 0);
        assert_int_equal(cache_writer_build(w, &data, &size), 0);
        assert_int_equal(cache_map_from_memory(data, size, &m), 0);
        assert_int_equal(cache_map_find_group_by_name(m, "oslogin-users", &gr), 0);
        assert_int_equal(gr.gid, 1000045);
        assert_int_equal(gr.n_members, 0);
        assert_int_equal(cache_map_find_memberships(m, "alice_example_com", &gl), 0);
        assert_int_equal(gl.n_gids, 3);
        assert_int_equal(gid_list_record_get(&gl, 0), 1000001);
        assert_int_equal(gid_list_record_get(&gl, 1), 1000042);
        assert_int_equal(gid_list_record_get(&gl, 2), 1000045);
        assert_int_equal(cache_map_find_memberships(m, "bob_example_com", &gl), 0);
        assert_int_equal(gl.n_gids, 2);
        assert_int_equal(gid_list_record_get(&gl, 1), 1000045);
        /* A member name that is no user of the file is not given it. */
        assert_int_equal(cache_map_find_memberships(m, "localuser", &gl), 0);
        assert_int_equal(gl.n_gids, 1);
        assert_int_equal(gid_list_record_get(&gl, 0), 1000042);

        /* A rewrite: a new user, the rest imported. */
        assert_int_equal(cache_writer_new(&w2), 0);
        cache_writer_set_users_group(w2, 1000045);
        assert_int_equal(cache_writer_add_user(w2, "carol_example_com", 1000003, 1000003, "",
                                 "/home/carol_example_com", "/bin/sh"),
                0);
        assert_int_equal(cache_writer_import(w2, m), 0);
        assert_int_equal(cache_writer_build(w2, &merged, &merged_size), 0);
        assert_int_equal(cache_map_from_memory(merged, merged_size, &m2), 0);
        assert_int_equal(cache_map_find_memberships(m2, "carol_example_com", &gl), 0);
        assert_int_equal(gl.n_gids, 1);
        assert_int_equal(gid_list_record_get(&gl, 0), 1000045);
        assert_int_equal(cache_map_find_group_by_gid(m2, 1000045, &gr), 0);
        assert_true(span_eq(gr.name, "oslogin-users"));
}

static void test_empty(void **state)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL;
        _cleanup_free_ void *data = NULL;
        struct passwd_record pw;
        struct gid_list_record gl;
        uint32_t cursor = 0;
        size_t size;

        (void)state;
        assert_int_equal(cache_writer_new(&w), 0);
        assert_int_equal(cache_writer_build(w, &data, &size), 0);
        assert_int_equal(cache_map_from_memory(data, size, &m), 0);
        assert_int_equal(cache_map_find_user_by_name(m, "alice", &pw), -ENOENT);
        assert_int_equal(cache_map_find_user_by_uid(m, 1000001, &pw), -ENOENT);
        assert_int_equal(cache_map_find_memberships(m, "alice", &gl), -ENOENT);
        assert_int_equal(cache_map_next_user(m, &cursor, &pw), -ENOENT);
}

static void test_commit_and_open(void **state)
{
        _cleanup_cache_writer_ struct cache_writer *w = small_writer();
        _cleanup_cache_map_ struct cache_map *m = NULL;
        char dir[] = "/tmp/test-cache.XXXXXX", path[64];
        _cleanup_close_ int dir_fd = -EBADF;
        struct passwd_record pw;

        (void)state;
        assert_non_null(mkdtemp(dir));
        dir_fd = open(dir, O_DIRECTORY | O_CLOEXEC);
        assert_true(dir_fd >= 0);
        assert_int_equal(cache_writer_commit(w, dir_fd, "directory.cache"), 0);
        snprintf(path, sizeof(path), "%s/directory.cache", dir);
        assert_int_equal(cache_map_open(path, 0, &m), 0);
        assert_int_equal(cache_map_find_user_by_name(m, "alice_example_com", &pw), 0);
        struct cache_map *refused = NULL;
        if (geteuid() == 0) {
                assert_int_equal(cache_map_open(path, CACHE_MAP_REQUIRE_ROOT_OWNED, &refused), 0);
                refused = cache_map_unref(refused);
        }
        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(cache_map_open(path, CACHE_MAP_REQUIRE_ROOT_OWNED, &refused), -EPERM);
        assert_null(refused);
        snprintf(path, sizeof(path), "%s/missing", dir);
        assert_int_equal(cache_map_open(path, 0, &refused), -ENOENT);
        unlinkat(dir_fd, "directory.cache", 0);
        rmdir(dir);
}

static void test_checksum_streamed(void **state)
{
        uint8_t data[1000];

        (void)state;
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t)(i * 131 + 7);
        for (size_t size = 0; size <= sizeof(data); size += 37) {
                uint64_t whole = cache_checksum(data, size);
                for (size_t chunk = 32; chunk <= 256; chunk *= 2) {
                        struct cache_checksum c;
                        size_t done = 0;
                        cache_checksum_init(&c);
                        for (; size - done >= chunk; done += chunk)
                                cache_checksum_update(&c, data + done, chunk);
                        size_t blocks = (size - done) - (size - done) % 32;
                        cache_checksum_update(&c, data + done, blocks);
                        assert_true(cache_checksum_final(&c, data + done + blocks, size - done - blocks) ==
                                    whole);
                }
                /* One changed byte always shows. */
                if (size > 0) {
                        data[size / 2] ^= 1;
                        assert_false(cache_checksum(data, size) == whole);
                        data[size / 2] ^= 1;
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_enumeration_order),
                cmocka_unit_test(test_deterministic),
                cmocka_unit_test(test_invalid_and_duplicates),
                cmocka_unit_test(test_import),
                cmocka_unit_test(test_users_group),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_commit_and_open),
                cmocka_unit_test(test_checksum_streamed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
