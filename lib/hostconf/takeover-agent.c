/* SPDX-License-Identifier: Apache-2.0 */
/* The guest agent's configuration, /etc/default/instance_configs.cfg (INI,
 * case-insensitive; read after its .distro and .template siblings, see
 * doc/guest-environment.md): its documented switch that stops its account
 * manager, and the [Accounts] settings an administrator gave it. */

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostconf/config-file.h"
#include "hostconf/takeover.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/message-ids.h"
#include "basic/macro.h"
#include "basic/mkdir-util.h"
#include "basic/parse-util.h"
#include "basic/path-util.h"
#include "basic/strv.h"
#include "basic/valid.h"

#define CFG_DIR "/etc/default"
#define CFG_NAME "instance_configs.cfg"

static bool agent_installed(const char *root)
{
        static const char *const paths[] = {
                "/usr/bin/google_guest_agent",
                CFG_DIR "/" CFG_NAME,
                CFG_DIR "/" CFG_NAME ".distro",
                CFG_DIR "/" CFG_NAME ".template",
        };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *p = NULL;
                if (path_join_root(root, paths[i], &p) >= 0 && access(p, F_OK) == 0)
                        return true;
        }
        return false;
}

/* "  Key = value" → key and value, trimmed (go-ini accepts '=' and ':'). */
static bool split_key(const char *line, char *key, size_t ksize, char *value, size_t vsize)
{
        const char *p = line + strspn(line, " \t");
        size_t n = strcspn(p, "=:");
        if (!p[n] || *p == '#' || *p == ';' || *p == '[')
                return false;
        size_t kn = n;
        while (kn > 0 && (p[kn - 1] == ' ' || p[kn - 1] == '\t'))
                kn--;
        snprintf(key, ksize, "%.*s", (int)kn, p);
        const char *v = p + n + 1;
        v += strspn(v, " \t");
        size_t vn = strcspn(v, "\r\n");
        while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
                vn--;
        snprintf(value, vsize, "%.*s", (int)vn, v);
        return true;
}

static bool section_is(const char *line, const char *name)
{
        char s[64];
        const char *p = line + strspn(line, " \t");
        if (*p != '[')
                return false;
        snprintf(s, sizeof(s), "%.*s", (int)strcspn(p + 1, "]"), p + 1);
        return strcasecmp(s, name) == 0;
}

/* TEXT with accounts_daemon = false in [Daemons]; *PREVIOUS the old value
 * ("" when unset). NULL on ENOMEM. */
static char *with_switch_off(const char *text, char *previous, size_t psize)
{
        char *buf = NULL, key[64], value[128];
        size_t size = 0;
        bool in_daemons = false, done = false;
        FILE *out = open_memstream(&buf, &size);

        if (!out)
                return NULL;
        previous[0] = '\0';
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);
                bool nl = p[n] == '\n';
                p += n + nl;
                if (!line)
                        break;
                if (line[strspn(line, " \t")] == '[') {
                        if (in_daemons && !done) {
                                fputs("accounts_daemon = false\n", out);
                                done = true;
                        }
                        in_daemons = section_is(line, "Daemons");
                } else if (in_daemons && !done && split_key(line, key, sizeof(key), value, sizeof(value)) &&
                           strcasecmp(key, "accounts_daemon") == 0) {
                        snprintf(previous, psize, "%s", value);
                        fputs("accounts_daemon = false", out);
                        done = true;
                        if (nl)
                                fputc('\n', out);
                        continue;
                }
                fputs(line, out);
                if (nl)
                        fputc('\n', out);
        }
        if (!done) {
                if (*text && text[strlen(text) - 1] != '\n')
                        fputc('\n', out);
                /* The file ended inside [Daemons]: the key goes at its end. */
                fprintf(out, "%saccounts_daemon = false\n", in_daemons ? "" : "[Daemons]\n");
        }
        if (fclose(out) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static int write_restore_record(const char *root, bool existed, const char *previous)
{
        _cleanup_free_ char *dir = NULL, *record = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (path_join_root(root, OSLOGIN_STATE_DIR, &dir) < 0)
                return -ENOMEM;
        if ((fd = mkdir_p_open(AT_FDCWD, dir, 0755, 0755)) < 0)
                return fd;
        if (faccessat(fd, TAKEOVER_RESTORE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0; /* the state before the first takeover is what a purge restores */
        if (asprintf(&record, "file=%s\naccounts_daemon=%s\n", existed ? "existed" : "created",
                    previous[0] ? previous : "unset") < 0)
                return -ENOMEM;
        return write_file_atomic(fd, TAKEOVER_RESTORE_FILE, record, strlen(record), 0644, 0, 0);
}

int takeover_agent_switch_off(const char *root)
{
        _cleanup_free_ char *dir = NULL, *text = NULL, *next = NULL;
        _cleanup_close_ int fd = -EBADF;
        char previous[128];
        int r;

        if (!agent_installed(root))
                return 0;
        if (path_join_root(root, CFG_DIR, &dir) < 0)
                return -ENOMEM;
        if ((fd = mkdir_p_open(AT_FDCWD, dir, 0755, 0755)) < 0)
                return fd;
        r = read_file_bounded(fd, CFG_NAME, 1024 * 1024, &text, NULL);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Cannot read " CFG_DIR "/" CFG_NAME ": %m");
        bool existed = r >= 0;
        if (!(next = with_switch_off(text ?: "", previous, sizeof(previous))))
                return -ENOMEM;
        if (existed && streq(next, text))
                return 0;
        if (parse_config_boolean(previous) == 0 && existed) {
                /* Off already, only spelled differently: leave the administrator's line. */
                return 0;
        }
        if ((r = write_restore_record(root, existed, previous)) < 0)
                return log_error_errno(r, "Cannot record the guest agent's setting, leaving it: %m");
        if ((r = config_file_replace(fd, CFG_NAME, next)) < 0)
                return log_error_errno(r, "Cannot write " CFG_DIR "/" CFG_NAME ": %m");
        log_event(LOG_NOTICE, MESSAGE_ID_TAKEOVER, LOG_FIELDS({"OSLOGIN_REASON", CFG_DIR "/" CFG_NAME}),
                "Set [Daemons] accounts_daemon = false in " CFG_DIR "/" CFG_NAME
                " (was %s): the guest agent no longer manages metadata-key accounts; restored on purge "
                "from " OSLOGIN_STATE_DIR "/" TAKEOVER_RESTORE_FILE ".",
                previous[0] ? previous : "unset");
        return 1;
}

static int on_accounts_key(void *user, const char *section, const char *key, const char *value)
{
        struct agent_accounts *a = user;
        int b;

        if (strcasecmp(section, "Accounts") != 0)
                return 1;
        if (strcasecmp(key, "groups") == 0) {
                char **list = strv_split(value, ", ");
                if (!list)
                        return 0;
                STRV_FOREACH (g, list)
                        if (!valid_group_name(*g)) {
                                log_warning("Ignoring the guest agent's [Accounts] groups: \"%s\" is not a "
                                            "valid "
                                            "group name.",
                                        *g);
                                strv_free(list);
                                return 1;
                        }
                strv_free(a->groups);
                a->groups = list;
                a->has_groups = true;
        } else if (strcasecmp(key, "deprovision_remove") == 0 && (b = parse_config_boolean(value)) >= 0) {
                a->deprovision_remove = b;
                a->has_deprovision_remove = true;
        } else if (strcasecmp(key, "reuse_homedir") == 0 && (b = parse_config_boolean(value)) >= 0) {
                a->reuse_homedir = b;
                a->has_reuse_homedir = true;
        }
        return 1;
}

int takeover_agent_accounts(const char *root, struct agent_accounts *ret)
{
        static const char *const files[] = {
                CFG_DIR "/" CFG_NAME ".distro", CFG_DIR "/" CFG_NAME ".template", CFG_DIR "/" CFG_NAME};
        struct agent_accounts a = {};

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = NULL;
                _cleanup_fclose_ FILE *f = NULL;
                if (path_join_root(root, files[i], &p) < 0) {
                        agent_accounts_done(&a);
                        return -ENOMEM;
                }
                if (!(f = fopen(p, "re")))
                        continue;
                (void)ini_parse_file(f, on_accounts_key, &a);
        }
        *ret = a;
        return 0;
}

void agent_accounts_done(struct agent_accounts *a)
{
        strv_free(a->groups);
        *a = (struct agent_accounts){};
}
