/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/local-db-watch.h"
#include "basic/path-util.h"
#include "basic/time-util.h"

static struct file_stamp stamp_of(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return (struct file_stamp){.error = -errno};
        return (struct file_stamp){
                .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size, .mtime = st.st_mtim};
}

static bool stamp_eq(const struct file_stamp *a, const struct file_stamp *b)
{
        return a->error == b->error && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
               a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int make_paths(struct local_db_watch *w)
{
        if (w->passwd_path)
                return 0;
        if (path_join_root(w->root, "/etc/passwd", &w->passwd_path) < 0)
                return -ENOMEM;
        if (path_join_root(w->root, "/etc/group", &w->group_path) < 0) {
                free(w->passwd_path);
                w->passwd_path = NULL;
                return -ENOMEM;
        }
        return 0;
}

int local_db_watch_get(struct local_db_watch *w, const struct local_db **ret)
{
        struct file_stamp passwd, group;
        uint64_t now = 0;
        int r;

        if (w->db && w->interval_msec) {
                now = now_coarse_msec();
                if (now < w->next_check_msec) {
                        *ret = w->db;
                        return 0;
                }
        }
        r = make_paths(w);
        if (r < 0)
                return r;
        passwd = stamp_of(w->passwd_path);
        group = stamp_of(w->group_path);
        if (w->interval_msec)
                w->next_check_msec = (now ?: now_coarse_msec()) + w->interval_msec;
        if (w->db && stamp_eq(&passwd, &w->passwd) && stamp_eq(&group, &w->group)) {
                *ret = w->db;
                return 0;
        }
        local_db_free(w->db);
        w->db = NULL;
        /* A missing file counts as empty (as in local_db_load()); any other
         * failure is an answer we cannot give. */
        if (passwd.error < 0 && passwd.error != -ENOENT)
                return passwd.error;
        if (group.error < 0 && group.error != -ENOENT)
                return group.error;
        r = local_db_load(w->root, &w->db);
        if (r < 0)
                return r;
        w->passwd = passwd;
        w->group = group;
        *ret = w->db;
        return 1;
}

void local_db_watch_done(struct local_db_watch *w)
{
        local_db_free(w->db);
        w->db = NULL;
        free(w->passwd_path);
        free(w->group_path);
        w->passwd_path = w->group_path = NULL;
}
