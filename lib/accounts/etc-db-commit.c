/* SPDX-License-Identifier: Apache-2.0 */
/* The /etc transaction's write half: under the shadow-utils lock, check
 * that nobody changed the files since load, write backups and synced temps
 * for every changed file, then rename them back to back, groups first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts/etc-db-internal.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/time-util.h"

/* Names who holds the lock when we give up: F_OFD_GETLK reports the PID of
 * a classic (lckpwdf) holder, -1 for an OFD holder (another thread of ours,
 * systemd-sysusers). */
static void log_lock_holder(int fd, uint64_t timeout_usec)
{
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        char comm[64] = "", path[64];
        unsigned ms = (unsigned)(timeout_usec / 1000);

        if (fcntl(fd, F_OFD_GETLK, &fl) < 0 || fl.l_type == F_UNLCK || fl.l_pid <= 0) {
                log_error("Gave up waiting for the account files' lock (etc/.pwd.lock) after %u ms; "
                          "nothing was written, the next pass tries again.",
                        ms);
                return;
        }
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)fl.l_pid);
        FILE *f = fopen(path, "re");
        if (f) {
                if (fgets(comm, sizeof(comm), f))
                        comm[strcspn(comm, "\n")] = '\0';
                fclose(f);
        }
        log_error("Gave up waiting for the account files' lock (etc/.pwd.lock) after %u ms: held by PID %d "
                  "\"%s\"; "
                  "nothing was written, the next pass tries again.",
                ms, (int)fl.l_pid, comm);
}

/* The lock every /etc account writer takes: a write lock on
 * ROOT/etc/.pwd.lock, the file lckpwdf() locks (useradd, usermod, passwd,
 * chpasswd, vipw take it that way; shadow-utils with --prefix on
 * PREFIX/etc/.pwd.lock).
 *
 * Not lckpwdf() itself: it bounds its F_SETLKW with alarm(15) and a SIGALRM
 * handler, both process-wide. In this threaded daemon that replaces
 * whatever SIGALRM handler is installed, cancels a pending alarm of the
 * process, and the signal may be delivered to another thread, leaving the
 * wait unbounded. It also holds one lock per process (a second thread
 * fails at once) and is not usable under another root.
 *
 * An open file description (OFD) lock, as systemd's take_etc_passwd_lock()
 * does: it conflicts with the classic POSIX lock lckpwdf() takes, in both
 * directions, so those tools still exclude us and we them. Unlike a POSIX
 * lock it belongs to this descriptor, not the process: two threads exclude
 * each other, and a close() of the same file elsewhere in the process does
 * not drop it.
 *
 * Bounded by polling F_OFD_SETLK with a short back-off against a monotonic
 * deadline: F_OFD_SETLKW has no timeout of its own and interrupting it
 * needs a signal again. Writers hold the lock for milliseconds, so the
 * back-off (1 ms doubling to 50 ms) costs little. */
int etc_lock_take(int etc_fd, uint64_t timeout_usec, int *ret_fd)
{
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        _cleanup_close_ int fd = -EBADF;
        uint64_t deadline = now_monotonic_usec() + timeout_usec, pause = 1000;

        fd = openat(etc_fd, ".pwd.lock", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        for (;;) {
                if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
                        *ret_fd = TAKE_FD(fd);
                        return 0;
                }
                if (errno != EAGAIN && errno != EACCES && errno != EINTR)
                        return -errno;
                uint64_t now = now_monotonic_usec();
                if (now >= deadline)
                        break;
                pause = MIN(pause, deadline - now);
                struct timespec ts = {
                        .tv_sec = (time_t)(pause / 1000000), .tv_nsec = (long)(pause % 1000000) * 1000};
                (void)nanosleep(&ts, NULL);
                pause = MIN(pause * 2, 50000u);
        }
        log_lock_holder(fd, timeout_usec);
        return -ETIMEDOUT;
}

/* Under the lock: is each file still what we loaded? Someone (useradd,
 * vipw, another tool) may have changed it since; writing our copy would
 * silently undo their change. */
static int check_unchanged(struct etc_db *db)
{
        for (int i = 0; i < _ETC_FILE_MAX; i++) {
                struct etc_file_state *f = &db->files[i];
                _cleanup_free_ char *now = NULL;
                size_t size = 0;
                int r = read_file_bounded(db->etc_fd, etc_file_names[i], ETC_FILE_MAX_SIZE, &now, &size);
                if (r == -ENOENT && !f->exists)
                        continue;
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r == -ENOENT || !f->exists || size != f->original_size ||
                        memcmp(now, f->original, size) != 0)
                        return -EAGAIN;
        }
        return 0;
}

/* Writes the "NAME-" backup and the complete new file into a synced temp. */
static int prepare_file(struct etc_db *db, enum etc_file which, struct atomic_file *temp)
{
        struct etc_file_state *f = &db->files[which];
        char backup[32];
        int r;

        if (f->exists) {
                snprintf(backup, sizeof(backup), "%s-", etc_file_names[which]);
                r = write_file_atomic(db->etc_fd, backup, f->original, f->original_size,
                        f->st.st_mode & 07777, f->st.st_uid, f->st.st_gid);
                if (r < 0)
                        return r;
        }
        r = atomic_file_begin(db->etc_fd, etc_file_names[which], f->st.st_mode & 07777,
                f->exists ? f->st.st_uid : 0, f->exists ? f->st.st_gid : 0, temp);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f->n; i++)
                if (fputs(f->lines[i], temp->f) < 0 || (i + 1 < f->n && fputc('\n', temp->f) < 0))
                        return -EIO;
        return atomic_file_sync(temp);
}

static void abort_all(struct atomic_file (*temps)[_ETC_FILE_MAX])
{
        for (int i = 0; i < _ETC_FILE_MAX; i++)
                atomic_file_abort(&(*temps)[i]);
}

/* After a commit the files on disk are the new "original": a second
 * commit of the same db compares against them. */
static int reload_originals(struct etc_db *db)
{
        for (int i = 0; i < _ETC_FILE_MAX; i++) {
                struct etc_file_state *f = &db->files[i];
                if (!f->changed)
                        continue;
                free(f->original);
                f->original = NULL;
                int r = read_file_bounded(
                        db->etc_fd, etc_file_names[i], ETC_FILE_MAX_SIZE, &f->original, &f->original_size);
                if (r < 0)
                        return r;
                if (fstatat(db->etc_fd, etc_file_names[i], &f->st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                f->exists = true;
                f->changed = false;
        }
        return 0;
}

/* Temps of a writer that was killed (ours ".#passwd-XXXXXX", sysusers'
 * ".#passwdXXXXXX"): stale once we hold the lock every such writer takes. */
static bool is_account_temp(const char *name)
{
        for (int i = 0; i < _ETC_FILE_MAX; i++)
                if (strncmp(name, ".#", 2) == 0 &&
                        strncmp(name + 2, etc_file_names[i], strlen(etc_file_names[i])) == 0)
                        return true;
        return false;
}

bool etc_db_find_stale_temps(int etc_fd, bool remove)
{
        int fd = fcntl(etc_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        bool found = false;

        if (!d) {
                safe_close(fd);
                return false;
        }
        rewinddir(d);
        for (struct dirent *e; (e = readdir(d));)
                if (is_account_temp(e->d_name)) {
                        found = true;
                        if (remove)
                                (void)unlinkat(etc_fd, e->d_name, 0);
                }
        closedir(d);
        return found;
}

int etc_db_commit(struct etc_db *db)
{
        /* Groups before users: a crash in between leaves a group nobody
         * uses yet (on removal: a user whose group went first), never a
         * user whose primary group is missing for long. */
        static const enum etc_file order[] = {ETC_GSHADOW, ETC_GROUP, ETC_SHADOW, ETC_PASSWD};
        _cleanup_(abort_all) struct atomic_file temps[_ETC_FILE_MAX] = {};
        _cleanup_close_ int lock_fd = -EBADF;
        int r;

        if (!etc_db_changed(db) && !db->stale_temps)
                return 0;
        if ((r = etc_lock_take(db->etc_fd, ETC_LOCK_TIMEOUT_USEC, &lock_fd)) < 0)
                return r;
        if (db->stale_temps) {
                (void)etc_db_find_stale_temps(db->etc_fd, true);
                db->stale_temps = false;
        }
        if (!etc_db_changed(db))
                return 0;
        if ((r = check_unchanged(db)) < 0)
                return r;
        /* Everything written and synced first, then the renames back to
         * back: the window in which some files are new and others old is
         * a few rename() calls, and each file is always whole. */
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (db->files[order[i]].changed && (r = prepare_file(db, order[i], &temps[order[i]])) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (db->files[order[i]].changed && (r = atomic_file_rename(&temps[order[i]])) < 0)
                        return r;
        (void)fsync(db->etc_fd);
        r = reload_originals(db);
        return r < 0 ? r : 1;
}
