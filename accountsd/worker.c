/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "accountsd/worker.h"
#include "basic/log.h"

#define WORKER_THREADS_MAX 8

struct worker_pool {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        pthread_cond_t exited;
        unsigned n_running;
        struct job *queue_head, *queue_tail; /* to run */
        struct job *done_head, *done_tail;   /* to finish in the main loop */
        unsigned n_queued;
        bool stopping;
        int event_fd;
        sd_event_source *event_source;
        unsigned n_threads;
        /* clients[i] belongs to thread i; next_clients[i] replaces it at its next job. */
        struct mds_client *clients[WORKER_THREADS_MAX];
        struct mds_client *next_clients[WORKER_THREADS_MAX];
};

struct worker_arg {
        struct worker_pool *pool;
        unsigned index;
};

static void queue_append(struct job **head, struct job **tail, struct job *j)
{
        j->next = NULL;
        if (*tail)
                (*tail)->next = j;
        else
                *head = j;
        *tail = j;
}

static void signal_main_loop(struct worker_pool *p)
{
        uint64_t one = 1;
        /* Only fails when the counter would overflow: the loop is awake anyway. */
        (void)!write(p->event_fd, &one, sizeof(one));
}

static void *worker_main(void *userdata)
{
        struct worker_arg arg = *(struct worker_arg *)userdata;
        struct worker_pool *p = arg.pool;

        free(userdata);
        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (!p->queue_head && !p->stopping)
                        pthread_cond_wait(&p->wake, &p->lock);
                if (p->stopping)
                        break;
                struct job *j = p->queue_head;
                p->queue_head = j->next;
                if (!p->queue_head)
                        p->queue_tail = NULL;
                p->n_queued--;
                if (p->next_clients[arg.index]) {
                        mds_client_free(p->clients[arg.index]);
                        p->clients[arg.index] = TAKE_PTR(p->next_clients[arg.index]);
                }
                struct mds_client *client = p->clients[arg.index];
                pthread_mutex_unlock(&p->lock);

                if (j->run)
                        j->run(j, client);

                pthread_mutex_lock(&p->lock);
                queue_append(&p->done_head, &p->done_tail, j);
                signal_main_loop(p);
        }
        p->n_running--;
        pthread_cond_broadcast(&p->exited);
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

static int on_jobs_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct worker_pool *p = userdata;
        uint64_t counter;
        struct job *list;

        (void)s, (void)revents;
        (void)!read(fd, &counter, sizeof(counter));
        pthread_mutex_lock(&p->lock);
        list = p->done_head;
        p->done_head = p->done_tail = NULL;
        pthread_mutex_unlock(&p->lock);
        while (list) {
                struct job *j = list;
                list = j->next;
                j->done(j);
        }
        return 0;
}

static int make_clients(const struct oslogin_config *config, unsigned n, struct mds_client **ret)
{
        for (unsigned i = 0; i < n; i++) {
                int r = mds_client_new(config, 0, &ret[i]);
                if (r < 0) {
                        while (i > 0)
                                mds_client_free(ret[--i]);
                        return r;
                }
        }
        return 0;
}

int worker_pool_new(sd_event *event, const struct oslogin_config *config, unsigned n_threads,
                    struct worker_pool **ret)
{
        struct worker_pool *p;
        int r;

        if (n_threads == 0 || n_threads > WORKER_THREADS_MAX)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        pthread_cond_init(&p->exited, &attr);
        pthread_condattr_destroy(&attr);
        p->n_threads = n_threads;
        p->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->event_fd < 0) {
                free(p);
                return negative_errno();
        }
        r = make_clients(config, n_threads, p->clients);
        if (r >= 0)
                r = sd_event_add_io(event, &p->event_source, p->event_fd, EPOLLIN, on_jobs_done, p);
        if (r < 0) {
                close(p->event_fd);
                free(p);
                return r;
        }
        for (unsigned i = 0; i < n_threads; i++) {
                struct worker_arg *arg = malloc(sizeof(*arg));
                pthread_t t;
                if (!arg)
                        return -ENOMEM; /* threads already started reference P: keep it */
                *arg = (struct worker_arg){.pool = p, .index = i};
                pthread_mutex_lock(&p->lock);
                r = -pthread_create(&t, NULL, worker_main, arg);
                if (r >= 0)
                        p->n_running++;
                pthread_mutex_unlock(&p->lock);
                if (r < 0) {
                        free(arg);
                        return r;
                }
                pthread_detach(t);
        }
        *ret = p;
        return 0;
}

void worker_pool_stop(struct worker_pool *p, uint64_t wait_usec)
{
        struct timespec until;
        bool all_exited;

        if (!p)
                return;
        p->event_source = sd_event_source_disable_unref(p->event_source);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(wait_usec / 1000000u);
        until.tv_nsec += (long)(wait_usec % 1000000u) * 1000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->wake);
        while (p->n_running > 0)
                if (pthread_cond_timedwait(&p->exited, &p->lock, &until) == ETIMEDOUT)
                        break;
        /* Jobs never finished are owned by their done(), which cannot run any more
         * (the loop is going away): leave them, and the pool, to process exit. */
        all_exited = p->n_running == 0 && !p->queue_head && !p->done_head;
        pthread_mutex_unlock(&p->lock);
        if (!all_exited)
                return;
        for (unsigned i = 0; i < p->n_threads; i++) {
                mds_client_free(p->clients[i]);
                mds_client_free(p->next_clients[i]);
        }
        safe_close(p->event_fd);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->exited);
        pthread_mutex_destroy(&p->lock);
        free(p);
}

int worker_pool_reconfigure(struct worker_pool *p, const struct oslogin_config *config)
{
        struct mds_client *fresh[WORKER_THREADS_MAX] = {};
        int r = make_clients(config, p->n_threads, fresh);
        if (r < 0)
                return r;
        pthread_mutex_lock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++) {
                mds_client_free(p->next_clients[i]);
                p->next_clients[i] = fresh[i];
        }
        pthread_mutex_unlock(&p->lock);
        return 0;
}

void worker_pool_submit(struct worker_pool *p, struct job *j)
{
        pthread_mutex_lock(&p->lock);
        queue_append(&p->queue_head, &p->queue_tail, j);
        p->n_queued++;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

void worker_pool_post(struct worker_pool *p, struct job *j)
{
        pthread_mutex_lock(&p->lock);
        queue_append(&p->done_head, &p->done_tail, j);
        signal_main_loop(p);
        pthread_mutex_unlock(&p->lock);
}

unsigned worker_pool_queued(struct worker_pool *p)
{
        pthread_mutex_lock(&p->lock);
        unsigned n = p->n_queued;
        pthread_mutex_unlock(&p->lock);
        return n;
}
