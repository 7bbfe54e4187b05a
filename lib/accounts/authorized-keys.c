/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts/authorized-keys.h"
#include "accounts/managed-users.h"
#include "basic/alloc-util.h"
#include "basic/atomic-file.h"
#include "basic/hash.h"
#include "basic/macro.h"
#include "basic/path-util.h"
#include "basic/strv.h"
#include "basic/valid.h"

#define AUTHORIZED_KEYS_MAX (1024u * 1024)

static int append(char **buf, size_t *len, const char *line, size_t n)
{
        if (n > SIZE_MAX - 2 - *len || GROW_ARRAY(*buf, NULL, *len + n + 2) < 0)
                return -ENOMEM;
        char *p = *buf;
        memcpy(p + *len, line, n);
        p[*len + n] = '\n';
        *len += n + 1;
        p[*len] = '\0';
        return 0;
}

char *authorized_keys_merge(const char *existing, char *const *keylines)
{
        char *out = calloc(1, 1);
        size_t len = 0;
        bool skip_next = false;

        if (!out)
                return NULL;
        /* Keep the user's lines exactly (blank ones too); drop every marker
         * and the line after it. */
        for (const char *line = existing ?: ""; *line;) {
                size_t n = strcspn(line, "\n");
                bool marker = n == strlen(GOOGLE_KEY_MARKER) && strneq(line, GOOGLE_KEY_MARKER, n);
                if (skip_next)
                        skip_next = false;
                else if (marker)
                        skip_next = true;
                else if (append(&out, &len, line, n) < 0)
                        goto fail;
                line += n + (line[n] == '\n');
        }
        for (char *const *k = keylines; k && *k; k++)
                if (append(&out, &len, GOOGLE_KEY_MARKER, strlen(GOOGLE_KEY_MARKER)) < 0 ||
                        append(&out, &len, *k, strlen(*k)) < 0)
                        goto fail;
        return out;
fail:
        free(out);
        return NULL;
}

static int open_ssh_dir(int home_fd, uid_t uid, gid_t gid)
{
        int fd = openat(home_fd, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                if (mkdirat(home_fd, ".ssh", 0700) < 0 && errno != EEXIST)
                        return -errno;
                fd = openat(home_fd, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -ELOOP : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0) ||
                ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Reads the current file only if it is the user's own plain file: a hard
 * link to /etc/shadow planted there must not be read (its content would be
 * merged into a file the user owns), a FIFO must not block us. */
static int read_existing(int ssh_fd, uid_t uid, char **ret)
{
        _cleanup_close_ int fd =
                openat(ssh_fd, "authorized_keys", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size = 0;

        if (fd < 0)
                return errno == ENOENT ? 0 : errno == ELOOP ? -ELOOP : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_nlink > 1)
                return -EMLINK;
        if (st.st_uid != uid && st.st_uid != 0)
                return -EPERM;
        if ((uint64_t)st.st_size > AUTHORIZED_KEYS_MAX)
                return -EFBIG;
        data = malloc((size_t)st.st_size + 1);
        if (!data)
                return -ENOMEM;
        while (size < (size_t)st.st_size) {
                ssize_t n = read(fd, data + size, (size_t)st.st_size - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        data[size] = '\0';
        *ret = TAKE_PTR(data);
        return 1;
}

int authorized_keys_write(const char *root, const char *home, uid_t uid, gid_t gid, char *const *keylines)
{
        _cleanup_free_ char *path = NULL, *existing = NULL, *merged = NULL;
        _cleanup_close_ int home_fd = -EBADF, ssh_fd = -EBADF;
        int r;

        if (path_join_root(root, home, &path) < 0)
                return -ENOMEM;
        home_fd = open_dir_nofollow(AT_FDCWD, path, 0);
        if (home_fd < 0)
                return home_fd;
        /* Nothing to remove and no .ssh yet: leave the home alone. */
        if ((!keylines || !*keylines) && faccessat(home_fd, ".ssh", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        ssh_fd = open_ssh_dir(home_fd, uid, gid);
        if (ssh_fd < 0)
                return ssh_fd;
        r = read_existing(ssh_fd, uid, &existing);
        if (r < 0)
                return r;
        merged = authorized_keys_merge(existing, keylines);
        if (!merged)
                return -ENOMEM;
        if (existing && streq(existing, merged))
                return 0;
        if (!existing && isempty(merged))
                return 0;
        /* Atomic (temp + rename) but not synced one by one: the caller
         * syncs the file system once per pass (authorized_keys_sync). */
        _cleanup_atomic_file_ struct atomic_file af = {};
        if ((r = atomic_file_begin(ssh_fd, "authorized_keys", 0600, uid, gid, &af)) < 0)
                return r;
        if (fputs(merged, af.f) < 0 || fflush(af.f) != 0)
                return -EIO;
        r = atomic_file_rename(&af);
        return r < 0 ? r : 1;
}

int authorized_keys_sync(const char *root, const char *home_base)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (path_join_root(root, home_base, &path) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return syncfs(fd) < 0 ? -errno : 0;
}

static uint64_t digest_keys(char **keylines)
{
        uint64_t h = FNV1A64_OFFSET;
        for (char **k = keylines; k && *k; k++)
                h = fnv1a64_update(h, *k, strlen(*k) + 1); /* with the NUL: "ab","c" is not "a","bc" */
        return h;
}

static struct keys_seen *seen_find(struct keys_cache *ks, const char *name)
{
        size_t i;
        return strmap_get(&ks->index, name, &i) && ks->e[i].name ? &ks->e[i] : NULL;
}

int keys_cache_load(const char *root, struct keys_cache *ks)
{
        _cleanup_strv_free_ char **lines = NULL;
        int r = state_read_lines(root, OSLOGIN_STATE_DIR, "keys", &lines);
        if (r < 0)
                return r;
        ks->e = calloc(strv_length(lines) + 1, sizeof(*ks->e));
        if (!ks->e)
                return -ENOMEM;
        for (char **l = lines; *l; l++) {
                char name[64];
                unsigned long long d, ino, size, mtime;
                if (sscanf(*l, "%63s %llx %llu %llu %llu", name, &d, &ino, &size, &mtime) != 5 ||
                        !valid_user_name(name))
                        continue;
                ks->e[ks->n] = (struct keys_seen){
                        .name = strdup(name), .digest = d, .ino = ino, .size = size, .mtime_ns = mtime};
                if (!ks->e[ks->n].name || strmap_put(&ks->index, name, ks->n) < 0)
                        return -ENOMEM;
                ks->n++;
        }
        return 0;
}

int keys_cache_save(const char *root, struct keys_cache *ks)
{
        _cleanup_strv_free_ char **lines = calloc(1, sizeof(char *));
        if (!ks->changed)
                return 0;
        if (!lines)
                return -ENOMEM;
        for (size_t i = 0; i < ks->n; i++) {
                _cleanup_free_ char *line = NULL;
                if (!ks->e[i].name)
                        continue;
                if (asprintf(&line, "%s %llx %llu %llu %llu", ks->e[i].name,
                            (unsigned long long)ks->e[i].digest, (unsigned long long)ks->e[i].ino,
                            (unsigned long long)ks->e[i].size, (unsigned long long)ks->e[i].mtime_ns) < 0 ||
                        strv_extend(&lines, line) < 0)
                        return -ENOMEM;
        }
        int r = state_write_lines(root, OSLOGIN_STATE_DIR, "keys", lines);
        if (r == 0)
                ks->changed = false;
        return r;
}

void keys_cache_done(struct keys_cache *ks)
{
        strmap_done(&ks->index);
        for (size_t i = 0; i < ks->n; i++)
                free(ks->e[i].name);
        free(ks->e);
}

static bool stat_keys_file(const char *root, const char *home, struct stat *st)
{
        _cleanup_free_ char *keys = NULL, *path = NULL;
        if (asprintf(&keys, "%s/.ssh/authorized_keys", home) < 0 || path_join_root(root, keys, &path) < 0)
                return false;
        return lstat(path, st) == 0 && S_ISREG(st->st_mode);
}

static uint64_t mtime_ns(const struct stat *st)
{
        return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

void keys_cache_remember(
        struct keys_cache *ks, const char *root, const char *name, const char *home, char **keylines)
{
        struct keys_seen *e = seen_find(ks, name);
        struct stat st;

        if (!keylines || !stat_keys_file(root, home, &st)) {
                if (e) {
                        free(e->name);
                        e->name = NULL; /* dropped when saved */
                        ks->changed = true;
                }
                return;
        }
        if (!e) {
                if (GROW_ARRAY(ks->e, NULL, ks->n + 1) < 0)
                        return;
                e = &ks->e[ks->n];
                *e = (struct keys_seen){.name = strdup(name)};
                if (!e->name || strmap_put(&ks->index, name, ks->n) < 0)
                        return;
                ks->n++;
        }
        e->digest = digest_keys(keylines);
        e->ino = st.st_ino;
        e->size = (uint64_t)st.st_size;
        e->mtime_ns = mtime_ns(&st);
        ks->changed = true;
}

bool keys_cache_unchanged(
        struct keys_cache *ks, const char *root, const char *name, const char *home, char **keylines)
{
        struct keys_seen *e = seen_find(ks, name);
        struct stat st;
        return e && keylines && e->digest == digest_keys(keylines) && stat_keys_file(root, home, &st) &&
               e->ino == st.st_ino && e->size == (uint64_t)st.st_size && e->mtime_ns == mtime_ns(&st);
}
