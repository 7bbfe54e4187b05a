/* SPDX-License-Identifier: Apache-2.0 */
/* accountsd/directory-local.c: what a directory entry that clashes with the
 * host's own accounts becomes in the cache writer and in answers. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/directory-local.h"
#include "basic/atomic-file.h"

static char root[] = "/tmp/test-directory-local.XXXXXX";
static struct local_db *db;

static void put(const char *name, const char *content)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/etc", root);
        int fd = open(path, O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_file_atomic(fd, name, content, strlen(content), 0644, -1, -1), 0);
        close(fd);
}

static int setup(void **state)
{
        char path[128];
        (void)state;
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/etc", root);
        assert_int_equal(mkdir(path, 0755), 0);
        put("passwd", "root:x:0:0::/root:/bin/sh\ndeploy:x:1500:1500::/home/deploy:/bin/sh\n"
                      "svc:x:2000001500:2000001500::/:/bin/sh\n");
        put("group", "root:x:0:\nsudo:x:27:\nbuilders:x:2000100007:\n");
        assert_int_equal(local_db_load(root, &db), 0);
        return 0;
}

static int teardown(void **state)
{
        char path[128];
        (void)state;
        local_db_free(db);
        snprintf(path, sizeof(path), "%s/etc/passwd", root);
        unlink(path);
        snprintf(path, sizeof(path), "%s/etc/group", root);
        unlink(path);
        snprintf(path, sizeof(path), "%s/etc", root);
        rmdir(path);
        rmdir(root);
        return 0;
}

static void test_clash(void **state)
{
        (void)state;
        assert_string_equal(
                directory_local_user_clash(db, "deploy", 2000001200), "a local user has that name");
        assert_string_equal(
                directory_local_user_clash(db, "mallory", 2000001500), "a local user has that UID");
        assert_null(directory_local_user_clash(db, "alice", 2000001001));
        /* A user is not refused for a group's name, nor a group for a user's. */
        assert_null(directory_local_user_clash(db, "sudo", 2000001002));
        assert_string_equal(
                directory_local_group_clash(db, "sudo", 2000100005), "a local group has that name");
        assert_string_equal(directory_local_group_clash(db, "ci", 2000100007), "a local group has that GID");
        assert_string_equal(directory_local_group_clash(db, "wheel2", 27), "a local group has that GID");
        assert_null(directory_local_group_clash(db, "deploy", 2000001200));
        assert_null(directory_local_group_clash(db, "eng", 2000100001));
}

static void test_writer_filter(void **state)
{
        _cleanup_cache_writer_ struct cache_writer *w = NULL, *w2 = NULL;
        struct directory_local_filter f = {.db = db}, f2 = {.db = db};
        _cleanup_free_ void *image = NULL, *image2 = NULL;
        size_t size, size2;
        struct cache_map *map = NULL;
        struct gid_list_record gl;
        struct group_record gr;

        (void)state;
        assert_int_equal(cache_writer_new(&w), 0);
        cache_writer_set_filter(w, directory_local_writer_filter, &f);
        assert_int_equal(
                cache_writer_add_user(w, "deploy", 2000001200, 2000001200, "", "/home/d", "/bin/sh"),
                -EPERM);
        assert_int_equal(
                cache_writer_add_user(w, "mallory", 2000001500, 2000001500, "", "/home/m", "/bin/sh"),
                -EPERM);
        assert_int_equal(
                cache_writer_add_user(w, "alice", 2000001001, 2000001001, "", "/home/a", "/bin/sh"), 0);
        /* A duplicate is EEXIST, before the filter: not counted as local. */
        assert_int_equal(cache_writer_add_user(w, "alice", 2000001009, 2000001009, "", "/home/a", "/bin/sh"),
                -EEXIST);
        const char *const members[] = {"alice", NULL};
        assert_int_equal(cache_writer_add_group(w, "sudo", 2000100005, members), -EPERM);
        assert_int_equal(cache_writer_add_group(w, "ci", 2000100007, members), -EPERM);
        assert_int_equal(cache_writer_add_group(w, "eng", 2000100001, members), 0);
        assert_int_equal(f.left_out.n, 4);
        assert_string_equal(f.left_out.items[0].name, "deploy");
        assert_int_equal(f.left_out.items[0].kind, LEFT_OUT_USER);
        assert_int_equal(f.left_out.items[1].id, 2000001500);
        assert_string_equal(f.left_out.items[1].why, "a local user has that UID");
        assert_string_equal(f.left_out.items[3].name, "ci");
        assert_int_equal(f.left_out.items[3].kind, LEFT_OUT_GROUP);
        /* A local user's name leaves every member list (noted once), the group stays. */
        const char *const with_local[] = {"deploy", "alice", NULL};
        assert_int_equal(cache_writer_add_group(w, "ops", 2000100002, with_local), 0);
        assert_int_equal(cache_writer_add_group(w, "qa", 2000100003, with_local), 0);
        assert_int_equal(f.left_out.n, 5);
        assert_int_equal(f.left_out.items[4].kind, LEFT_OUT_MEMBER);
        assert_string_equal(f.left_out.items[4].name, "deploy");
        assert_int_equal(left_out_list_entries(&f.left_out), 4);

        /* alice's gid-list holds eng, ops and qa, never sudo or ci; the local deploy is in no group. */
        assert_int_equal(cache_writer_build(w, &image, &size), 0);
        assert_int_equal(cache_map_from_memory(image, size, &map), 0);
        assert_int_equal(cache_map_find_memberships(map, "alice", &gl), 0);
        assert_int_equal(gl.n_gids, 3);
        assert_int_equal(gid_list_record_get(&gl, 0), 2000100001);
        assert_int_equal(cache_map_find_group_by_gid(map, 2000100005, &gr), -ENOENT);
        assert_int_equal(cache_map_find_memberships(map, "deploy", &gl), -ENOENT);
        assert_int_equal(cache_map_find_group_by_name(map, "ops", &gr), 0);
        assert_int_equal(gr.n_members, 1);
        map = cache_map_unref(map);

        /* An older file written without the check: the import leaves the clashes out. */
        _cleanup_cache_writer_ struct cache_writer *old = NULL;
        _cleanup_free_ void *old_image = NULL;
        size_t old_size;
        assert_int_equal(cache_writer_new(&old), 0);
        assert_int_equal(
                cache_writer_add_user(old, "deploy", 2000001200, 2000001200, "", "/home/d", "/bin/sh"), 0);
        assert_int_equal(
                cache_writer_add_user(old, "bob", 2000001002, 2000001002, "", "/home/b", "/bin/sh"), 0);
        assert_int_equal(cache_writer_add_group(old, "sudo", 2000100005, members), 0);
        assert_int_equal(cache_writer_build(old, &old_image, &old_size), 0);
        assert_int_equal(cache_map_from_memory(old_image, old_size, &map), 0);
        assert_int_equal(cache_writer_new(&w2), 0);
        cache_writer_set_filter(w2, directory_local_writer_filter, &f2);
        assert_int_equal(cache_writer_import(w2, map), 0);
        map = cache_map_unref(map);
        assert_int_equal(f2.left_out.n, 2);
        assert_int_equal(cache_writer_build(w2, &image2, &size2), 0);
        assert_int_equal(cache_map_from_memory(image2, size2, &map), 0);
        assert_int_equal(cache_map_header(map)->n_users, 1);
        assert_int_equal(cache_map_header(map)->n_groups, 0);
        map = cache_map_unref(map);

        /* Reported once: a second report of the same names logs nothing new. */
        struct strmap reported = {};
        directory_local_report(&reported, &f.left_out);
        assert_int_equal(reported.used, 5);
        directory_local_report(&reported, &f2.left_out); /* deploy and sudo again: nothing new */
        assert_int_equal(reported.used, 5);
        left_out_list_done(&f2.left_out);
        f2 = (struct directory_local_filter){.db = db};
        assert_int_equal(directory_local_writer_filter(&f2, CACHE_WRITER_GROUP, "wheel2", 27), -EPERM);
        assert_int_equal(directory_local_writer_filter(&f2, CACHE_WRITER_USER, "sudo", 2000001002), 0);
        directory_local_report(&reported, &f2.left_out);
        assert_int_equal(reported.used, 6);
        strmap_done(&reported);
        left_out_list_done(&f.left_out);
        left_out_list_done(&f2.left_out);
        assert_int_equal(f.left_out.n, 0);
}

static void test_check_reply(void **state)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        _cleanup_cache_writer_ struct cache_writer *w = NULL;
        _cleanup_free_ void *image = NULL;
        struct cache_map *map = NULL;
        struct nss_proto_request q = {.type = NSS_PROTO_GETPWUID, .id = 2000001200};
        struct nss_proto_reply rep;
        size_t size;
        const char *const members[] = {"alice", NULL};

        (void)state;
        assert_int_equal(
                nss_proto_reply_passwd(&b, 2000001200, 2000001200, "deploy", "", "/home/d", "/bin/sh"), 0);
        assert_int_equal(directory_local_check_reply(db, NULL, &q, &b), 1);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_NOTFOUND);
        /* A NOTFOUND stands. */
        assert_int_equal(directory_local_check_reply(db, NULL, &q, &b), 0);

        q = (struct nss_proto_request){.type = NSS_PROTO_GETGRNAM, .name = "sudo"};
        b.size = 0;
        assert_int_equal(nss_proto_reply_group(&b, 2000100005, "sudo", members), 0);
        assert_int_equal(directory_local_check_reply(db, NULL, &q, &b), 1);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_NOTFOUND);

        q = (struct nss_proto_request){.type = NSS_PROTO_GETGRNAM, .name = "eng"};
        b.size = 0;
        assert_int_equal(nss_proto_reply_group(&b, 2000100001, "eng", members), 0);
        assert_int_equal(directory_local_check_reply(db, NULL, &q, &b), 0);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_FOUND);

        /* A gid list: 2000100007 is a local GID, 2000100005 a group the map names sudo. */
        assert_int_equal(cache_writer_new(&w), 0);
        assert_int_equal(cache_writer_add_group(w, "sudo", 2000100005, members), 0);
        assert_int_equal(cache_writer_build(w, &image, &size), 0);
        assert_int_equal(cache_map_from_memory(image, size, &map), 0);
        q = (struct nss_proto_request){.type = NSS_PROTO_INITGROUPS, .name = "alice"};
        b.size = 0;
        const uint32_t gids[] = {2000100001, 2000100007, 2000100005};
        assert_int_equal(nss_proto_reply_gid_list(&b, "alice", gids, 3), 0);
        assert_int_equal(directory_local_check_reply(db, map, &q, &b), 1);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_FOUND);
        assert_int_equal(rep.gid_list.n_gids, 1);
        assert_int_equal(gid_list_record_get(&rep.gid_list, 0), 2000100001);
        /* Nothing to drop: unchanged. */
        assert_int_equal(directory_local_check_reply(db, map, &q, &b), 0);
        /* The memberships of a local user's name are not answered. */
        q = (struct nss_proto_request){.type = NSS_PROTO_INITGROUPS, .name = "deploy"};
        b.size = 0;
        assert_int_equal(nss_proto_reply_gid_list(&b, "deploy", gids, 1), 0);
        assert_int_equal(directory_local_check_reply(db, map, &q, &b), 1);
        assert_int_equal(nss_proto_reply_decode(&q, b.data, b.size, &rep), 0);
        assert_int_equal(rep.status, NSS_PROTO_NOTFOUND);
        cache_map_unref(map);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clash),
                cmocka_unit_test(test_writer_filter),
                cmocka_unit_test(test_check_reply),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
