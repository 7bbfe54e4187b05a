/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <pthread.h>

#include "accountsd/worker.h"

#define N_JOBS 200

struct counting_job {
        struct job job;
        pthread_t ran_in;
        int *done_count;
        sd_event *event;
};

static pthread_t main_thread;
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
                *c = (struct counting_job){.job = {.run = counting_run, .done = counting_done},
                                           .done_count = &done_count, .event = event};
                worker_pool_submit(pool, &c->job);
        }
        struct counting_job *posted = calloc(1, sizeof(*posted));
        assert_non_null(posted);
        *posted = (struct counting_job){.job.done = counting_done, .done_count = &done_count, .event = event};
        struct poster p = {.pool = pool, .job = posted};
        assert_int_equal(pthread_create(&t, NULL, post_from_thread, &p), 0);
        assert_int_equal(sd_event_loop(event), 0);
        pthread_join(t, NULL);
        assert_thread_checks(&job_checks);
        assert_int_equal(done_count, N_JOBS + 1);
        assert_int_equal(worker_pool_queued(pool), 0);
        assert_int_equal(worker_pool_reconfigure(pool, &config), 0);
        /* Idle threads exit at once and the pool is freed (ASan/valgrind check that). */
        worker_pool_stop(pool, 5000000);
        sd_event_unref(event);
        config_free(&config);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jobs_come_back_to_the_loop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
