/* SPDX-License-Identifier: Apache-2.0 */
/* accountsd/users-group.c: the synthetic group of every OS Login user,
 * refused when the host has its name or GID, answered by name and GID,
 * and added to an initgroups answer once. */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/users-group.h"
#include "basic/cache-writer.h"
#include "basic/local-db.h"

static char root[] = "/tmp/test-users-group.XXXXXX";
static struct local_db *db;

static void put(const char *name, const char *content)
{
        char path[128];
        FILE *f;
        snprintf(path, sizeof(path), "%s/etc/%s", root, name);
        assert_non_null(f = fopen(path, "we"));
        fputs(content, f);
        fclose(f);
}

static int setup(void **state)
{
        char path[128];
        (void)state;
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/etc", root);
        assert_int_equal(mkdir(path, 0755), 0);
        put("passwd", "root:x:0:0::/root:/bin/sh\n");
        put("group", "root:x:0:\nstaff:x:50:\nbig:x:3000000:\n");
        assert_int_equal(local_db_load(root, &db), 0);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        (void)state;
        local_db_free(db);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void test_check(void **state)
{
        (void)state;
        assert_int_equal(users_group_check(db, "oslogin-users", 4294000000u, 1000), 0);
        assert_int_equal(users_group_check(db, "staff", 4294000000u, 1000), -EEXIST);
        assert_int_equal(users_group_check(db, "oslogin-users", 3000000, 1000), -EEXIST);
        assert_int_equal(users_group_check(db, "oslogin-users", 500, 1000), -EINVAL);
        assert_int_equal(users_group_check(db, "oslogin-users", 65534, 1000), -EINVAL);
        assert_int_equal(users_group_check(db, "bad:name", 4294000000u, 1000), -EINVAL);
        assert_int_equal(users_group_check(NULL, "oslogin-users", 4294000000u, 1000), -EEXIST);
}

static void test_reply(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        struct nss_proto_request q;
        struct nss_proto_reply rep;

        (void)state;
        assert_int_equal(nss_proto_request_by_id(NSS_PROTO_GETGRGID, 4294000000u, &q), 0);
        assert_int_equal(users_group_reply("oslogin-users", 4294000000u, &q, &b), 1);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_FOUND);
        assert_true(span_eq(rep.group.name, "oslogin-users"));
        assert_int_equal(rep.group.n_members, 0);
        b.size = 0;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETGRNAM, "oslogin-users", &q), 0);
        assert_int_equal(users_group_reply("oslogin-users", 4294000000u, &q, &b), 1);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.group.gid, 4294000000u);
        /* Anything else is not its question. */
        b.size = 0;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETGRNAM, "eng", &q), 0);
        assert_int_equal(users_group_reply("oslogin-users", 4294000000u, &q, &b), 0);
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "oslogin-users", &q), 0);
        assert_int_equal(users_group_reply("oslogin-users", 4294000000u, &q, &b), 0);
        assert_int_equal(b.size, 0);
}

static void test_extend(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        const uint32_t gids[] = {2000100001, 2000100002};
        struct nss_proto_request q;
        struct nss_proto_reply rep;

        (void)state;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_INITGROUPS, "alice_example_com", &q), 0);
        assert_int_equal(nss_proto_reply_gid_list(&b, "alice_example_com", gids, 2), 0);
        assert_int_equal(users_group_extend_reply(&q, &b, 4294000000u), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.gid_list.n_gids, 3);
        assert_int_equal(gid_list_record_get(&rep.gid_list, 0), 2000100001);
        assert_int_equal(gid_list_record_get(&rep.gid_list, 2), 4294000000u);
        /* Once. */
        assert_int_equal(users_group_extend_reply(&q, &b, 4294000000u), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.gid_list.n_gids, 3);
        /* An empty list gets it too; NOTFOUND stays NOTFOUND. */
        b.size = 0;
        assert_int_equal(nss_proto_reply_gid_list(&b, "alice_example_com", NULL, 0), 0);
        assert_int_equal(users_group_extend_reply(&q, &b, 4294000000u), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.gid_list.n_gids, 1);
        b.size = 0;
        assert_int_equal(nss_proto_reply_status(&b, NSS_PROTO_NOTFOUND), 0);
        assert_int_equal(users_group_extend_reply(&q, &b, 4294000000u), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_NOTFOUND);
        /* Not an initgroups question: untouched; garbage: refused. */
        size_t size = b.size;
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "alice_example_com", &q), 0);
        assert_int_equal(users_group_extend_reply(&q, &b, 4294000000u), 0);
        assert_int_equal(b.size, size);
        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_INITGROUPS, "alice_example_com", &q), 0);
        b.size = 3;
        assert_int_equal(users_group_extend_reply(&q, &b, 4294000000u), -EBADMSG);
}

static void test_add(void **state)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        _cleanup_free_ void *data = NULL;
        _cleanup_cache_map_ struct cache_map *m = NULL;
        struct gid_list_record gl;
        size_t size;
        int refused = 1;

        (void)state;
        assert_int_equal(cache_writer_new(&w), 0);
        assert_int_equal(cache_writer_add_user(
                                 w, "alice_example_com", 2000001001, 2000001001, "", "/home/a", "/bin/sh"),
                0);
        assert_int_equal(users_group_add(w, db, "staff", 4294000000u, 1000, &refused), 0);
        assert_int_equal(refused, -EEXIST);
        assert_int_equal(users_group_add(w, db, "oslogin-users", 4294000000u, 1000, &refused), 0);
        assert_int_equal(refused, 0);
        assert_int_equal(cache_writer_build(w, &data, &size), 0);
        assert_int_equal(cache_map_from_memory(data, size, &m), 0);
        assert_int_equal(cache_map_find_memberships(m, "alice_example_com", &gl), 0);
        assert_int_equal(gl.n_gids, 1);
        assert_int_equal(gid_list_record_get(&gl, 0), 4294000000u);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_reply),
                cmocka_unit_test(test_extend),
                cmocka_unit_test(test_add),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
