/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/negative-table.h"
#include "basic/time-util.h"
#include "nss_oslogin/lookup.h"
#include "nss_oslogin/negative.h"

/* A variable, not a macro, so the unit test can point it at a temp dir. */
static const char *negative_path = NEGATIVE_TABLE_PATH;
static pthread_mutex_t negative_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t negative_once = PTHREAD_ONCE_INIT;

static struct {
        void *data;
        size_t size;
        dev_t dev;
        ino_t ino;
        struct timespec mtime;
        uint64_t next_check_msec; /* CLOCK_MONOTONIC_COARSE */
} table;

static void negative_init_once(void)
{
        lookup_register_lock(&negative_lock);
}

static void unmap(void)
{
        if (table.data)
                munmap(table.data, table.size);
        table.data = NULL;
        table.size = 0;
}

static bool same_file(const struct stat *st)
{
        return table.data && st->st_dev == table.dev && st->st_ino == table.ino &&
               (size_t)st->st_size == table.size && st->st_mtim.tv_sec == table.mtime.tv_sec &&
               st->st_mtim.tv_nsec == table.mtime.tv_nsec;
}

/* Called with the lock held. */
static void refresh(uint64_t now_msec)
{
        struct stat st;
        int fd;

        table.next_check_msec = now_msec + CACHE_CHECK_INTERVAL_MS;
        if (stat(negative_path, &st) < 0) {
                unmap();
                return;
        }
        if (same_file(&st))
                return;
        unmap();
        fd = open(negative_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return;
        /* Only accountsd's: a table anyone else could write would let them
         * hide a directory user. */
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 0022) &&
                st.st_size >= NEGATIVE_TABLE_HEADER_SIZE && st.st_size <= NEGATIVE_TABLE_SIZE_MAX) {
                void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (p != MAP_FAILED) {
                        table.data = p;
                        table.size = (size_t)st.st_size;
                        table.dev = st.st_dev;
                        table.ino = st.st_ino;
                        table.mtime = st.st_mtim;
                }
        }
        close(fd);
}

bool negative_known(const struct nss_proto_request *q)
{
        int saved_errno = errno;
        bool known;

        pthread_once(&negative_once, negative_init_once);
        pthread_mutex_lock(&negative_lock);
        uint64_t now_msec = now_coarse_msec();
        if (now_msec >= table.next_check_msec)
                refresh(now_msec);
        known = table.data && negative_table_has(table.data, table.size, q, now_monotonic_usec());
        pthread_mutex_unlock(&negative_lock);
        errno = saved_errno;
        return known;
}
