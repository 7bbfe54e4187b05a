/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "accountsd/worker.h"
#include "basic/log.h"

#define WORKER_THREADS_MAX 8

struct worker_arg {
        struct worker_pool *pool;
        unsigned index;
};

struct worker_pool {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        struct job *queue_head, *queue_tail; /* to run */
        struct job *done_head, *done_tail;   /* to finish in the main loop */
        unsigned n_queued;
        bool stopping;
        int event_fd;
        /* Written once by worker_pool_stop() and never read: from then on
         * every metadata call of the pool's clients fails at once. */
        int cancel_fd;
        sd_event_source *event_source;
        unsigned n_threads;
        /* clients[i] belongs to thread i; next_clients[i] replaces it at its next job. */
        struct mds_client *clients[WORKER_THREADS_MAX];
        struct mds_client *next_clients[WORKER_THREADS_MAX];
        pthread_t threads[WORKER_THREADS_MAX];
        struct worker_arg args[WORKER_THREADS_MAX];
        unsigned n_started; /* threads[0..n_started) to join */
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
        struct worker_arg *arg = userdata;
        struct worker_pool *p = arg->pool;

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
                if (p->next_clients[arg->index]) {
                        mds_client_free(p->clients[arg->index]);
                        p->clients[arg->index] = TAKE_PTR(p->next_clients[arg->index]);
                }
                struct mds_client *client = p->clients[arg->index];
                pthread_mutex_unlock(&p->lock);

                if (j->run)
                        j->run(j, client);

                pthread_mutex_lock(&p->lock);
                queue_append(&p->done_head, &p->done_tail, j);
                signal_main_loop(p);
        }
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

static int make_clients(
        const struct oslogin_config *config, int cancel_fd, unsigned n, struct mds_client **ret)
{
        for (unsigned i = 0; i < n; i++) {
                int r = mds_client_new(config, 0, &ret[i]);
                if (r < 0) {
                        while (i > 0)
                                mds_client_free(ret[--i]);
                        return r;
                }
                mds_client_set_cancel_fd(ret[i], cancel_fd);
        }
        return 0;
}

int worker_pool_new(
        sd_event *event, const struct oslogin_config *config, unsigned n_threads, struct worker_pool **ret)
{
        _cleanup_(worker_pool_freep) struct worker_pool *p = NULL;
        int r;

        if (n_threads == 0 || n_threads > WORKER_THREADS_MAX)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->wake, NULL);
        p->n_threads = n_threads;
        p->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        p->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->event_fd < 0 || p->cancel_fd < 0)
                return negative_errno();
        r = make_clients(config, p->cancel_fd, n_threads, p->clients);
        if (r < 0)
                return r;
        r = sd_event_add_io(event, &p->event_source, p->event_fd, EPOLLIN, on_jobs_done, p);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < n_threads; i++) {
                p->args[i] = (struct worker_arg){.pool = p, .index = i};
                r = -pthread_create(&p->threads[i], NULL, worker_main, &p->args[i]);
                if (r < 0)
                        return r; /* the cleanup stops and joins those already started */
                p->n_started++;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

void worker_pool_stop(struct worker_pool *p)
{
        uint64_t one = 1;

        if (!p)
                return;
        p->event_source = sd_event_source_disable_unref(p->event_source);
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        /* Level-triggered: stays readable, so a call that starts after this fails too. */
        if (p->cancel_fd >= 0)
                (void)!write(p->cancel_fd, &one, sizeof(one));
        while (p->n_started > 0)
                pthread_join(p->threads[--p->n_started], NULL);
}

static void drop_all(struct job *list)
{
        while (list) {
                struct job *j = list;
                list = j->next;
                j->drop(j);
        }
}

void worker_pool_free(struct worker_pool *p)
{
        if (!p)
                return;
        worker_pool_stop(p);
        /* No thread left: the lists need no lock. */
        drop_all(p->queue_head);
        drop_all(p->done_head);
        for (unsigned i = 0; i < p->n_threads; i++) {
                mds_client_free(p->clients[i]);
                mds_client_free(p->next_clients[i]);
        }
        safe_close(p->event_fd);
        safe_close(p->cancel_fd);
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        free(p);
}

int worker_pool_reconfigure(struct worker_pool *p, const struct oslogin_config *config)
{
        struct mds_client *fresh[WORKER_THREADS_MAX] = {};
        int r = make_clients(config, p->cancel_fd, p->n_threads, fresh);
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
        assert(j->done && j->drop);
        pthread_mutex_lock(&p->lock);
        queue_append(&p->queue_head, &p->queue_tail, j);
        p->n_queued++;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
}

void worker_pool_post(struct worker_pool *p, struct job *j)
{
        assert(j->done && j->drop);
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
