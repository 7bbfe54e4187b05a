/* SPDX-License-Identifier: Apache-2.0 */
/* Starting and stopping the fake: the state, the libmicrohttpd daemon and
 * the waker thread. Shared by main.c and tests/fuzz/fuzz-fake-request.c. */

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "fake.h"

struct fake_state fake = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static pthread_t waker_thread;

static void *waker(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&fake.lock);
        while (!fake.stopping) {
                uint64_t next = fake_wake_waiters(false);
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
                uint64_t until = next && next > now ? next : now + 1000000u;
                if (next && next <= now)
                        continue;
                ts.tv_sec = (time_t)(until / 1000000u);
                ts.tv_nsec = (long)(until % 1000000u) * 1000;
                pthread_cond_timedwait(&fake.changed, &fake.lock, &ts);
        }
        fake_wake_waiters(true);
        pthread_mutex_unlock(&fake.lock);
        return NULL;
}

int fake_reload(void)
{
        json_object *o;
        int r = fake_load_fixture_file(fake.data_path, &o);
        if (r < 0)
                return r;
        pthread_mutex_lock(&fake.lock);
        r = fake_set_data(o);
        pthread_mutex_unlock(&fake.lock);
        return r;
}

static void free_data(void)
{
        fake_directory_free(&fake.dir);
        json_object_put(fake.tree);
        json_object_put(fake.fixture);
        json_object_put(fake.path_counts);
        fake.tree = fake.fixture = fake.path_counts = NULL;
}

int fake_start(
        const char *data_path, const struct sockaddr_in *addr, unsigned threads, struct MHD_Daemon **ret)
{
        pthread_condattr_t cattr;
        struct MHD_Daemon *d;
        int r;

        pthread_condattr_init(&cattr);
        pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
        pthread_cond_init(&fake.changed, &cattr);
        pthread_condattr_destroy(&cattr);
        fake.data_path = data_path;
        fake.path_counts = json_object_new_object();
        srand48((long)time(NULL));
        if (fake_reload() < 0) {
                json_object_put(fake.path_counts);
                fake.path_counts = NULL;
                return -EBADMSG;
        }

        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                                     MHD_USE_ERROR_LOG,
                0, NULL, NULL, fake_handle, NULL, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
                MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 4096u,
                MHD_OPTION_CONNECTION_TIMEOUT, 600u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                MHD_OPTION_NOTIFY_COMPLETED, fake_request_completed, NULL, MHD_OPTION_END);
        if (!d) {
                r = errno > 0 && errno != EBADMSG ? -errno : -EIO;
                free_data();
                return r;
        }
        fake.stopping = false;
        pthread_create(&waker_thread, NULL, waker, NULL);
        *ret = d;
        return 0;
}

void fake_stop(struct MHD_Daemon *d)
{
        pthread_mutex_lock(&fake.lock);
        fake.stopping = true;
        pthread_cond_broadcast(&fake.changed);
        pthread_mutex_unlock(&fake.lock);
        pthread_join(waker_thread, NULL);
        /* The waker resumed every waiting connection; with fake.stopping set
         * none is suspended again (a keep-alive client such as accountsd's
         * long-poll asks again at once), since libmicrohttpd aborts when
         * stopped with a suspended connection. */
        MHD_stop_daemon(d);
        free_data();
}
