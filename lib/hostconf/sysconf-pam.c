/* SPDX-License-Identifier: Apache-2.0 */
/* The PAM part of the OS Login host configuration: a marked block at the
 * top of /etc/pam.d/sshd.
 *
 * account: pam_oslogin asks the metadata server whether an OS Login user
 * may log in now and settles their sudo rights; local users get
 * PAM_IGNORE, so the rest of the stack is untouched for them.
 * auth: OS Login users have no password; with two-factor the module runs
 * the challenge flow and ends the auth stack on success. Neither line
 * stops the stack for a user the module does not know.
 * session: OS Login users have no home until their first login;
 * pam_mkhomedir makes it from /etc/skel (optional: a no-op for users who
 * have one). */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostconf/sysconf-internal.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/path-util.h"

#define PAM_SERVICE "sshd"

char *sysconf_pam_block(const struct sysconf_options *o)
{
        char *s;
        if (asprintf(&s,
                    BLOCK_BEGIN "\n"
                                "auth [success=done perm_denied=die auth_err=die default=ignore] %s%s\n"
                                "account required %s\n"
                                "session optional pam_mkhomedir.so skel=/etc/skel umask=0077\n" BLOCK_END
                                "\n",
                    o->pam_module, o->two_factor ? " twofactor" : "", o->pam_module) < 0)
                return NULL;
        return s;
}

static bool module_installed(const struct sysconf_options *o)
{
        _cleanup_free_ char *module = NULL, *path = NULL;
        if (o->pam_module[0] == '/')
                return access(o->pam_module, R_OK) == 0;
        if (asprintf(&module, OSLOGIN_PAMDIR "/%s", o->pam_module) < 0 ||
                path_join_root(o->root, module, &path) < 0)
                return false;
        return access(path, R_OK) == 0;
}

int sysconf_plan_pam(const struct sysconf_options *o, bool add, struct sysconf_plan *p)
{
        _cleanup_close_ int dir = sysconf_open_dir(o, "/etc/pam.d");
        _cleanup_free_ char *stack = NULL, *filtered = NULL, *rest = NULL, *block = NULL;
        struct takeover_removed removed;
        char *next = NULL;
        int r;

        if (dir == -ENOENT)
                return 0; /* no PAM: nothing to configure */
        if (dir < 0)
                return sysconf_plan_fail(p, dir, "PAM: cannot open /etc/pam.d");
        r = read_file_bounded(dir, PAM_SERVICE, MAX_CONFIG_SIZE, &stack, NULL);
        if (r == -ENOENT)
                return 0; /* no sshd stack (sshd not installed) */
        if (r < 0)
                return sysconf_plan_fail(p, r, "PAM: cannot read /etc/pam.d/" PAM_SERVICE);
        if (!(filtered = takeover_filter(TAKEOVER_PAM, stack, &removed)) ||
                !(rest = config_file_without_block(filtered)))
                return -ENOMEM;
        if (add && !module_installed(o)) {
                log_warning("%s is not installed: /etc/pam.d/" PAM_SERVICE
                            " left without it (no sudo grants at "
                            "login; install libpam-oslogin).",
                        o->pam_module);
                add = false; /* and an old block naming it goes */
        }
        if (add) {
                if (!(block = sysconf_pam_block(o)) || asprintf(&next, "%s%s", block, rest) < 0)
                        return -ENOMEM;
        } else
                next = TAKE_PTR(rest);
        return sysconf_plan_add(
                p, "PAM", "/etc/pam.d/" PAM_SERVICE, TAKE_FD(dir), PAM_SERVICE, next, &removed);
}

bool sysconf_pam_active(const struct sysconf_options *o)
{
        _cleanup_close_ int dir = sysconf_open_dir(o, "/etc/pam.d");
        _cleanup_free_ char *stack = NULL;

        return dir >= 0 && read_file_bounded(dir, PAM_SERVICE, MAX_CONFIG_SIZE, &stack, NULL) == 0 &&
               strstr(stack, BLOCK_BEGIN "\n");
}
