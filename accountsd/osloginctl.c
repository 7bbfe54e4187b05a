/* SPDX-License-Identifier: Apache-2.0 */
/* osloginctl: the admin CLI of oslogin-accountsd. activate/deactivate switch
 * the host configuration by hand (accountsd does it from enable-oslogin);
 * status and refresh talk to the daemon's control socket; lookup asks its
 * NSS socket exactly as libnss_oslogin.so.2 does on a miss. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "accountsd/control.h"
#include "accountsd/manager.h"
#include "accountsd/mode.h"
#include "accountsd/purge.h"
#include "accountsd/sysconf.h"
#include "accountsd/takeover.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/nss-proto.h"
#include "basic/parse-util.h"
#include "mds/config.h"

/* Exit codes: 0 done/found, 1 failure (daemon unreachable, unavailable),
 * 2 usage, 3 not found (lookup) or daemon not running (status). */
enum { EXIT_USAGE = 2, EXIT_NOTFOUND = 3 };

#define LOOKUP_TIMEOUT_MS 5000u

struct options {
        struct sysconf_options sysconf;
        const char *runtime_dir;
};

static int usage(FILE *f, int status)
{
        fprintf(f,
                "Usage: osloginctl [OPTIONS] COMMAND\n"
                "Commands:\n"
                "  status                   host configuration and the accounts daemon's state\n"
                "  refresh                  re-fetch the metadata and rebuild the directory cache now\n"
                "  lookup user NAME|UID     ask the daemon as the NSS module does; prints a passwd line\n"
                "  lookup group NAME|GID    the same for a group; prints a group line\n"
                "  activate                 configure sshd, nsswitch and PAM for OS Login\n"
                "  deactivate               undo exactly what activate did\n"
                "  revoke                   take back every key, sudo right and group the daemon granted\n"
                "Options:\n"
                "  --root DIR               activate/deactivate/status on DIR/etc, DIR/var (tests)\n"
                "  --runtime-dir DIR        the daemon's sockets (default " OSLOGIN_RUNSTATEDIR "/oslogin)\n"
                "  --no-reload              do not signal sshd after activate/deactivate\n"
                "  --two-factor             activate: keyboard-interactive two-factor after the key\n"
                "  --pam-module NAME|PATH   activate: the PAM module to name (default pam_oslogin.so)\n"
                "  --help                   this text\n"
                "Exit status: 0 success, 1 failure, 2 usage, 3 not found / daemon not running.\n"
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

/* manage_host_config = false: what the administrator adds by hand. */
static void print_manual_if_unmanaged(const struct options *o)
{
        struct oslogin_config c;
        if (config_load(NULL, 0, &c) < 0)
                return;
        if (!c.manage_host_config)
                sysconf_print_manual(&o->sysconf, stdout);
        config_free(&c);
}

static int cmd_status(const struct options *o)
{
        _cleanup_free_ char *reply = NULL;
        struct sysconf_status s;
        int r;

        if ((r = sysconf_get_status(&o->sysconf, &s)) < 0) {
                log_error_errno(r, "Cannot read the host configuration: %m");
                return 1;
        }
        printf("%-22s %s\n", "mode (recorded)", host_mode_to_string(host_mode_load(o->sysconf.root)));
        printf("%-22s %s\n", "nsswitch (oslogin)", s.nsswitch ? "active" : "inactive");
        printf("%-22s %s\n", "sshd (OS Login keys)", s.sshd ? "active" : "inactive");
        printf("%-22s %s\n", "pam (pam_oslogin)", s.pam ? "active" : "inactive");
        printf("%-22s %s\n", "two-factor", s.two_factor ? "active" : "inactive");
        print_manual_if_unmanaged(o);
        print_state_file(o->sysconf.root, "users", "metadata users");
        print_state_file(o->sysconf.root, "uidmap", "UIDs remembered");
        r = control_query(o->runtime_dir, "status", CONTROL_TIMEOUT_MS * 2, &reply);
        if (r < 0) {
                printf("%-22s not running (%s)\n", "daemon", strerror(-r));
                return EXIT_NOTFOUND;
        }
        printf("%-22s running\n", "daemon");
        fputs(reply, stdout);
        return 0;
}

static int cmd_refresh(const struct options *o)
{
        _cleanup_free_ char *reply = NULL;
        int r = control_query(o->runtime_dir, "refresh", CONTROL_REFRESH_TIMEOUT_MS, &reply);

        if (r < 0) {
                log_error_errno(r, "Cannot reach oslogin-accountsd at %s/" CONTROL_SOCKET_NAME ": %m",
                        o->runtime_dir);
                return 1;
        }
        fputs(reply, strneq(reply, "ok", 2) ? stdout : stderr);
        return strneq(reply, "ok", 2) ? 0 : 1;
}

static void print_span(struct span s)
{
        fwrite(s.ptr, 1, s.len, stdout);
}

static void print_reply(const struct nss_proto_request *q, const struct nss_proto_reply *r)
{
        if (q->type == NSS_PROTO_GETPWNAM || q->type == NSS_PROTO_GETPWUID) {
                const struct passwd_record *p = &r->passwd;
                print_span(p->name);
                printf(":*:%u:%u:", p->uid, p->gid);
                print_span(p->gecos);
                putchar(':');
                print_span(p->home);
                putchar(':');
                print_span(p->shell);
                putchar('\n');
                return;
        }
        struct byte_reader it = r->group.members;
        struct span m;
        print_span(r->group.name);
        printf(":*:%u:", r->group.gid);
        for (uint32_t i = 0; group_record_next_member(&it, &m) == 0; i++) {
                if (i > 0)
                        putchar(',');
                print_span(m);
        }
        putchar('\n');
}

static int cmd_lookup(const struct options *o, const char *what, const char *key)
{
        _cleanup_free_ char *socket_path = NULL;
        _cleanup_free_ uint8_t *msg = NULL;
        struct nss_proto_request q;
        struct nss_proto_reply reply;
        bool user = streq(what, "user");
        uint32_t id;
        size_t size;
        int r;

        if (!user && !streq(what, "group"))
                return usage(stderr, EXIT_USAGE);
        if (safe_atou32(key, &id) == 0)
                r = nss_proto_request_by_id(user ? NSS_PROTO_GETPWUID : NSS_PROTO_GETGRGID, id, &q);
        else
                r = nss_proto_request_by_name(user ? NSS_PROTO_GETPWNAM : NSS_PROTO_GETGRNAM, key, &q);
        if (r < 0) {
                log_error("\"%s\" is not a valid %s name or ID.", key, what);
                return EXIT_USAGE;
        }
        if (asprintf(&socket_path, "%s/" NSS_SOCKET_NAME, o->runtime_dir) < 0)
                return 1;
        r = nss_proto_query(socket_path, &q, LOOKUP_TIMEOUT_MS, &msg, &size);
        if (r >= 0)
                r = nss_proto_reply_decode(&q, msg, size, &reply);
        if (r < 0) {
                log_error_errno(r, "No answer from oslogin-accountsd at %s: %m", socket_path);
                return 1;
        }
        switch (reply.status) {
        case NSS_PROTO_FOUND:
                print_reply(&q, &reply);
                return 0;
        case NSS_PROTO_NOTFOUND:
                log_error("No such %s: \"%s\".", what, key);
                return EXIT_NOTFOUND;
        default:
                log_error("The daemon cannot answer for \"%s\" now (%s): metadata server unreachable?", key,
                        nss_proto_status_to_string(reply.status));
                return 1;
        }
}

static int cmd_switch(const struct options *o, bool activate)
{
        /* By hand as from the metadata: the guest environment's grants and
         * caches go too (its lines in sshd/PAM/nsswitch go in sysconf). */
        (void)takeover_files(o->sysconf.root, true);
        (void)takeover_agent_switch_off(o->sysconf.root);
        int r = activate ? sysconf_activate(&o->sysconf) : sysconf_deactivate(&o->sysconf);
        if (r < 0) {
                log_error_errno(r, "%s failed, configuration left as it was: %m",
                        activate ? "activate" : "deactivate");
                return 1;
        }
        printf("OS Login configuration %s.\n", activate ? "active" : "inactive");
        return 0;
}

static int cmd_revoke(const struct options *o)
{
        _cleanup_free_ char *path = NULL;
        struct oslogin_config c;
        struct revoke_result res;
        int r;

        /* A damaged config still revokes, with the defaults (accounts expired, not deleted). */
        if (asprintf(&path, "%s" OSLOGIN_CONFIG_PATH, streq(o->sysconf.root, "/") ? "" : o->sysconf.root) < 0)
                return 1;
        if (config_load(path, 0, &c) < 0 && config_defaults(&c) < 0)
                return 1;
        struct revoke_options ro = {
                .root = o->sysconf.root,
                .groups = c.groups,
                .deprovision_remove = c.deprovision_remove,
                .uid_min = c.uid_min,
                .uid_max = c.uid_max,
        };
        r = oslogin_revoke(&ro, &res);
        config_free(&c);
        printf("Revoked: %u authorized_keys, %u group memberships, %u sudoers files; %u accounts expired, "
               "%u removed.\n", res.keys, res.memberships, res.sudoers_files, res.expired, res.removed);
        return r < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
        static const struct option options[] = {
                {"root", required_argument, NULL, 'r'},
                {"runtime-dir", required_argument, NULL, 'R'},
                {"no-reload", no_argument, NULL, 'n'},
                {"two-factor", no_argument, NULL, '2'},
                {"pam-module", required_argument, NULL, 'p'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct options o = {.runtime_dir = OSLOGIN_RUNSTATEDIR "/oslogin"};
        int c;

        log_open("osloginctl", LOG_TARGET_STDERR, LOG_AUTHPRIV);
        sysconf_options_default(&o.sysconf);
        while ((c = getopt_long(argc, argv, "r:R:nh", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        o.sysconf.root = optarg;
                        break;
                case 'R':
                        o.runtime_dir = optarg;
                        break;
                case 'n':
                        o.sysconf.reload_sshd = false;
                        break;
                case '2':
                        o.sysconf.two_factor = true;
                        break;
                case 'p':
                        o.sysconf.pam_module = optarg;
                        break;
                case 'h':
                        return usage(stdout, 0);
                default:
                        return usage(stderr, EXIT_USAGE);
                }
        }
        int n = argc - optind;
        const char *cmd = n > 0 ? argv[optind] : "";
        if (n == 1 && (streq(cmd, "activate") || streq(cmd, "deactivate")))
                return cmd_switch(&o, streq(cmd, "activate"));
        if (n == 1 && streq(cmd, "status"))
                return cmd_status(&o);
        if (n == 1 && streq(cmd, "revoke"))
                return cmd_revoke(&o);
        if (n == 1 && streq(cmd, "refresh"))
                return cmd_refresh(&o);
        if (n == 3 && streq(cmd, "lookup"))
                return cmd_lookup(&o, argv[optind + 1], argv[optind + 2]);
        if (n > 0 && !streq(cmd, "lookup") && !streq(cmd, "status") && !streq(cmd, "refresh") &&
                !streq(cmd, "activate") && !streq(cmd, "deactivate") && !streq(cmd, "revoke"))
                log_error("Unknown command \"%s\".", cmd);
        return usage(stderr, EXIT_USAGE);
}
