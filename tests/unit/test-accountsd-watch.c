/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "tests/unit/fake-mds.h"

#include "accountsd/context.h"
#include "accountsd/watch.h"
#include "accountsd/worker.h"
#include "basic/time-util.h"

/* The back-off must never allow a busy loop: every delay is at least half
 * its nominal value, grows with failures, and stops at the cap. */
static void test_backoff_bounds(void **state)
{
        (void)state;
        for (unsigned failures = 1; failures < 40; failures++) {
                uint64_t nominal = WATCH_BACKOFF_MIN_USEC << (failures - 1 < 16 ? failures - 1 : 16);
                if (nominal > WATCH_BACKOFF_MAX_USEC)
                        nominal = WATCH_BACKOFF_MAX_USEC;
                uint64_t lo = watch_backoff_usec(failures, 0),
                         hi = watch_backoff_usec(failures, UINT64_MAX - 1);
                assert_true(lo >= nominal / 2);
                assert_true(hi <= nominal);
                for (uint64_t rnd = 1; rnd < 1000000; rnd = rnd * 7 + 3) {
                        uint64_t d = watch_backoff_usec(failures, rnd);
                        assert_true(d >= nominal / 2 && d <= nominal);
                }
        }
}

static void test_backoff_schedule(void **state)
{
        (void)state;
        /* The first retry comes quickly; after four failures at least 2 s
         * pass between requests; the cap is 30 s. */
        assert_true(watch_backoff_usec(1, 12345) <= 500000);
        assert_true(watch_backoff_usec(5, 0) >= 2000000);
        assert_int_equal(watch_backoff_usec(100, UINT64_MAX - 1) <= WATCH_BACKOFF_MAX_USEC, 1);
        assert_true(watch_backoff_usec(100, 0) >= WATCH_BACKOFF_MAX_USEC / 2);
        /* Total requests in the first minute of an outage stay small. */
        uint64_t t = 0;
        unsigned n = 0;
        while (t < 60000000ull) {
                n++;
                t += watch_backoff_usec(n, 0); /* the shortest delays jitter allows */
        }
        assert_true(n <= 15);
}

/* The watch without the daemon: a context, a worker pool, the fake
 * metadata server and callbacks that record what the watch reports. The
 * watch's thread only fetches; the callbacks and every assertion run here,
 * in the loop's thread. */
static struct {
        char root[64];
        struct fake_mds fake;
        struct daemon_context ctx;
        unsigned documents, unreachable, reachable;
        unsigned last_failures;
        int last_error;
        bool last_oslogin; /* the last document had enable-oslogin TRUE */
} w = {.root = "/tmp/test-accountsd-watch.XXXXXX", .fake = {.pid = -1}};

static const char watch_fixture[] =
        "{\"instance\": {\"id\": 1, \"attributes\": {\"enable-oslogin\": \"FALSE\"}},\n"
        " \"project\": {\"numericProjectId\": 2, \"attributes\": {}}, \"oslogin\": {\"users\": []}}\n";

static void on_document(const char *json, size_t size, void *userdata)
{
        assert_ptr_equal(userdata, &w);
        assert_non_null(json);
        assert_true(size > 0);
        w.documents++;
        w.last_oslogin = memmem(json, size, "\"TRUE\"", 6) != NULL;
}

static void on_unreachable(int error, unsigned failures, void *userdata)
{
        assert_ptr_equal(userdata, &w);
        w.unreachable++;
        w.last_error = error;
        w.last_failures = failures;
}

static void on_reachable(void *userdata)
{
        assert_ptr_equal(userdata, &w);
        w.reachable++;
}

static const struct watch_callbacks callbacks = {
        .document = on_document,
        .unreachable = on_unreachable,
        .reachable = on_reachable,
};

/* Runs the loop until *COUNTER reaches WANT (a safety net of 60 s, none
 * under valgrind). */
static void run_until(const unsigned *counter, unsigned want)
{
        uint64_t bound = wall_bound(60ull * 1000000u);
        uint64_t end = bound == UINT64_MAX ? UINT64_MAX : now_monotonic_usec() + bound;
        while (*counter < want && now_monotonic_usec() < end)
                assert_true(sd_event_run(w.ctx.event, 100000) >= 0);
        assert_true(*counter >= want);
}

static int watch_setup(void **state)
{
        (void)state;
        if (!mkdtemp(w.root) || fake_mds_start(w.root, watch_fixture, &w.fake) < 0 ||
                config_defaults(&w.ctx.config) < 0 ||
                fake_mds_configure(&w.fake, w.root, &w.ctx.config) < 0 || sd_event_new(&w.ctx.event) < 0 ||
                worker_pool_new(w.ctx.event, &w.ctx.config, 1, &w.ctx.pool) < 0)
                return -1;
        w.ctx.root = w.root;
        w.ctx.runtime_dir_fd = -1;
        return 0;
}

static int watch_teardown(void **state)
{
        char cmd[128];

        (void)state;
        worker_pool_free(w.ctx.pool);
        sd_event_unref(w.ctx.event);
        config_free(&w.ctx.config);
        fake_mds_stop(&w.fake);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w.root);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_callbacks(void **state)
{
        struct watch *watch = NULL;

        (void)state;
        assert_int_equal(watch_start(&w.ctx, &callbacks, &w, &watch), 0);
        /* The first document, after a successful request. */
        run_until(&w.documents, 1);
        assert_int_equal(w.documents, 1);
        assert_int_equal(w.reachable, 1);
        assert_int_equal(w.unreachable, 0);
        assert_false(w.last_oslogin);

        /* A change ends the long-poll: the new document follows. */
        assert_int_equal(
                fake_mds_http(&w.fake, "PUT", "/_fake/attributes/instance/enable-oslogin", "TRUE", NULL, 0),
                200);
        run_until(&w.documents, 2);
        assert_true(w.last_oslogin);

        /* The server fails: each failed request is reported, counted. */
        assert_int_equal(fake_mds_http(&w.fake, "PUT", "/_fake/faults", "{\"status\": 503}", NULL, 0), 200);
        assert_int_equal(fake_mds_http(&w.fake, "PUT", "/_fake/attributes/instance/x", "1", NULL, 0), 200);
        run_until(&w.unreachable, 2);
        assert_true(w.last_error < 0);
        assert_int_equal(w.last_failures, w.unreachable);
        assert_false(watch_no_metadata_server(w.last_error)); /* a failing server, not none */

        /* Back, with a change made meanwhile: reachable, and the new document. */
        unsigned reachable = w.reachable, documents = w.documents;
        assert_int_equal(fake_mds_http(&w.fake, "DELETE", "/_fake/faults", NULL, NULL, 0), 200);
        assert_int_equal(fake_mds_http(&w.fake, "PUT", "/_fake/attributes/instance/y", "1", NULL, 0), 200);
        watch_kick(watch); /* cut the back-off short */
        run_until(&w.documents, documents + 1);
        assert_int_equal(w.reachable, reachable + 1);

        watch_stop(watch);
        watch_free(watch);
}

static void test_no_server(void **state)
{
        (void)state;
        assert_true(watch_no_metadata_server(-ECONNREFUSED));
        assert_true(watch_no_metadata_server(-ENETUNREACH));
        assert_false(watch_no_metadata_server(-ETIMEDOUT));
        assert_non_null(strstr(watch_no_server_status(-ECONNREFUSED), "connection refused"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_bounds),
                cmocka_unit_test(test_backoff_schedule),
                cmocka_unit_test(test_no_server),
                cmocka_unit_test_setup_teardown(test_callbacks, watch_setup, watch_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
