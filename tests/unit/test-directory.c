/* SPDX-License-Identifier: Apache-2.0 */
/* accountsd/directory.c without the daemon: a context (accountsd/context.h),
 * a worker pool, the fake metadata server (fake-mds.h) and callbacks that
 * record what the directory reports. The workers only fetch and write; every assertion runs in this
 * thread, where the loop delivers build_finished and the lookup replies. */
#include "tests/unit/unit.h"

#include "tests/unit/fake-mds.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/context.h"
#include "accountsd/directory.h"
#include "accountsd/worker.h"
#include "basic/cache-format.h"
#include "basic/cache-reader.h"
#include "basic/nss-proto.h"
#include "basic/time-util.h"

/* A safety net for a hung test, not a performance bound: none under
 * valgrind (wall_bound(), unit.h). */
#define WAIT_USEC wall_bound(60ull * 1000000u)

static const char fixture[] =
        "{\"instance\": {\"id\": 1, \"hostname\": \"vm-1\", \"attributes\": {\"enable-oslogin\": "
        "\"TRUE\"}},\n"
        " \"project\": {\"projectId\": \"p\", \"numericProjectId\": 1, \"attributes\": {}},\n"
        " \"oslogin\": {\"users\": [\n"
        "  {\"name\": \"alice@example.com\", \"login\": true, \"adminLogin\": false, \"posixAccounts\": "
        "[{\"primary\": "
        "true, \"username\": \"alice_example_com\", \"uid\": \"2000001001\", \"gid\": \"2000001001\", "
        "\"homeDirectory\": \"/home/alice_example_com\", \"shell\": \"/bin/bash\", \"gecos\": \"Alice\", "
        "\"operatingSystemType\": \"LINUX\"}]},\n"
        "  {\"name\": \"bob@example.com\", \"login\": true, \"adminLogin\": false, \"posixAccounts\": "
        "[{\"primary\": "
        "true, \"username\": \"bob_example_com\", \"uid\": \"2000001002\", \"gid\": \"2000001002\", "
        "\"homeDirectory\": \"/home/bob_example_com\", \"shell\": \"/bin/bash\", \"gecos\": \"Bob\", "
        "\"operatingSystemType\": \"LINUX\"}]}],\n"
        "  \"groups\": [{\"name\": \"eng\", \"gid\": \"2000100001\", \"members\": "
        "[\"alice_example_com\"]}],\n"
        "  \"certificates\": []}}\n";

static struct {
        char root[64];
        char runtime_dir[96];
        struct fake_mds fake;
        struct daemon_context ctx;
        /* What build_finished reported; written and read in this thread only. */
        unsigned builds;
        int last_result;
} t = {.root = "/tmp/test-directory.XXXXXX", .fake = {.pid = -1}};

static void on_build_finished(int r, void *userdata)
{
        assert_ptr_equal(userdata, &t);
        t.builds++;
        t.last_result = r;
}

static const struct directory_callbacks callbacks = {.build_finished = on_build_finished};

static void write_file(const char *dir, const char *name, const char *content)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
        char path[PATH_MAX];
        struct oslogin_config *c = &t.ctx.config;

        (void)state;
        if (!mkdtemp(t.root))
                return -1;
        snprintf(path, sizeof(path), "%s/etc", t.root);
        snprintf(t.runtime_dir, sizeof(t.runtime_dir), "%s/run", t.root);
        if (mkdir(path, 0755) < 0 || mkdir(t.runtime_dir, 0755) < 0)
                return -1;
        /* The host's own accounts: nothing the fixture names. */
        write_file(path, "passwd", "root:x:0:0:root:/root:/bin/sh\n");
        write_file(path, "group", "root:x:0:\n");
        if (fake_mds_start(t.root, fixture, &t.fake) < 0)
                return -1;
        if (config_defaults(c) < 0 || fake_mds_configure(&t.fake, t.root, c) < 0)
                return -1;
        c->timeout_usec = 3000000;
        t.ctx.root = t.root;
        t.ctx.runtime_dir = t.runtime_dir;
        t.ctx.runtime_dir_fd = open(t.runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t.ctx.runtime_dir_fd < 0 || sd_event_new(&t.ctx.event) < 0 ||
                worker_pool_new(t.ctx.event, c, 2, &t.ctx.pool) < 0)
                return -1;
        return 0;
}

static int group_teardown(void **state)
{
        char cmd[128];

        (void)state;
        /* Stops and joins the workers, then drops what never finished. */
        worker_pool_free(t.ctx.pool);
        sd_event_unref(t.ctx.event);
        if (t.ctx.runtime_dir_fd >= 0)
                close(t.ctx.runtime_dir_fd);
        config_free(&t.ctx.config);
        fake_mds_stop(&t.fake);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t.root);
        return system(cmd) == 0 ? 0 : -1;
}

static uint64_t deadline(void)
{
        uint64_t bound = WAIT_USEC;
        return bound == UINT64_MAX ? UINT64_MAX : now_monotonic_usec() + bound;
}

/* Runs the loop until build_finished has been called WANT times in all. */
static void run_until_builds(unsigned want)
{
        uint64_t end = deadline();
        while (t.builds < want && now_monotonic_usec() < end)
                assert_true(sd_event_run(t.ctx.event, 100000) >= 0);
        assert_int_equal(t.builds, want);
}

/* Runs the loop for USEC whatever happens. */
static void run_for(uint64_t usec)
{
        uint64_t end = now_monotonic_usec() + usec;
        while (now_monotonic_usec() < end)
                assert_true(sd_event_run(t.ctx.event, 50000) >= 0);
}

struct lookup {
        struct nss_proto_request q;
        int calls;
        enum nss_proto_status status;
        uint32_t uid;
};

static void on_reply(void *userdata, const uint8_t *msg, size_t size)
{
        struct lookup *l = userdata;
        struct nss_proto_reply reply;

        l->calls++;
        assert_non_null(msg);
        assert_int_equal(nss_proto_reply_decode(&l->q, msg, size, &reply), 0);
        l->status = reply.status;
        if (reply.status == NSS_PROTO_FOUND)
                l->uid = reply.passwd.uid;
}

/* getpwnam(NAME) as the NSS socket asks it. */
static struct lookup lookup_user(struct directory *d, const char *name)
{
        struct lookup l = {};
        struct directory_waiter *w = NULL;

        assert_int_equal(nss_proto_request_by_name(NSS_PROTO_GETPWNAM, name, &l.q), 0);
        int r = directory_lookup(d, &l.q, on_reply, &l, &w);
        assert_true(r >= 0);
        uint64_t end = deadline();
        while (l.calls == 0 && now_monotonic_usec() < end)
                assert_true(sd_event_run(t.ctx.event, 100000) >= 0);
        assert_int_equal(l.calls, 1);
        return l;
}

static bool cache_exists(struct stat *ret)
{
        struct stat st;
        if (fstatat(t.ctx.runtime_dir_fd, CACHE_FILE_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                assert_int_equal(errno, ENOENT);
                return false;
        }
        if (ret)
                *ret = st;
        return true;
}

static uint64_t cache_generation(uint32_t *ret_users)
{
        char path[PATH_MAX];
        struct cache_map *map = NULL;

        snprintf(path, sizeof(path), "%s/%s", t.runtime_dir, CACHE_FILE_NAME);
        assert_int_equal(cache_map_open(path, 0, &map), 0);
        uint64_t generation = cache_map_header(map)->generation;
        if (ret_users)
                *ret_users = cache_map_header(map)->n_users;
        cache_map_unref(map);
        return generation;
}

static void test_disabled_builds_nothing(void **state)
{
        struct directory *d = NULL;
        unsigned before = fake_mds_requests(&t.fake);

        (void)state;
        assert_int_equal(directory_new(&t.ctx, false, &callbacks, &t, &d), 0);
        assert_false(directory_enabled(d));
        directory_refresh(d);
        run_for(300000);
        assert_int_equal(t.builds, 0);
        assert_false(cache_exists(NULL));
        /* Off, every question is "no such user", without asking anyone. */
        assert_int_equal(lookup_user(d, "alice_example_com").status, NSS_PROTO_NOTFOUND);
        assert_int_equal(fake_mds_requests(&t.fake), before);
        directory_free(d);
}

static void test_build_failure_and_disable(void **state)
{
        struct directory *d = NULL;
        struct stat built, after;
        uint32_t users = 0;

        (void)state;
        t.builds = 0;
        assert_int_equal(directory_new(&t.ctx, false, &callbacks, &t, &d), 0);

        /* Enabled: one full build, reported with 0, writes the cache file. */
        directory_set_enabled(d, true);
        run_until_builds(1);
        assert_int_equal(t.last_result, 0);
        assert_true(cache_exists(&built));
        uint64_t generation = cache_generation(&users);
        assert_int_equal(users, 2);
        struct lookup l = lookup_user(d, "alice_example_com");
        assert_int_equal(l.status, NSS_PROTO_FOUND);
        assert_int_equal(l.uid, 2000001001);

        /* A failing server: the build reports an error and the file stays as it was. */
        assert_int_equal(fake_mds_http(&t.fake, "PUT", "/_fake/faults", "{\"status\": 500}", NULL, 0), 200);
        directory_refresh(d);
        run_until_builds(2);
        assert_true(t.last_result < 0);
        assert_true(cache_exists(&after));
        assert_int_equal(after.st_ino, built.st_ino);
        assert_int_equal(cache_generation(NULL), generation);
        assert_int_equal(lookup_user(d, "bob_example_com").status, NSS_PROTO_FOUND);
        assert_int_equal(fake_mds_http(&t.fake, "DELETE", "/_fake/faults", NULL, NULL, 0), 200);

        /* Back: the next build replaces the file with a later generation. */
        directory_refresh(d);
        run_until_builds(3);
        assert_int_equal(t.last_result, 0);
        assert_true(cache_generation(NULL) > generation);

        /* Off: the file goes, questions are "no such user", no build is reported. */
        directory_set_enabled(d, false);
        assert_false(directory_enabled(d));
        assert_false(cache_exists(NULL));
        assert_int_equal(lookup_user(d, "alice_example_com").status, NSS_PROTO_NOTFOUND);
        directory_refresh(d);
        run_for(300000);
        assert_int_equal(t.builds, 3);
        directory_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_disabled_builds_nothing),
                cmocka_unit_test(test_build_failure_and_disable),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
