/* SPDX-License-Identifier: Apache-2.0 */
/* The member lists of a build's groups, several requests in flight. One
 * users?groupname= request per group made the groups half of a build a
 * round trip per group one after the other (10 000 groups: 10 000 waits,
 * 1.3 s on loopback, ~10 s at a real server's millisecond). Each extra
 * client has its own thread and connection; the groups are handed out by
 * an atomic counter, and the first error stops the others (all or
 * nothing, as before). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "accountsd/directory-fetch.h"
#include "basic/log.h"

struct members_run {
        struct directory_group *groups;
        size_t n;
        atomic_size_t next;
        atomic_int error;
};

struct members_thread {
        pthread_t thread;
        struct members_run *run;
        struct mds_client *client;
};

static void fetch_some(struct members_run *run, struct mds_client *c)
{
        for (;;) {
                if (atomic_load(&run->error) < 0)
                        return;
                size_t i = atomic_fetch_add(&run->next, 1);
                if (i >= run->n)
                        return;
                int r = directory_fetch_members(c, run->groups[i].name, &run->groups[i].members);
                if (r < 0) {
                        int none = 0;
                        atomic_compare_exchange_strong(&run->error, &none, r);
                        return;
                }
        }
}

static void *members_thread_main(void *p)
{
        struct members_thread *t = p;

        fetch_some(t->run, t->client);
        return NULL;
}

int directory_fetch_members_all(struct mds_client *c, struct mds_client *const *extra, size_t n_extra,
        struct directory_group *groups, size_t n)
{
        struct members_run run = {.groups = groups, .n = n};
        struct members_thread *threads = n_extra > 0 && n > 1 ? calloc(n_extra, sizeof(*threads)) : NULL;
        size_t started = 0;

        atomic_init(&run.next, 0);
        atomic_init(&run.error, 0);
        for (size_t i = 0; threads && i < n_extra && i + 1 < n; i++) {
                threads[started] = (struct members_thread){.run = &run, .client = extra[i]};
                if (pthread_create(&threads[started].thread, NULL, members_thread_main, &threads[started]) !=
                        0)
                        break; /* fewer in flight; the rest is done here */
                started++;
        }
        fetch_some(&run, c);
        for (size_t i = 0; i < started; i++)
                pthread_join(threads[i].thread, NULL);
        free(threads);
        return atomic_load(&run.error);
}
