/* SPDX-License-Identifier: Apache-2.0 */
/* osloginctl: the admin CLI of oslogin-accountsd. activate/deactivate switch
 * the host configuration by hand (accountsd does it from enable-oslogin);
 * status and refresh talk to the daemon's control socket; lookup asks its
 * NSS socket exactly as libnss_oslogin.so.2 does on a miss. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/control-proto.h"
#include "osloginctl/control-client.h"
#include "hostconf/host-mode.h"
#include "osloginctl/osloginctl.h"
#include "accounts/purge.h"
#include "hostconf/sysconf.h"
#include "hostconf/takeover.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/nss-proto.h"
#include "basic/parse-util.h"
#include "basic/path-util.h"
#include "basic/version.h"
#include "mds/config.h"

#define LOOKUP_TIMEOUT_MS 5000u

struct options {
        struct sysconf_options sysconf;
        struct ctl ctl;
        const char *runtime_dir;
        const char *config_path; /* check-config */
        const char *since;       /* audit */
        bool host;               /* check-config --host */
};

static int usage(void)
{
        printf("Usage: osloginctl [OPTIONS] COMMAND\n"
               "Commands:\n"
               "  status                   host configuration and the accounts daemon's state\n"
               "  refresh                  re-fetch the metadata and rebuild the directory cache now\n"
               "  lookup user NAME|UID     ask the daemon as the NSS module does; prints a passwd line\n"
               "  lookup group NAME|GID    the same for a group; prints a group line\n"
               "  audit [USER]             the login records (one per login: key, 2FA, account, sudo)\n"
               "  why USER                 why the last login of USER was refused, in one sentence\n"
               "  check-config [--host]    validate oslogin.conf; --host: what activate would change\n"
               "  activate                 configure sshd, nsswitch and PAM for OS Login\n"
               "  deactivate               undo exactly what activate did\n"
               "  revoke                   take back every key, sudo right and group the daemon granted\n"
               "Options:\n"
               "  --json, -o json          status, lookup, audit: JSON (schema in osloginctl(8))\n"
               "  --since=TIME             audit: records from TIME (2026-11-30, today, 2h...)\n"
               "  --config FILE            check-config: the file to check (default " OSLOGIN_CONFIG_PATH
               ")\n"
               "  --root DIR               activate/deactivate/status on DIR/etc, DIR/var (tests)\n"
               "  --runtime-dir DIR        the daemon's sockets (default " OSLOGIN_RUNTIME_DIR ")\n"
               "  --no-reload              do not signal sshd after activate/deactivate\n"
               "  --two-factor             activate: keyboard-interactive two-factor after the key\n"
               "  --pam-module NAME|PATH   activate: the PAM module to name (default pam_oslogin.so)\n"
               "  --help, --version\n"
               "Exit status: 0 success, 1 failure, 2 usage, 3 not found, 4 daemon not running,\n"
               "5 needs root. See osloginctl(8).\n");
        return 0;
}

int ctl_usage_error(const char *fmt, ...)
{
        va_list ap;

        fputs("osloginctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see osloginctl --help)\n", stderr);
        return EXIT_USAGE;
}

int ctl_socket_error(const struct ctl *c, const char *socket_name, int r)
{
        if (r == -EACCES || r == -EPERM) {
                log_error("Permission denied on %s/%s: osloginctl needs root for this.", c->runtime_dir,
                        socket_name);
                return EXIT_NEEDS_ROOT;
        }
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_error("oslogin-accountsd is not running (%s/%s: %s).", c->runtime_dir, socket_name,
                        strerror(-r));
                return EXIT_NOT_RUNNING;
        }
        log_error(
                "No answer from oslogin-accountsd at %s/%s: %s", c->runtime_dir, socket_name, strerror(-r));
        return EXIT_FAILURE;
}

void ctl_print_json(json_object *o)
{
        puts(json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

static size_t count_state_lines(const char *root, const char *name)
{
        _cleanup_free_ char *dir = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t lines = 0;

        if (path_join_root(root, OSLOGIN_STATE_DIR, &dir) < 0)
                return 0;
        fd = open_dir_nofollow(AT_FDCWD, dir, 0);
        if (fd >= 0 && read_file_bounded(fd, name, 16 * 1024 * 1024, &data, NULL) == 0)
                for (const char *p = data; (p = strchr(p, '\n')); p++)
                        lines++;
        return lines;
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

/* The daemon's "key: value" lines as a JSON object of strings. */
static json_object *status_lines_json(char *reply)
{
        json_object *o = json_object_new_object();
        char *save = NULL;

        for (char *line = strtok_r(reply, "\n", &save); o && line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strstr(line, ": ");
                if (!colon)
                        continue;
                *colon = '\0';
                json_object_object_add(o, line, json_object_new_string(colon + 2));
        }
        return o;
}

static int cmd_status(const struct options *o)
{
        _cleanup_free_ char *reply = NULL;
        struct sysconf_status s;
        int r, ret = 0;

        if ((r = sysconf_get_status(&o->sysconf, &s)) < 0) {
                log_error_errno(r, "Cannot read the host configuration: %m");
                return EXIT_FAILURE;
        }
        const char *mode = host_mode_to_string(host_mode_load(o->sysconf.root));
        size_t users = count_state_lines(o->sysconf.root, "users"),
               uids = count_state_lines(o->sysconf.root, "uidmap");
        r = control_query(o->runtime_dir, "status", CONTROL_TIMEOUT_MS * 2, &reply);
        if (r < 0)
                ret = r == -EACCES || r == -EPERM          ? EXIT_NEEDS_ROOT
                      : r == -ENOENT || r == -ECONNREFUSED ? EXIT_NOT_RUNNING
                                                           : EXIT_FAILURE;
        if (o->ctl.json) {
                json_object *j = json_object_new_object(), *host = json_object_new_object(),
                            *d = json_object_new_object();
                if (!j || !host || !d)
                        return EXIT_FAILURE;
                json_object_object_add(j, "version", json_object_new_string(OSLOGIN_VERSION));
                json_object_object_add(j, "mode", json_object_new_string(mode));
                json_object_object_add(host, "nsswitch", json_object_new_boolean(s.nsswitch));
                json_object_object_add(host, "sshd", json_object_new_boolean(s.sshd));
                json_object_object_add(host, "pam", json_object_new_boolean(s.pam));
                json_object_object_add(host, "two_factor", json_object_new_boolean(s.two_factor));
                json_object_object_add(j, "host", host);
                json_object_object_add(j, "metadata_users", json_object_new_int64((int64_t)users));
                json_object_object_add(j, "uids_remembered", json_object_new_int64((int64_t)uids));
                json_object_object_add(d, "running", json_object_new_boolean(ret != EXIT_NOT_RUNNING));
                json_object_object_add(d, "state",
                        json_object_new_string(r >= 0                    ? "running"
                                               : ret == EXIT_NEEDS_ROOT  ? "needs-root"
                                               : ret == EXIT_NOT_RUNNING ? "not-running"
                                                                         : "no-answer"));
                json_object_object_add(d, "error", r < 0 ? json_object_new_string(strerror(-r)) : NULL);
                json_object_object_add(d, "status", r >= 0 ? status_lines_json(reply) : NULL);
                json_object_object_add(j, "daemon", d);
                ctl_print_json(j);
                return ret;
        }
        printf("%-22s %s\n", "mode (recorded)", mode);
        printf("%-22s %s\n", "nsswitch (oslogin)", s.nsswitch ? "active" : "inactive");
        printf("%-22s %s\n", "sshd (OS Login keys)", s.sshd ? "active" : "inactive");
        printf("%-22s %s\n", "pam (pam_oslogin)", s.pam ? "active" : "inactive");
        printf("%-22s %s\n", "two-factor", s.two_factor ? "active" : "inactive");
        print_manual_if_unmanaged(o);
        printf("%-22s %zu\n", "metadata users", users);
        printf("%-22s %zu\n", "UIDs remembered", uids);
        if (ret == EXIT_NEEDS_ROOT)
                printf("%-22s unknown: needs root (%s)\n", "daemon", strerror(-r));
        else if (r < 0)
                printf("%-22s not running (%s)\n", "daemon", strerror(-r));
        else {
                printf("%-22s running\n", "daemon");
                fputs(reply, stdout);
        }
        return ret;
}

/* A progress line of "refresh progress" ("progress: users=N groups=N
 * pages=N"), redrawn in place on the terminal. */
static void show_progress(const char *line, void *userdata)
{
        bool *shown = userdata;

        fprintf(stderr, "\r\033[K%s", line + strlen("progress: "));
        *shown = true;
}

static int cmd_refresh(const struct options *o)
{
        _cleanup_free_ char *reply = NULL;
        bool tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO), shown = false;
        int r = tty ? control_query_progress(o->runtime_dir, "refresh progress", CONTROL_REFRESH_TIMEOUT_MS,
                              show_progress, &shown, &reply)
                    : control_query(o->runtime_dir, "refresh", CONTROL_REFRESH_TIMEOUT_MS, &reply);

        if (shown)
                fputs("\r\033[K", stderr);
        if (r < 0)
                return ctl_socket_error(&o->ctl, CONTROL_SOCKET_NAME, r);
        fputs(reply, strneq(reply, "ok", 2) ? stdout : stderr);
        return strneq(reply, "ok", 2) ? 0 : EXIT_FAILURE;
}

static void print_span(struct span s)
{
        fwrite(s.ptr, 1, s.len, stdout);
}

static json_object *span_json(struct span s)
{
        return json_object_new_string_len(s.ptr, (int)s.len);
}

static void print_reply(const struct nss_proto_request *q, const struct nss_proto_reply *r, bool json)
{
        bool user = q->type == NSS_PROTO_GETPWNAM || q->type == NSS_PROTO_GETPWUID;
        json_object *j = json ? json_object_new_object() : NULL;

        if (user) {
                const struct passwd_record *p = &r->passwd;
                if (j) {
                        json_object_object_add(j, "name", span_json(p->name));
                        json_object_object_add(j, "uid", json_object_new_int64(p->uid));
                        json_object_object_add(j, "gid", json_object_new_int64(p->gid));
                        json_object_object_add(j, "gecos", span_json(p->gecos));
                        json_object_object_add(j, "home", span_json(p->home));
                        json_object_object_add(j, "shell", span_json(p->shell));
                        ctl_print_json(j);
                        return;
                }
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
        json_object *members = j ? json_object_new_array() : NULL;
        if (j) {
                json_object_object_add(j, "name", span_json(r->group.name));
                json_object_object_add(j, "gid", json_object_new_int64(r->group.gid));
                while (group_record_next_member(&it, &m) == 0)
                        json_object_array_add(members, span_json(m));
                json_object_object_add(j, "members", members);
                ctl_print_json(j);
                return;
        }
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
                return ctl_usage_error("lookup wants \"user\" or \"group\", not \"%s\"", what);
        if (safe_atou32(key, &id) == 0)
                r = nss_proto_request_by_id(user ? NSS_PROTO_GETPWUID : NSS_PROTO_GETGRGID, id, &q);
        else
                r = nss_proto_request_by_name(user ? NSS_PROTO_GETPWNAM : NSS_PROTO_GETGRNAM, key, &q);
        if (r < 0)
                return ctl_usage_error("\"%s\" is not a valid %s name or ID", key, what);
        if (asprintf(&socket_path, "%s/" NSS_SOCKET_NAME, o->runtime_dir) < 0)
                return EXIT_FAILURE;
        r = nss_proto_query(socket_path, &q, LOOKUP_TIMEOUT_MS, &msg, &size);
        if (r >= 0)
                r = nss_proto_reply_decode(&q, msg, size, &reply);
        if (r < 0)
                return ctl_socket_error(&o->ctl, NSS_SOCKET_NAME, r);
        switch (reply.status) {
        case NSS_PROTO_FOUND:
                print_reply(&q, &reply, o->ctl.json);
                return 0;
        case NSS_PROTO_NOTFOUND:
                log_error("No such %s: \"%s\".", what, key);
                return EXIT_NOTFOUND;
        default:
                log_error("The daemon cannot answer for \"%s\" now (%s): metadata server unreachable?", key,
                        nss_proto_status_to_string(reply.status));
                return EXIT_FAILURE;
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
                return EXIT_FAILURE;
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
        if (path_join_root(o->sysconf.root, OSLOGIN_CONFIG_PATH, &path) < 0)
                return EXIT_FAILURE;
        if (config_load(path, 0, &c) < 0 && config_defaults(&c) < 0)
                return EXIT_FAILURE;
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
               "%u removed.\n",
                res.keys, res.memberships, res.sudoers_files, res.expired, res.removed);
        return r < 0 ? EXIT_FAILURE : 0;
}

/* oslogin.conf as the daemon would load it (config_load() names the file
 * and line of each error); with --host, what activate would change. */
static int cmd_check_config(const struct options *o)
{
        struct oslogin_config c;
        const char *path = o->config_path ?: OSLOGIN_CONFIG_PATH;
        int r = config_load(path, 0, &c);

        if (r == -ENOENT && !o->config_path)
                printf("%s: not there; the defaults apply.\n", path);
        else if (r < 0) {
                if (r == -ENOENT || r == -EACCES)
                        log_error_errno(r, "Cannot read %s: %m", path);
                printf("%s: invalid.\n", path);
                return EXIT_FAILURE;
        } else {
                printf("%s: ok.\n", path);
                config_free(&c);
        }
        if (!o->host)
                return 0;
        struct sysconf_options so = o->sysconf;
        so.akc_user = NULL;
        if (r == 0 && config_load(path, 0, &c) == 0) {
                if (c.akc_user)
                        so.akc_user = strdupa(c.akc_user);
                config_free(&c);
        }
        if (!so.akc_user)
                so.akc_user = o->sysconf.akc_user;
        return sysconf_preview(&so, true, stdout) < 0 ? EXIT_FAILURE : 0;
}

static bool want_json(const char *format)
{
        return streq(format, "json");
}

int main(int argc, char *argv[])
{
        enum { ARG_SINCE = 0x100, ARG_HOST, ARG_CONFIG, ARG_VERSION };
        static const struct option options[] = {
                {"root", required_argument, NULL, 'r'},
                {"runtime-dir", required_argument, NULL, 'R'},
                {"no-reload", no_argument, NULL, 'n'},
                {"two-factor", no_argument, NULL, '2'},
                {"pam-module", required_argument, NULL, 'p'},
                {"json", no_argument, NULL, 'j'},
                {"output", required_argument, NULL, 'o'},
                {"since", required_argument, NULL, ARG_SINCE},
                {"host", no_argument, NULL, ARG_HOST},
                {"config", required_argument, NULL, ARG_CONFIG},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        struct options o = {.runtime_dir = OSLOGIN_RUNTIME_DIR};
        int c;

        log_open("osloginctl", LOG_TARGET_STDERR, LOG_AUTHPRIV);
        sysconf_options_default(&o.sysconf);
        opterr = 0; /* our own one-line message */
        while ((c = getopt_long(argc, argv, "r:R:nho:", options, NULL)) >= 0) {
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
                case 'j':
                        o.ctl.json = true;
                        break;
                case 'o':
                        if (!want_json(optarg) && !streq(optarg, "text"))
                                return ctl_usage_error("-o \"%s\": only \"json\" and \"text\"", optarg);
                        o.ctl.json = want_json(optarg);
                        break;
                case ARG_SINCE:
                        o.since = optarg;
                        break;
                case ARG_HOST:
                        o.host = true;
                        break;
                case ARG_CONFIG:
                        o.config_path = optarg;
                        break;
                case 'h':
                        return usage();
                case ARG_VERSION:
                        version_print("osloginctl");
                        return 0;
                case ':':
                        return ctl_usage_error("option %s needs a value", argv[optind - 1]);
                default:
                        return ctl_usage_error("unknown option %s", argv[optind - 1]);
                }
        }
        o.ctl.runtime_dir = o.runtime_dir;
        o.ctl.root = o.sysconf.root;
        int n = argc - optind;
        const char *cmd = n > 0 ? argv[optind] : NULL, *arg1 = n > 1 ? argv[optind + 1] : NULL;
        if (!cmd)
                return ctl_usage_error("no command");
        if ((streq(cmd, "activate") || streq(cmd, "deactivate")) && n == 1)
                return cmd_switch(&o, streq(cmd, "activate"));
        if (streq(cmd, "status") && n == 1)
                return cmd_status(&o);
        if (streq(cmd, "revoke") && n == 1)
                return cmd_revoke(&o);
        if (streq(cmd, "refresh") && n == 1)
                return cmd_refresh(&o);
        if (streq(cmd, "lookup") && n == 3)
                return cmd_lookup(&o, arg1, argv[optind + 2]);
        if (streq(cmd, "audit") && n <= 2)
                return cmd_audit(&o.ctl, arg1, o.since);
        if (streq(cmd, "why") && n == 2)
                return cmd_why(&o.ctl, arg1);
        if (streq(cmd, "check-config") && n == 1)
                return cmd_check_config(&o);
        static const char *const known[] = {"activate", "deactivate", "status", "refresh", "lookup", "audit",
                "why", "check-config", "revoke"};
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (streq(cmd, known[i]))
                        return ctl_usage_error("wrong arguments for \"%s\"", cmd);
        return ctl_usage_error("unknown command \"%s\"", cmd);
}
