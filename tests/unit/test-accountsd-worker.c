/* SPDX-License-Identifier: Apache-2.0 */
/* The worker pool: jobs come back to the loop's thread, and stopping the
 * pool interrupts a metadata call in progress, joins every thread and
 * drops the jobs never finished.
 *
 * No cmocka assertion runs in a worker or helper thread (a failing one
 * longjmps out of the wrong stack): those threads record what they saw,
 * and the main thread asserts after joining them. */
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accountsd/worker.h"
#include "basic/time-util.h"

#define N_JOBS 200

static pthread_t main_thread;

struct counting_job {
        struct job job;
        pthread_t ran_in;
        int *done_count;
        sd_event *event;
};

/* run() is called in worker threads and done() should be in the loop's:
 * neither asserts (see unit.h); the test asserts these after the loop. */
static struct thread_check job_checks;

static void counting_run(struct job *j, struct mds_client *client)
{
        struct counting_job *c = (struct counting_job *)j;
        (void)thread_check(&job_checks, client != NULL); /* every worker has its own client */
        c->ran_in = pthread_self();
}

static void counting_done(struct job *j)
{
        struct counting_job *c = (struct counting_job *)j;
        /* done() always runs in the loop's thread, run() never does. */
        (void)thread_check(&job_checks, pthread_equal(pthread_self(), main_thread));
        if (c->job.run)
                (void)thread_check(&job_checks, !pthread_equal(c->ran_in, main_thread));
        if (__atomic_add_fetch(c->done_count, 1, __ATOMIC_SEQ_CST) == N_JOBS + 1)
                sd_event_exit(c->event, 0);
        free(c);
}

static void counting_drop(struct job *j)
{
        free(j);
}

struct poster {
        struct worker_pool *pool;
        struct counting_job *job; /* allocated by the main thread */
};

static void *post_from_thread(void *userdata)
{
        struct poster *p = userdata;
        worker_pool_post(p->pool, &p->job->job);
        return NULL;
}

static void test_jobs_come_back_to_the_loop(void **state)
{
        struct oslogin_config config;
        struct worker_pool *pool = NULL;
        sd_event *event = NULL;
        int done_count = 0;
        pthread_t t;

        (void)state;
        main_thread = pthread_self();
        assert_int_equal(config_defaults(&config), 0);
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(worker_pool_new(event, &config, 3, &pool), 0);
        for (int i = 0; i < N_JOBS; i++) {
                struct counting_job *c = calloc(1, sizeof(*c));
                assert_non_null(c);
                *c = (struct counting_job){
                        .job = {.run = counting_run, .done = counting_done, .drop = counting_drop},
                        .done_count = &done_count,
                        .event = event};
                worker_pool_submit(pool, &c->job);
        }
        struct counting_job *posted = calloc(1, sizeof(*posted));
        assert_non_null(posted);
        *posted = (struct counting_job){.job = {.done = counting_done, .drop = counting_drop},
                .done_count = &done_count,
                .event = event};
        struct poster p = {.pool = pool, .job = posted};
        assert_int_equal(pthread_create(&t, NULL, post_from_thread, &p), 0);
        assert_int_equal(sd_event_loop(event), 0);
        pthread_join(t, NULL);
        assert_thread_checks(&job_checks);
        assert_int_equal(done_count, N_JOBS + 1);
        assert_int_equal(worker_pool_queued(pool), 0);
        assert_int_equal(worker_pool_reconfigure(pool, &config), 0);
        /* Idle threads are joined at once and the pool is freed (ASan/valgrind check that). */
        worker_pool_free(pool);
        sd_event_unref(event);
        config_free(&config);
}

/* A metadata server that takes the request and never answers. */
static struct {
        int listen_fd;
        int got_request[2]; /* written once the request is read */
        int quit[2];
        uint16_t port;
        pthread_t thread;
} silent;

static void *silent_main(void *arg)
{
        char buf[4096];
        size_t len = 0;
        bool told = false;
        int fd;
        (void)arg;

        fd = accept4(silent.listen_fd, NULL, NULL, SOCK_CLOEXEC);
        for (;;) {
                struct pollfd p[2] = {
                        {.fd = silent.quit[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
                if (poll(p, fd >= 0 ? 2 : 1, -1) < 0)
                        continue;
                if (p[0].revents)
                        break;
                ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
                if (n <= 0) { /* the client gave up: wait for quit */
                        close(fd);
                        fd = -1;
                        continue;
                }
                len += (size_t)n;
                buf[len] = '\0';
                if (!told && strstr(buf, "\r\n\r\n")) {
                        told = true;
                        (void)!write(silent.got_request[1], "x", 1);
                }
                if (len == sizeof(buf) - 1)
                        len = 0;
        }
        if (fd >= 0)
                close(fd);
        return NULL;
}

static void silent_start(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);

        assert_int_equal(pipe2(silent.got_request, O_CLOEXEC), 0);
        assert_int_equal(pipe2(silent.quit, O_CLOEXEC), 0);
        silent.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(silent.listen_fd >= 0);
        assert_int_equal(bind(silent.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(silent.listen_fd, 4), 0);
        assert_int_equal(getsockname(silent.listen_fd, (struct sockaddr *)&a, &len), 0);
        silent.port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&silent.thread, NULL, silent_main, NULL), 0);
}

static void silent_stop(void)
{
        assert_int_equal(write(silent.quit[1], "x", 1), 1);
        pthread_join(silent.thread, NULL);
        close(silent.listen_fd);
        close(silent.got_request[0]);
        close(silent.got_request[1]);
        close(silent.quit[0]);
        close(silent.quit[1]);
}

/* What a job saw, written by its worker thread (or by done()/drop() in the
 * main thread), read by the test after worker_pool_stop() joined them. */
struct seen {
        bool ran, done, dropped;
        int result;
        uint64_t returned_usec; /* when the metadata call returned */
};

struct slow_job {
        struct job job;
        struct seen *seen;
};

static void slow_run(struct job *j, struct mds_client *client)
{
        struct slow_job *s = (struct slow_job *)j;
        struct mds_response r = {};

        s->seen->ran = true;
        s->seen->result = mds_get(client, "instance/attributes/slow", &r);
        s->seen->returned_usec = now_monotonic_usec();
        mds_response_done(&r);
}

static void slow_done(struct job *j)
{
        struct slow_job *s = (struct slow_job *)j;
        s->seen->done = true;
        free(s);
}

static void slow_drop(struct job *j)
{
        struct slow_job *s = (struct slow_job *)j;
        s->seen->dropped = true;
        free(s);
}

static void submit_slow(struct worker_pool *pool, struct seen *seen)
{
        struct slow_job *s = calloc(1, sizeof(*s));
        assert_non_null(s);
        *s = (struct slow_job){.job = {.run = slow_run, .done = slow_done, .drop = slow_drop}, .seen = seen};
        worker_pool_submit(pool, &s->job);
}

/* One worker blocked in a call the server never answers (its deadline 60 s
 * away), a second job queued behind it: stopping returns at once, the call
 * returned -ECANCELED, neither done() ran, and freeing the pool drops both. */
static void test_stop_interrupts_a_slow_call(void **state)
{
        struct oslogin_config config;
        struct worker_pool *pool = NULL;
        sd_event *event = NULL;
        struct seen blocked = {}, queued = {};
        char url[64], x;

        (void)state;
        silent_start();
        unsetenv("GCE_METADATA_HOST");
        assert_int_equal(config_defaults(&config), 0);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/computeMetadata/v1/", silent.port);
        free(config.url);
        free(config.state_directory);
        config.url = strdup(url);
        config.state_directory = strdup("/nonexistent/test-accountsd-worker"); /* no HTTPS pin */
        config.transport = MDS_TRANSPORT_HTTP;
        config.timeout_usec = 60 * 1000000ull;
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(worker_pool_new(event, &config, 1, &pool), 0);
        submit_slow(pool, &blocked);
        submit_slow(pool, &queued);

        /* The request has reached the server: the worker is waiting for the answer. */
        struct pollfd p = {.fd = silent.got_request[0], .events = POLLIN};
        assert_int_equal(poll(&p, 1, 10000), 1);
        assert_int_equal(read(silent.got_request[0], &x, 1), 1);
        uint64_t t0 = now_monotonic_usec();
        worker_pool_stop(pool);
        uint64_t took = now_monotonic_usec() - t0;
        print_message("# worker_pool_stop() with a call in flight: %.1f ms\n", took / 1000.0);

        /* Joined: what the worker wrote is visible here. */
        assert_true(blocked.ran);
        assert_int_equal(blocked.result, -ECANCELED);
        assert_true(blocked.returned_usec >= t0);
        assert_false(queued.ran);
        assert_true(took < wall_bound(1000000)); /* not the call's 60 s */
        /* The loop delivers no done() after the stop. */
        assert_true(sd_event_run(event, 0) >= 0);
        assert_false(blocked.done);
        assert_false(queued.done);
        assert_false(blocked.dropped || queued.dropped);
        worker_pool_free(pool);
        assert_true(blocked.dropped);
        assert_true(queued.dropped);
        assert_false(blocked.done || queued.done);

        sd_event_unref(event);
        config_free(&config);
        silent_stop();
}

/* A pool stopped twice, then freed: one join each, no second stop effect. */
static void test_stop_twice(void **state)
{
        struct oslogin_config config;
        struct worker_pool *pool = NULL;
        sd_event *event = NULL;

        (void)state;
        assert_int_equal(config_defaults(&config), 0);
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(worker_pool_new(event, &config, 2, &pool), 0);
        worker_pool_stop(pool);
        worker_pool_stop(pool);
        worker_pool_free(pool);
        worker_pool_free(NULL);
        sd_event_unref(event);
        config_free(&config);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jobs_come_back_to_the_loop),
                cmocka_unit_test(test_stop_interrupts_a_slow_call),
                cmocka_unit_test(test_stop_twice),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
