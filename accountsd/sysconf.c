/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "accountsd/sysconf-internal.h"
#include "accountsd/sysconf.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/macro.h"

#define SSHD_DROPIN "00-oslogin.conf"
#define NSS_SERVICE "oslogin"

extern char **environ;

void sysconf_options_default(struct sysconf_options *o)
{
        *o = (struct sysconf_options){
                .root = "/",
                .akc_path = OSLOGIN_SBINDIR "/oslogin-authorized-keys",
                .akc_user = "_oslogin",
                .sshd_path = "/usr/sbin/sshd",
                .pam_module = "pam_oslogin.so",
                .reload_sshd = true,
        };
}

const char *sysconf_prefix(const struct sysconf_options *o)
{
        return isempty(o->root) || streq(o->root, "/") ? "" : o->root;
}

int sysconf_open_dir(const struct sysconf_options *o, const char *dir)
{
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s%s", sysconf_prefix(o), dir) < 0)
                return -ENOMEM;
        return open_dir_nofollow(AT_FDCWD, p, 0);
}

/* Keeps the original's mode and owner. */
int sysconf_replace_file(int dir_fd, const char *name, const char *content)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                st.st_mode = 0644;
                st.st_uid = 0;
                st.st_gid = 0;
        }
        return write_file_atomic(
                dir_fd, name, content, strlen(content), st.st_mode & 07777, st.st_uid, st.st_gid);
}

/* nsswitch.conf ---------------------------------------------------------- */

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

/* Rewrites nsswitch.conf: with ADD, appends the service to the databases
 * listed in *CHANGED (filling it); without, removes what ADD appended. */
static char *edit_nsswitch(const char *text, bool add, char *changed, size_t changed_size)
{
        static const char *const dbs[] = {"passwd", "group", "initgroups"};
        size_t size = strlen(text) + 64, len = 0;
        char *out = malloc(size);
        const char *p = text;

        if (!out)
                return NULL;
        while (*p) {
                size_t l = strcspn(p, "\n");
                bool nl = p[l] == '\n';
                char line[4096];
                if (l >= sizeof(line) - 16) {
                        free(out);
                        return NULL;
                }
                memcpy(line, p, l);
                line[l] = '\0';
                for (size_t i = 0; i < ELEMENTSOF(dbs); i++) {
                        if (!is_database_line(line, dbs[i]))
                                continue;
                        char tag[32];
                        snprintf(tag, sizeof(tag), " %s ", dbs[i]);
                        if (add && !has_token(line, NSS_SERVICE)) {
                                strcat(line, " " NSS_SERVICE);
                                if (!strstr(changed, tag))
                                        strncat(changed, tag, changed_size - strlen(changed) - 1);
                        } else if (!add && strstr(changed, tag)) {
                                size_t ll = strlen(line), sl = strlen(" " NSS_SERVICE);
                                if (ll >= sl && streq(line + ll - sl, " " NSS_SERVICE))
                                        line[ll - sl] = '\0';
                        }
                }
                size_t need = strlen(line) + 2;
                if (len + need + 1 > size) {
                        size = (len + need + 1) * 2;
                        char *grown = realloc(out, size);
                        if (!grown) {
                                free(out);
                                return NULL;
                        }
                        out = grown;
                }
                len += (size_t)sprintf(out + len, "%s%s", line, nl ? "\n" : "");
                p += l + (nl ? 1 : 0);
        }
        out[len] = '\0';
        return out;
}

static int nsswitch_apply(const struct sysconf_options *o, bool add)
{
        _cleanup_close_ int etc = sysconf_open_dir(o, "/etc"), state = -EBADF;
        _cleanup_free_ char *text = NULL, *edited = NULL, *recorded = NULL;
        _cleanup_free_ char *state_dir = NULL;
        char changed[128] = "";
        int r;

        if (etc < 0)
                return etc;
        if ((r = read_file_bounded(etc, "nsswitch.conf", MAX_CONFIG_SIZE, &text, NULL)) < 0)
                return log_error_errno(r, "Cannot read nsswitch.conf: %m");
        if (asprintf(&state_dir, "%s" OSLOGIN_LOCALSTATEDIR "/lib/oslogin", sysconf_prefix(o)) < 0)
                return -ENOMEM;
        (void)mkdir(state_dir, 0755);
        state = open_dir_nofollow(AT_FDCWD, state_dir, 0);
        if (state < 0)
                return state;
        /* What earlier activations appended stays recorded until deactivate. */
        if (read_file_bounded(state, "nsswitch.changed", 128, &recorded, NULL) == 0)
                snprintf(changed, sizeof(changed), "%s", recorded);
        else if (!add)
                return 0; /* we changed nothing */
        edited = edit_nsswitch(text, add, changed, sizeof(changed));
        if (!edited)
                return -ENOMEM;
        if (add && (!recorded || !streq(recorded, changed)) &&
                (r = write_file_atomic(state, "nsswitch.changed", changed, strlen(changed), 0644, 0, 0)) < 0)
                return r;
        if (!streq(edited, text) && (r = sysconf_replace_file(etc, "nsswitch.conf", edited)) < 0)
                return log_error_errno(r, "Cannot write nsswitch.conf: %m");
        if (!add)
                (void)unlinkat(state, "nsswitch.changed", 0);
        return 0;
}

/* sshd ---------------------------------------------------------------------- */

static bool includes_dropin_dir(const char *config)
{
        for (const char *p = config; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (strncasecmp(p, "Include", 7) == 0 && (p[7] == ' ' || p[7] == '\t')) {
                        size_t l = strcspn(p, "\n");
                        char line[1024];
                        snprintf(line, sizeof(line), "%.*s", (int)MIN(l, sizeof(line) - 1), p);
                        if (strstr(line, "sshd_config.d/"))
                                return true;
                }
        }
        return false;
}

static char *sshd_settings(const struct sysconf_options *o)
{
        char *s;
        if (asprintf(&s,
                    "# Written by osloginctl activate (OS Login); removed by osloginctl deactivate.\n"
                    "AuthorizedKeysCommand %s %%u %%f\n"
                    "AuthorizedKeysCommandUser %s\n"
                    "PermitRootLogin no\n"
                    "PasswordAuthentication no\n"
                    "%s",
                    o->akc_path, o->akc_user,
                    o->two_factor ? "KbdInteractiveAuthentication yes\n"
                                    "AuthenticationMethods publickey,keyboard-interactive\n"
                                  : "KbdInteractiveAuthentication no\n") < 0)
                return NULL;
        return s;
}

char *sysconf_without_block(const char *text)
{
        const char *b = strstr(text, BLOCK_BEGIN "\n"), *e = b ? strstr(b, BLOCK_END "\n") : NULL;
        if (!b || !e)
                return strdup(text);
        char *out;
        if (asprintf(&out, "%.*s%s", (int)(b - text), text, e + strlen(BLOCK_END "\n")) < 0)
                return NULL;
        return out;
}

static int run_sshd_test(const struct sysconf_options *o)
{
        _cleanup_free_ char *config = NULL;
        pid_t pid;
        int status;

        if (!o->sshd_path || access(o->sshd_path, X_OK) < 0)
                return 0;
        if (asprintf(&config, "%s/etc/ssh/sshd_config", sysconf_prefix(o)) < 0)
                return -ENOMEM;
        char *argv[] = {(char *)o->sshd_path, "-t", "-f", config, NULL};
        char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        if (posix_spawn(&pid, o->sshd_path, NULL, NULL, argv, envp) != 0)
                return -errno;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

static void reload_sshd(const struct sysconf_options *o)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int run = sysconf_open_dir(o, "/run");
        if (!o->reload_sshd || run < 0 || read_file_bounded(run, "sshd.pid", 64, &data, NULL) < 0)
                return;
        long pid = strtol(data, NULL, 10);
        if (pid > 1 && kill((pid_t)pid, SIGHUP) == 0)
                log_info("Reloaded sshd (PID %ld).", pid);
}

static int sshd_apply(const struct sysconf_options *o, bool add)
{
        _cleanup_close_ int ssh = sysconf_open_dir(o, "/etc/ssh");
        _cleanup_free_ char *config = NULL, *settings = NULL, *edited = NULL, *old_dropin = NULL;
        int r;

        if (ssh < 0)
                return ssh == -ENOENT ? 0 : ssh; /* no sshd installed: nothing to configure */
        if ((r = read_file_bounded(ssh, "sshd_config", MAX_CONFIG_SIZE, &config, NULL)) < 0)
                return log_error_errno(r, "Cannot read sshd_config: %m");
        if (!(settings = sshd_settings(o)) || !(edited = sysconf_without_block(config)))
                return -ENOMEM;
        bool dropin = includes_dropin_dir(config);
        _cleanup_close_ int dir =
                dropin ? openat(ssh, "sshd_config.d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                       : -EBADF;
        if (dropin && dir < 0)
                return -errno;
        if (dropin) {
                (void)read_file_bounded(dir, SSHD_DROPIN, MAX_CONFIG_SIZE, &old_dropin, NULL);
                /* Nothing to do: no sshd -t, and above all no reload (accountsd
                 * applies the configuration at every start). */
                if (add ? old_dropin && streq(old_dropin, settings) : !old_dropin)
                        return 0;
                r = add ? write_file_atomic(dir, SSHD_DROPIN, settings, strlen(settings), 0644, 0, 0)
                        : (unlinkat(dir, SSHD_DROPIN, 0) < 0 && errno != ENOENT ? -errno : 0);
        } else {
                _cleanup_free_ char *block = NULL;
                if (add && asprintf(&block, BLOCK_BEGIN "\n%s" BLOCK_END "\n%s", settings, edited) < 0)
                        return -ENOMEM;
                const char *next = add ? block : edited;
                if (streq(next, config))
                        return 0;
                r = sysconf_replace_file(ssh, "sshd_config", next);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot write the sshd configuration: %m");
        /* A configuration sshd rejects is rolled back before anyone reloads it. */
        if (run_sshd_test(o) < 0) {
                log_error("sshd -t rejects the new configuration; rolling back.");
                if (dropin)
                        r = old_dropin ? write_file_atomic(dir, SSHD_DROPIN, old_dropin, strlen(old_dropin),
                                                 0644, 0, 0)
                                       : (unlinkat(dir, SSHD_DROPIN, 0) < 0 ? -errno : 0);
                else
                        r = sysconf_replace_file(ssh, "sshd_config", config);
                return r < 0 ? r : -EINVAL;
        }
        reload_sshd(o);
        return 0;
}

/* PAM before sshd: sshd never runs with the keys helper but without the
 * account check. Deactivation in the reverse order. */
int sysconf_activate(const struct sysconf_options *o)
{
        bool pam_before = sysconf_pam_active(o);
        int r = sysconf_pam_apply(o, true);

        if (r < 0)
                return r;
        if ((r = sshd_apply(o, true)) < 0) {
                if (!pam_before) /* as it was: a failed activate changes nothing */
                        (void)sysconf_pam_apply(o, false);
                return r;
        }
        return nsswitch_apply(o, true);
}

int sysconf_deactivate(const struct sysconf_options *o)
{
        int r = nsswitch_apply(o, false);
        if (r < 0)
                return r;
        if ((r = sshd_apply(o, false)) < 0)
                return r;
        return sysconf_pam_apply(o, false);
}

int sysconf_get_status(const struct sysconf_options *o, struct sysconf_status *ret)
{
        _cleanup_close_ int etc = sysconf_open_dir(o, "/etc"), ssh = sysconf_open_dir(o, "/etc/ssh");
        _cleanup_free_ char *ns = NULL, *config = NULL, *dropin = NULL;
        struct sysconf_status s = {};

        if (etc >= 0 && read_file_bounded(etc, "nsswitch.conf", MAX_CONFIG_SIZE, &ns, NULL) == 0)
                for (const char *p = ns; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                        if (is_database_line(p, "passwd")) {
                                char line[1024];
                                snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
                                s.nsswitch = has_token(line, NSS_SERVICE);
                        }
        if (ssh >= 0 && read_file_bounded(ssh, "sshd_config", MAX_CONFIG_SIZE, &config, NULL) == 0) {
                const char *block = strstr(config, BLOCK_BEGIN);
                s.sshd = block != NULL;
                s.two_factor =
                        block && strstr(block, "AuthenticationMethods publickey,keyboard-interactive");
                _cleanup_close_ int dir =
                        openat(ssh, "sshd_config.d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir >= 0 && read_file_bounded(dir, SSHD_DROPIN, MAX_CONFIG_SIZE, &dropin, NULL) == 0) {
                        s.sshd = true;
                        s.two_factor =
                                strstr(dropin, "AuthenticationMethods publickey,keyboard-interactive");
                }
        }
        s.pam = sysconf_pam_active(o);
        *ret = s;
        return 0;
}
