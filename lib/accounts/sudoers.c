/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "basic/atomic-file.h"
#include "basic/mkdir-util.h"
#include "basic/parse-util.h"
#include "basic/path-util.h"
#include "basic/strv.h"
#include "accounts/sudoers.h"
#include "basic/valid.h"

int sudoers_file_name(const char *user, char **ret)
{
        char *out, *p;

        if (!valid_user_name(user))
                return -EINVAL;
        out = malloc(strlen(user) * 3 + 1);
        if (!out)
                return -ENOMEM;
        p = out;
        for (const char *c = user; *c; c++) {
                if (*c == '.') {
                        memcpy(p, "_2e", 3);
                        p += 3;
                } else if (*c == '_') {
                        memcpy(p, "__", 2);
                        p += 2;
                } else
                        *p++ = *c;
        }
        *p = '\0';
        *ret = out;
        return 0;
}

int sudoers_user_from_file_name(const char *file, char **ret)
{
        char *out = malloc(strlen(file) + 1), *p = out;

        if (!out)
                return -ENOMEM;
        for (const char *c = file; *c; c++) {
                if (*c != '_')
                        *p++ = *c;
                else if (c[1] == '_')
                        *p++ = '_', c++;
                else if (c[1] == '2' && c[2] == 'e')
                        *p++ = '.', c += 2;
                else {
                        free(out);
                        return -EINVAL;
                }
        }
        *p = '\0';
        if (!valid_user_name(out)) {
                free(out);
                return -EINVAL;
        }
        *ret = out;
        return 0;
}

static int open_dropin_dir(const char *root, bool create, char **ret_path)
{
        _cleanup_free_ char *dir = NULL;
        if (path_join_root(root, SUDOERS_DROPIN_DIR, &dir) < 0)
                return -ENOMEM;
        if (ret_path && !(*ret_path = strdup(dir)))
                return -ENOMEM;
        return create ? mkdir_p_open(AT_FDCWD, dir, 0755, 0750) : open_dir_nofollow(AT_FDCWD, dir, 0);
}

/* visudo -cf on the temp file, with a clean environment. */
static int validate(const char *visudo, const char *dir, const char *temp)
{
        _cleanup_free_ char *path = NULL;
        pid_t pid;
        int status;

        if (asprintf(&path, "%s/%s", dir, temp) < 0)
                return -ENOMEM;
        char *argv[] = {(char *)"visudo", (char *)"-c", (char *)"-q", (char *)"-f", path, NULL};
        char *envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        if (posix_spawn(&pid, visudo, NULL, NULL, argv, envp) != 0)
                return -ENOEXEC;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBADMSG;
}

static int write_validated(
        const char *visudo, int dir_fd, const char *dir, const char *name, const char *content)
{
        _cleanup_atomic_file_ struct atomic_file af = {};
        _cleanup_free_ char *existing = NULL;
        int r;

        if (read_file_bounded(dir_fd, name, 64 * 1024, &existing, NULL) == 0 && streq(existing, content))
                return 0;
        if ((r = atomic_file_begin(dir_fd, name, 0440, 0, 0, &af)) < 0)
                return r;
        if (fputs(content, af.f) < 0 || fflush(af.f) != 0 || fsync(fileno(af.f)) < 0)
                return errno ? -errno : -EIO;
        if ((r = validate(visudo ?: "/usr/sbin/visudo", dir, af.temp_name)) < 0)
                return r;
        r = atomic_file_commit(&af);
        return r < 0 ? r : 1;
}

int sudoers_grant(const char *root, const char *visudo, const char *user, uint32_t uid, const char *rule)
{
        _cleanup_free_ char *name = NULL, *content = NULL, *path = NULL;
        _cleanup_close_ int dir = -EBADF;
        int r;

        rule = rule ?: SUDOERS_DEFAULT_RULE;
        if ((r = sudoers_file_name(user, &name)) < 0)
                return r;
        if (uid == 0 || uid == UINT32_MAX || !valid_sudo_rule(rule))
                return -EINVAL;
        /* By UID, never by name: a name from the network could be a sudoers
         * keyword or alias ("ALL") and grant every account. */
        if (asprintf(&content, "# OS Login admin, managed by oslogin: do not edit.\n#%" PRIu32 " %s\n", uid,
                    rule) < 0)
                return -ENOMEM;
        if ((dir = open_dropin_dir(root, true, &path)) < 0)
                return dir;
        return write_validated(visudo, dir, path, name, content);
}

int sudoers_granted_uid(const char *root, const char *user, uint32_t *ret_uid)
{
        _cleanup_free_ char *name = NULL, *content = NULL;
        _cleanup_close_ int dir = -EBADF;
        int r;

        if ((r = sudoers_file_name(user, &name)) < 0)
                return r;
        if ((dir = open_dropin_dir(root, false, NULL)) < 0)
                return dir;
        if ((r = read_file_bounded(dir, name, 64 * 1024, &content, NULL)) < 0)
                return r;
        for (char *line = content, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (line[0] != '#' || line[1] < '0' || line[1] > '9')
                        continue;
                char *end = strchr(line, ' ');
                if (!end)
                        return -EBADMSG;
                *end = '\0';
                return safe_atou32(line + 1, ret_uid) < 0 ? -EBADMSG : 0;
        }
        return -EBADMSG;
}

int sudoers_revoke(const char *root, const char *user)
{
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int dir = -EBADF;
        int r;

        if ((r = sudoers_file_name(user, &name)) < 0)
                return r;
        if ((dir = open_dropin_dir(root, false, NULL)) < 0)
                return dir == -ENOENT ? 0 : dir;
        if (unlinkat(dir, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int sudoers_list(const char *root, char ***ret)
{
        _cleanup_strv_free_ char **users = calloc(1, sizeof(char *));
        int dir, r;

        if (!users)
                return -ENOMEM;
        dir = open_dropin_dir(root, false, NULL);
        if (dir < 0 && dir != -ENOENT)
                return dir;
        DIR *d = dir >= 0 ? fdopendir(dir) : NULL;
        for (struct dirent *e; d && (e = readdir(d));) {
                _cleanup_free_ char *user = NULL;
                if (e->d_name[0] == '.' || sudoers_user_from_file_name(e->d_name, &user) < 0)
                        continue;
                if ((r = strv_extend(&users, user)) < 0) {
                        closedir(d);
                        return r;
                }
        }
        if (d)
                closedir(d);
        else if (dir >= 0)
                close(dir);
        *ret = TAKE_PTR(users);
        return 0;
}

int sudoers_ensure_include(const char *root, const char *visudo)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (path_join_root(root, "/etc/sudoers.d", &dir) < 0)
                return -ENOMEM;
        if ((fd = mkdir_p_open(AT_FDCWD, dir, 0755, 0750)) < 0)
                return fd;
        return write_validated(visudo, fd, dir, "oslogin",
                "# OS Login admins: one file per admin, managed by oslogin.\n"
                "#includedir " SUDOERS_DROPIN_DIR "\n");
}
