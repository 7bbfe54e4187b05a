/* SPDX-License-Identifier: Apache-2.0 */
/* osloginctl: switch the host's OS Login configuration on and off by hand,
 * and show where things stand. accountsd does the same from metadata. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "accountsd/sysconf.h"
#include "basic/atomic-file.h"
#include "basic/log.h"

static int usage(FILE *f, int status)
{
        fprintf(f, "Usage: osloginctl [--root DIR] [--no-reload] COMMAND\n"
                   "  activate     configure sshd and nsswitch for OS Login\n"
                   "  deactivate   undo exactly what activate did\n"
                   "  status       show the host configuration and the accounts daemon's state\n"
                   "See osloginctl(8).\n");
        return status;
}

static void print_state_file(const char *root, const char *name, const char *label)
{
        _cleanup_free_ char *dir = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t lines = 0;

        if (asprintf(&dir, "%s" OSLOGIN_LOCALSTATEDIR "/lib/oslogin", streq(root, "/") ? "" : root) < 0)
                return;
        fd = open_dir_nofollow(AT_FDCWD, dir, 0);
        if (fd >= 0 && read_file_bounded(fd, name, 16 * 1024 * 1024, &data, NULL) == 0)
                for (const char *p = data; (p = strchr(p, '\n')); p++)
                        lines++;
        printf("%-22s %zu\n", label, lines);
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"root", required_argument, NULL, 'r'},
                {"no-reload", no_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct sysconf_options o;
        int c, r;

        log_open("osloginctl", LOG_TARGET_STDERR, LOG_AUTHPRIV);
        sysconf_options_default(&o);
        while ((c = getopt_long(argc, argv, "r:nh", options, NULL)) >= 0) {
                switch (c) {
                case 'r': o.root = optarg; break;
                case 'n': o.reload_sshd = false; break;
                case 'h': return usage(stdout, 0);
                default: return usage(stderr, 2);
                }
        }
        if (optind != argc - 1)
                return usage(stderr, 2);
        const char *cmd = argv[optind];
        if (streq(cmd, "activate") || streq(cmd, "deactivate")) {
                r = streq(cmd, "activate") ? sysconf_activate(&o) : sysconf_deactivate(&o);
                if (r < 0) {
                        log_error_errno(r, "%s failed, configuration left as it was: %m", cmd);
                        return 1;
                }
                printf("OS Login configuration %s.\n", streq(cmd, "activate") ? "active" : "inactive");
                return 0;
        }
        if (streq(cmd, "status")) {
                struct sysconf_status s;
                if ((r = sysconf_get_status(&o, &s)) < 0)
                        return log_error_errno(r, "Cannot read the configuration: %m"), 1;
                printf("%-22s %s\n", "nsswitch (oslogin)", s.nsswitch ? "active" : "inactive");
                printf("%-22s %s\n", "sshd (OS Login keys)", s.sshd ? "active" : "inactive");
                print_state_file(o.root, "users", "metadata users");
                print_state_file(o.root, "uidmap", "UIDs remembered");
                return 0;
        }
        log_error("Unknown command \"%s\".", cmd);
        return usage(stderr, 2);
}
