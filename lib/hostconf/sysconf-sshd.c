/* SPDX-License-Identifier: Apache-2.0 */
/* The sshd part of the host configuration: our settings in a drop-in that
 * sorts first (when sshd_config includes sshd_config.d/), else in a marked
 * block at the top of sshd_config; the guest agent's blocks and lines in
 * sshd_config removed in the same step (theirs sit at the top too, and
 * sshd takes the first value of a keyword). */

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostconf/sshd-policy.h"
#include "hostconf/sysconf-internal.h"
#include "basic/atomic-file.h"
#include "basic/local-db.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/path-util.h"

#define SSHD_DROPIN "00-oslogin.conf"

extern char **environ;

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

char *sysconf_sshd_settings(const struct sysconf_options *o)
{
        const struct sshd_policy p = {
                .certificates = o->certificates,
                .cert_authentication = o->cert_authentication,
                .security_keys = o->security_keys,
                .two_factor = o->two_factor,
                .keys_command = o->akc_path,
                .keys_command_user = o->akc_user,
                .principals_command = o->principals_path,
                .principals_user = o->akc_user,
                .trusted_ca_file = o->trusted_ca_path,
                .users_group = isempty(o->users_group) ? NULL : o->users_group,
        };
        _cleanup_free_ char *lines = NULL;
        char *s;

        if (sshd_policy_lines(&p, &lines) < 0)
                return NULL;
        /* The policy's Match blocks go last: each runs to the end of the file. */
        char *match = strstr(lines, "Match ");
        size_t head = match ? (size_t)(match - lines) : strlen(lines);
        if (asprintf(&s,
                    "# Written by osloginctl activate (OS Login); removed by osloginctl deactivate.\n"
                    "%.*s"
                    "PermitRootLogin no\n"
                    "PasswordAuthentication no\n"
                    "%s%s",
                    (int)head, lines, o->two_factor ? "" : "KbdInteractiveAuthentication no\n",
                    match ?: "") < 0)
                return NULL;
        return s;
}

int sysconf_run_sshd_test(const struct sysconf_options *o)
{
        _cleanup_free_ char *config = NULL;
        pid_t pid;
        int status;

        if (!o->sshd_path || access(o->sshd_path, X_OK) < 0)
                return 0;
        if (path_join_root(o->root, "/etc/ssh/sshd_config", &config) < 0)
                return -ENOMEM;
        char *argv[] = {(char *)o->sshd_path, "-t", "-f", config, NULL};
        char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        int r = posix_spawn(&pid, o->sshd_path, NULL, NULL, argv, envp);
        if (r != 0)
                return -r;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

int sysconf_plan_sshd(const struct sysconf_options *o, bool add, struct sysconf_plan *p)
{
        _cleanup_close_ int ssh = sysconf_open_dir(o, "/etc/ssh");
        _cleanup_free_ char *config = NULL, *filtered = NULL, *base = NULL, *next = NULL;
        struct takeover_removed removed;
        int r;

        if (ssh == -ENOENT)
                return 0; /* no sshd installed: nothing to configure */
        if (ssh < 0)
                return sysconf_plan_fail(p, ssh, "sshd: cannot open /etc/ssh");
        r = read_file_bounded(ssh, "sshd_config", MAX_CONFIG_SIZE, &config, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return sysconf_plan_fail(p, r, "sshd: cannot read /etc/ssh/sshd_config");
        if (add && !isempty(o->users_group)) {
                /* `Match Group` names a group: a local one of that name would
                 * take its members' own authorized_keys away. */
                _cleanup_local_db_ struct local_db *db = NULL;
                r = local_db_load(o->root, &db);
                if (r < 0)
                        return sysconf_plan_fail(p, r, "sshd: cannot read /etc/group");
                if (local_db_has_group(db, o->users_group))
                        return sysconf_plan_fail(p, -EEXIST,
                                "sshd: the OS Login users group \"%s\" is a local group", o->users_group);
        }
        if (!(filtered = takeover_filter(TAKEOVER_SSHD, config, &removed)) ||
                !(base = config_file_without_block(filtered)))
                return -ENOMEM;
        bool dropin = includes_dropin_dir(base);
        if (dropin) {
                int dir = openat(ssh, "sshd_config.d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir < 0)
                        return sysconf_plan_fail(p, -errno, "sshd: cannot open /etc/ssh/sshd_config.d");
                char *settings = add ? sysconf_sshd_settings(o) : NULL;
                if (add && !settings) {
                        safe_close(dir);
                        return -ENOMEM;
                }
                r = sysconf_plan_add(
                        p, "sshd", "/etc/ssh/sshd_config.d/" SSHD_DROPIN, dir, SSHD_DROPIN, settings, NULL);
                if (r < 0)
                        return r;
                next = TAKE_PTR(base);
        } else if (add) {
                /* Without a drop-in, the Match blocks go in a second block at
                 * the end of sshd_config: at the top they would swallow it. */
                _cleanup_free_ char *settings = sysconf_sshd_settings(o);
                char *match = settings ? strstr(settings, "\nMatch ") : NULL;
                if (!settings)
                        return -ENOMEM;
                if (match)
                        *match++ = '\0';
                if (asprintf(&next, BLOCK_BEGIN "\n%s%s" BLOCK_END "\n%s%s%s%s%s", settings,
                            match ? "\n" : "", base,
                            match && *base && base[strlen(base) - 1] != '\n' ? "\n" : "",
                            match ? BLOCK_BEGIN "\n" : "", match ?: "", match ? BLOCK_END "\n" : "") < 0)
                        return -ENOMEM;
        } else
                next = TAKE_PTR(base);
        int fd = fcntl(ssh, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        return sysconf_plan_add(
                p, "sshd", "/etc/ssh/sshd_config", fd, "sshd_config", TAKE_PTR(next), &removed);
}

bool sysconf_sshd_status(const struct sysconf_options *o, bool *ret_two_factor)
{
        _cleanup_close_ int ssh = sysconf_open_dir(o, "/etc/ssh");
        _cleanup_free_ char *config = NULL, *dropin = NULL;
        bool active = false;

        *ret_two_factor = false;
        if (ssh >= 0 && read_file_bounded(ssh, "sshd_config", MAX_CONFIG_SIZE, &config, NULL) == 0) {
                const char *block = strstr(config, BLOCK_BEGIN);
                active = block != NULL;
                *ret_two_factor =
                        block && strstr(block, "AuthenticationMethods publickey,keyboard-interactive");
                _cleanup_close_ int dir =
                        openat(ssh, "sshd_config.d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir >= 0 && read_file_bounded(dir, SSHD_DROPIN, MAX_CONFIG_SIZE, &dropin, NULL) == 0) {
                        active = true;
                        *ret_two_factor =
                                strstr(dropin, "AuthenticationMethods publickey,keyboard-interactive");
                }
        }
        return active;
}
