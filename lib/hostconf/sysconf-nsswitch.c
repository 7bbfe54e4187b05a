/* SPDX-License-Identifier: Apache-2.0 */
/* The nsswitch part of the host configuration: " oslogin" inserted after
 * "files" on passwd:, group: and initgroups:, the lines we changed recorded
 * in /var/lib/oslogin/nsswitch.changed so deactivate removes exactly that;
 * the guest agent's "cache_oslogin oslogin" removed in the same step.
 * authselect (Fedora, RHEL) makes /etc/nsswitch.conf a symlink to
 * /etc/authselect/nsswitch.conf: such a file is edited in place through
 * the link. Any other link is refused before anything is changed. */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostconf/sysconf-internal.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/mkdir-util.h"
#include "basic/path-util.h"

#define NSS_SERVICE "oslogin"
#define CHANGED_FILE "nsswitch.changed"

static bool is_database_line(const char *line, const char *db)
{
        while (*line == ' ' || *line == '\t')
                line++;
        size_t n = strlen(db);
        return strncmp(line, db, n) == 0 && line[n] == ':';
}

static bool has_token(const char *line, const char *token)
{
        const char *p = strchr(line, ':');
        size_t n = strlen(token);
        for (p = p ? p + 1 : line; *p;) {
                p += strspn(p, " \t");
                size_t len = strcspn(p, " \t");
                if (len == n && strncmp(p, token, n) == 0)
                        return true;
                p += len;
        }
        return false;
}

/* Where " oslogin" goes in LINE: right after "files" (or "compat") and the
 * [STATUS=action] items that belong to it, so the services after it (Debian's
 * "systemd", which probes userdb sockets on every lookup) are asked only for
 * names neither the files nor we know. Without such a service, the end of the
 * service list (before a comment). */
static size_t insert_position(const char *line)
{
        const char *p = strchr(line, ':');
        const char *end = line + strcspn(line, "#");

        for (p = p ? p + 1 : line; p < end;) {
                p += strspn(p, " \t");
                size_t len = strcspn(p, " \t#[");
                if (len == 0 && *p == '[' && strchr(p, ']') && strchr(p, ']') < end) {
                        p = strchr(p, ']') + 1; /* another service's action item */
                        continue;
                }
                if (len == 0)
                        break;
                bool ours = (len == 5 && strneq(p, "files", 5)) || (len == 6 && strneq(p, "compat", 6));
                p += len;
                if (!ours)
                        continue;
                for (;;) { /* its action items, "[NOTFOUND=return]" */
                        const char *q = p + strspn(p, " \t");
                        if (*q != '[' || !strchr(q, ']'))
                                break;
                        p = strchr(q, ']') + 1;
                }
                return (size_t)(p - line);
        }
        /* No "files": after the last service, keeping trailing blanks and a comment. */
        while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        return (size_t)(end - line);
}

/* Removes the " oslogin" an activation inserted (anywhere: older versions
 * appended it): the token and the one blank before it, which we added. */
static void remove_token(char *line)
{
        const char *colon = strchr(line, ':');
        size_t n = strlen(NSS_SERVICE);

        for (char *p = colon ? (char *)colon + 1 : line; (p = strstr(p, NSS_SERVICE)); p += n) {
                bool starts = p > line && p[-1] == ' ';
                bool ends = p[n] == '\0' || strchr(" \t#[", p[n]);
                if (starts && ends) {
                        memmove(p - 1, p + n, strlen(p + n) + 1);
                        return;
                }
        }
}

/* Rewrites nsswitch.conf: with ADD, inserts the service into the databases
 * (those it inserts listed in *CHANGED); without, removes what ADD inserted,
 * giving back the original lines byte for byte. */
static char *edit_nsswitch(const char *text, bool add, char *changed, size_t changed_size)
{
        static const char *const dbs[] = {"passwd", "group", "initgroups"};
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);

        if (!out)
                return NULL;
        for (const char *p = text; *p;) {
                size_t l = strcspn(p, "\n");
                bool nl = p[l] == '\n';
                char line[4096];
                if (l >= sizeof(line) - 16) {
                        fclose(out);
                        free(buf);
                        return NULL;
                }
                memcpy(line, p, l);
                line[l] = '\0';
                for (size_t i = 0; i < ELEMENTSOF(dbs); i++) {
                        if (!is_database_line(line, dbs[i]))
                                continue;
                        char tag[32];
                        snprintf(tag, sizeof(tag), " %s ", dbs[i]);
                        bool recorded = strstr(changed, tag);
                        /* Ours from an earlier activation: out, then back in
                         * its place (an upgrade moves it after "files"). */
                        if (recorded && has_token(line, NSS_SERVICE))
                                remove_token(line);
                        if (add && !has_token(line, NSS_SERVICE)) {
                                size_t at = insert_position(line), sl = strlen(" " NSS_SERVICE);
                                memmove(line + at + sl, line + at, strlen(line + at) + 1);
                                memcpy(line + at, " " NSS_SERVICE, sl);
                                if (!recorded)
                                        strncat(changed, tag, changed_size - strlen(changed) - 1);
                        }
                }
                fprintf(out, "%s%s", line, nl ? "\n" : "");
                p += l + (nl ? 1 : 0);
        }
        if (fclose(out) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

int sysconf_nsswitch_locate(
        const struct sysconf_options *o, int *ret_dir_fd, char **ret_name, char **ret_path)
{
        _cleanup_free_ char *link = NULL, *etc = NULL;
        char target[PATH_MAX];
        struct stat st;

        if (path_join_root(o->root, "/etc/nsswitch.conf", &link) < 0 ||
                path_join_root(o->root, "/etc/", &etc) < 0)
                return -ENOMEM;
        if (lstat(link, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                int fd = sysconf_open_dir(o, "/etc");
                if (fd < 0)
                        return fd;
                if (!(*ret_name = strdup("nsswitch.conf")) || !(*ret_path = strdup("/etc/nsswitch.conf"))) {
                        free(*ret_name);
                        safe_close(fd);
                        return -ENOMEM;
                }
                *ret_dir_fd = fd;
                return 0;
        }
        if (!S_ISLNK(st.st_mode))
                return -EBADFD;
        /* The link's final target, every component resolved: under ROOT/etc,
         * a regular file that root owns and only root may write. */
        if (!realpath(link, target))
                return errno == ENOENT || errno == ELOOP ? -EPERM : -errno;
        if (!strneq(target, etc, strlen(etc)) || lstat(target, &st) < 0 || !S_ISREG(st.st_mode) ||
                st.st_uid != 0 || (st.st_mode & 022))
                return -EPERM;
        _cleanup_free_ char *dir = strdup(target), *name = strdup(basename(target));
        if (!dir || !name)
                return -ENOMEM;
        int fd = open_dir_nofollow(AT_FDCWD, dirname(dir), 0);
        if (fd < 0)
                return fd;
        /* The path on the host: TARGET without ROOT, so from the "/etc/" that ETC ends with. */
        if (!(*ret_path = strdup(target + strlen(etc) - strlen("/etc/")))) {
                safe_close(fd);
                return -ENOMEM;
        }
        *ret_dir_fd = fd;
        *ret_name = TAKE_PTR(name);
        return 0;
}

static int locate_for_plan(
        const struct sysconf_options *o, struct sysconf_plan *p, int *fd, char **name, char **path)
{
        int r = sysconf_nsswitch_locate(o, fd, name, path);
        if (r == -EPERM || r == -EBADFD) {
                char target[PATH_MAX] = "";
                _cleanup_free_ char *link = NULL;
                if (path_join_root(o->root, "/etc/nsswitch.conf", &link) >= 0) {
                        ssize_t n = readlink(link, target, sizeof(target) - 1);
                        target[n > 0 ? n : 0] = '\0';
                }
                return sysconf_plan_fail(p, -EPERM,
                        "nsswitch: /etc/nsswitch.conf %s%s, not a root-owned regular file under /etc: "
                        "refused",
                        target[0] ? "links to " : "is not a regular file", target);
        }
        if (r < 0)
                return sysconf_plan_fail(p, r, "nsswitch: cannot use /etc/nsswitch.conf");
        return 0;
}

int sysconf_plan_nsswitch(const struct sysconf_options *o, bool add, struct sysconf_plan *p)
{
        _cleanup_free_ char *name = NULL, *path = NULL, *text = NULL, *filtered = NULL, *edited = NULL;
        _cleanup_free_ char *state_dir = NULL, *recorded = NULL;
        _cleanup_close_ int dir = -EBADF, state = -EBADF;
        struct takeover_removed removed;
        char changed[128] = "";
        int r;

        r = locate_for_plan(o, p, &dir, &name, &path);
        if (r < 0 && !add && (r == -ENOENT || r == -EPERM)) {
                /* Switching off must not stop at a file we would never have
                 * edited: sshd and PAM still go back. */
                if (r == -EPERM)
                        log_warning("Leaving nsswitch.conf alone: %s.", p->failed_step);
                p->failed_step[0] = '\0';
                return 0;
        }
        if (r < 0)
                return r == -ENOENT ? sysconf_plan_fail(p, r, "nsswitch: /etc/nsswitch.conf is missing") : r;
        if ((r = read_file_bounded(dir, name, MAX_CONFIG_SIZE, &text, NULL)) < 0)
                return sysconf_plan_fail(p, r, "nsswitch: cannot read %s", path);
        if (path_join_root(o->root, OSLOGIN_STATE_DIR, &state_dir) < 0)
                return -ENOMEM;
        if ((state = mkdir_p_open(AT_FDCWD, state_dir, 0755, 0755)) < 0)
                return sysconf_plan_fail(p, state, "state: cannot open " OSLOGIN_STATE_DIR);
        /* What earlier activations appended stays recorded until deactivate. */
        bool have_record = read_file_bounded(state, CHANGED_FILE, 128, &recorded, NULL) == 0;
        if (have_record)
                snprintf(changed, sizeof(changed), "%s", recorded);
        if (!(filtered = takeover_filter(TAKEOVER_NSSWITCH, text, &removed)))
                return -ENOMEM;
        if (add || have_record) {
                if (!(edited = edit_nsswitch(filtered, add, changed, sizeof(changed))))
                        return -ENOMEM;
        } else
                edited = TAKE_PTR(filtered);
        r = sysconf_plan_add(p, "nsswitch", path, TAKE_FD(dir), name, TAKE_PTR(edited), &removed);
        if (r < 0)
                return r;
        char *record = add && (have_record || changed[0]) ? strdup(changed) : NULL;
        if (add && (have_record || changed[0]) && !record)
                return -ENOMEM;
        return sysconf_plan_add(
                p, "state", OSLOGIN_STATE_DIR "/" CHANGED_FILE, TAKE_FD(state), CHANGED_FILE, record, NULL);
}

bool sysconf_nsswitch_active(const struct sysconf_options *o)
{
        _cleanup_free_ char *name = NULL, *path = NULL, *ns = NULL;
        _cleanup_close_ int dir = -EBADF;
        bool active = false;

        if (sysconf_nsswitch_locate(o, &dir, &name, &path) < 0 ||
                read_file_bounded(dir, name, MAX_CONFIG_SIZE, &ns, NULL) < 0)
                return false;
        for (const char *p = ns; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (is_database_line(p, "passwd")) {
                        char line[1024];
                        snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
                        active = has_token(line, NSS_SERVICE);
                }
        return active;
}
