/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/selinux-util.h"

#define SELABEL_CTX_FILE 0 /* libselinux's backend number for file contexts */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static struct selinux_ops loaded;
static const struct selinux_ops *ops; /* NULL: not loaded or SELinux off */
static const struct selinux_ops *test_ops;
static pthread_mutex_t handle_lock = PTHREAD_MUTEX_INITIALIZER;
static void *handle; /* file-context lookup handle, opened on first need */
static bool handle_tried;

static void load(void)
{
        /* RTLD_NODELETE: the library stays even if a PAM module holding
         * us is unloaded; the handle is kept for the process's life. */
        void *lib = dlopen("libselinux.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!lib)
                return;
        loaded = (struct selinux_ops){
                .is_selinux_enabled = (int (*)(void))dlsym(lib, "is_selinux_enabled"),
                .security_getenforce = (int (*)(void))dlsym(lib, "security_getenforce"),
                .lgetfilecon = (int (*)(const char *, char **))dlsym(lib, "lgetfilecon"),
                .setfscreatecon = (int (*)(const char *))dlsym(lib, "setfscreatecon"),
                .freecon = (void (*)(char *))dlsym(lib, "freecon"),
                .selabel_open = (void *(*)(unsigned, const void *, unsigned))dlsym(lib, "selabel_open"),
                .selabel_lookup = (int (*)(void *, char **, const char *, int))dlsym(lib, "selabel_lookup"),
        };
        if (loaded.is_selinux_enabled && loaded.security_getenforce && loaded.lgetfilecon &&
                loaded.setfscreatecon && loaded.freecon && loaded.selabel_open && loaded.selabel_lookup &&
                loaded.is_selinux_enabled() > 0)
                ops = &loaded;
}

static const struct selinux_ops *get_ops(void)
{
        if (test_ops)
                return test_ops->is_selinux_enabled() > 0 ? test_ops : NULL;
        pthread_once(&load_once, load);
        return ops;
}

void selinux_util_set_ops(const struct selinux_ops *o)
{
        pthread_mutex_lock(&handle_lock);
        test_ops = o;
        handle = NULL; /* a test's handle is its own business */
        handle_tried = false;
        pthread_mutex_unlock(&handle_lock);
}

bool selinux_labels_enabled(void)
{
        return get_ops() != NULL;
}

/* The policy's label for a path that does not exist yet. */
static int lookup_default(const struct selinux_ops *o, int dir_fd, const char *name, mode_t mode, char **ret)
{
        char link[64], dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", dir_fd);
        n = readlink(link, dir, sizeof(dir) - 1);
        if (n < 0)
                return -errno;
        dir[n] = '\0';
        snprintf(path, sizeof(path), "%s/%s", streq(dir, "/") ? "" : dir, name);
        pthread_mutex_lock(&handle_lock);
        if (!handle_tried) {
                handle = o->selabel_open(SELABEL_CTX_FILE, NULL, 0);
                handle_tried = true;
        }
        int r = handle && o->selabel_lookup(handle, ret, path, (int)mode) == 0 ? 0 : -(errno ?: ENOENT);
        pthread_mutex_unlock(&handle_lock);
        return r;
}

int selinux_create_label_begin(int dir_fd, const char *name, mode_t mode)
{
        const struct selinux_ops *o = get_ops();
        char path[64 + NAME_MAX], *con = NULL;
        int r;

        if (!o)
                return 0;
        /* The file being replaced keeps its own label, whatever the policy says. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir_fd, name);
        if (o->lgetfilecon(path, &con) < 0) {
                con = NULL;
                r = errno == ENOENT ? lookup_default(o, dir_fd, name, mode, &con) : -(errno ?: EIO);
                if (r == -ENOENT) /* no rule for this path: the directory's label is right */
                        return 0;
                if (r < 0)
                        return o->security_getenforce() == 1 ? r : 0;
        }
        r = o->setfscreatecon(con) < 0 ? -(errno ?: EIO) : 1;
        o->freecon(con);
        if (r < 0 && o->security_getenforce() != 1)
                return 0;
        return r;
}

void selinux_create_label_end(void)
{
        const struct selinux_ops *o = get_ops();
        if (o)
                (void)o->setfscreatecon(NULL);
}
