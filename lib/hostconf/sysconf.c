/* SPDX-License-Identifier: Apache-2.0 */
/* The host configuration as one transaction: plan every file (PAM, sshd,
 * nsswitch and its record), then write them in that order, check with
 * `sshd -t`, and on any failure put back every file already written. The
 * order matters for a crash in the middle: PAM before sshd, so sshd never
 * runs with the key helper but without the account check. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostconf/sysconf-internal.h"
#include "hostconf/sysconf.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/path-util.h"

void sysconf_options_default(struct sysconf_options *o)
{
        *o = (struct sysconf_options){
                .root = "/",
                .akc_path = OSLOGIN_SBINDIR "/oslogin-authorized-keys",
                .akc_user = "_oslogin",
                .principals_path = OSLOGIN_SBINDIR "/oslogin-authorized-principals",
                .trusted_ca_path = OSLOGIN_RUNTIME_DIR "/trusted-ca-keys.pub",
                .cert_authentication = true,
                .users_group = "oslogin-users",
                .sshd_path = "/usr/sbin/sshd",
                .pam_module = "pam_oslogin.so",
                .reload_sshd = true,
        };
}

int sysconf_open_dir(const struct sysconf_options *o, const char *dir)
{
        _cleanup_free_ char *p = NULL;
        if (path_join_root(o->root, dir, &p) < 0)
                return -ENOMEM;
        return open_dir_nofollow(AT_FDCWD, p, 0);
}

int sysconf_plan_fail(struct sysconf_plan *p, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->failed_step, sizeof(p->failed_step), fmt, ap);
        va_end(ap);
        return r;
}

int sysconf_plan_add(struct sysconf_plan *p, const char *step, const char *path, int dir_fd,
        const char *name, char *new, const struct takeover_removed *removed)
{
        struct sysconf_edit e = {.step = step, .dir_fd = dir_fd, .new = new, .mode = 0644};
        struct stat st;
        int r;

        if (p->n >= SYSCONF_MAX_EDITS) {
                safe_close(dir_fd);
                free(new);
                return -E2BIG;
        }
        p->edits[p->n++] = e; /* owned by the plan from here on, whatever happens */
        struct sysconf_edit *x = &p->edits[p->n - 1];
        if (!(x->path = strdup(path)) || !(x->name = strdup(name)))
                return -ENOMEM;
        if (removed)
                x->removed = *removed;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                x->mode = st.st_mode & 07777;
                x->uid = st.st_uid;
                x->gid = st.st_gid;
        }
        r = read_file_bounded(dir_fd, name, MAX_CONFIG_SIZE, &x->old, &x->old_size);
        if (r < 0 && r != -ENOENT)
                return sysconf_plan_fail(p, r, "%s: cannot read %s", step, path);
        return 0;
}

static void plan_done(struct sysconf_plan *p)
{
        for (size_t i = 0; i < p->n; i++) {
                struct sysconf_edit *e = &p->edits[i];
                safe_close(e->dir_fd);
                free(e->path);
                free(e->name);
                free(e->old);
                free(e->new);
        }
        p->n = 0;
}

static bool edit_changes(const struct sysconf_edit *e)
{
        if (!e->old || !e->new)
                return e->old != e->new;
        return !streq(e->old, e->new);
}

/* NEW, or OLD again when UNDO. */
static int write_edit(const struct sysconf_edit *e, bool undo)
{
        const char *content = undo ? e->old : e->new;
        if (!content)
                return unlinkat(e->dir_fd, e->name, 0) < 0 && errno != ENOENT ? -errno : 0;
        return write_file_atomic(e->dir_fd, e->name, content, strlen(content), e->mode, e->uid, e->gid);
}

static void roll_back(struct sysconf_plan *p)
{
        for (size_t i = p->n; i-- > 0;) {
                struct sysconf_edit *e = &p->edits[i];
                if (!e->applied)
                        continue;
                int r = write_edit(e, true);
                if (r < 0)
                        log_error_errno(r, "Cannot put %s back: %m", e->path);
                e->applied = false;
        }
}

static void reload_sshd(const struct sysconf_options *o, struct sysconf_report *rep)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int run = sysconf_open_dir(o, "/run");
        if (!o->reload_sshd || run < 0 || read_file_bounded(run, "sshd.pid", 64, &data, NULL) < 0)
                return;
        long pid = strtol(data, NULL, 10);
        if (pid > 1 && kill((pid_t)pid, SIGHUP) == 0) {
                log_info("Reloaded sshd (PID %ld).", pid);
                rep->sshd_reloaded = true;
        }
}

/* Writes every edit; the first failure is returned with the plan's step set. */
static int apply_plan(const struct sysconf_options *o, struct sysconf_plan *p, bool *ret_sshd_changed)
{
        bool sshd_changed = false, sshd_tested = false;
        int r;

        for (size_t i = 0; i < p->n; i++) {
                struct sysconf_edit *e = &p->edits[i];
                bool sshd = streq(e->step, "sshd");
                /* Every sshd file is in place before `sshd -t` reads them. */
                if (sshd_changed && !sshd && !sshd_tested) {
                        if ((r = sysconf_run_sshd_test(o)) < 0)
                                return sysconf_plan_fail(p, r, "sshd -t rejects the new sshd configuration");
                        sshd_tested = true;
                }
                if (!edit_changes(e))
                        continue;
                if (e->removed.lines > 0 && e->old &&
                        (r = takeover_backup(o->root, e->path, e->old, e->old_size)) < 0)
                        return sysconf_plan_fail(p, r, "%s: cannot back up %s", e->step, e->path);
                if ((r = write_edit(e, false)) < 0)
                        return sysconf_plan_fail(p, r, "%s: cannot write %s", e->step, e->path);
                e->applied = true;
                sshd_changed = sshd_changed || sshd;
        }
        if (sshd_changed && !sshd_tested && (r = sysconf_run_sshd_test(o)) < 0)
                return sysconf_plan_fail(p, r, "sshd -t rejects the new sshd configuration");
        *ret_sshd_changed = sshd_changed;
        return 0;
}

int sysconf_apply(const struct sysconf_options *o, bool activate, struct sysconf_report *report)
{
        struct sysconf_plan p = {};
        struct sysconf_report rep = {};
        bool sshd_changed = false;
        int r;

        /* Planning reads everything and refuses what cannot be done before
         * any file is touched. */
        if ((r = sysconf_plan_pam(o, activate, &p)) >= 0 && (r = sysconf_plan_sshd(o, activate, &p)) >= 0 &&
                (r = sysconf_plan_nsswitch(o, activate, &p)) >= 0)
                r = apply_plan(o, &p, &sshd_changed);
        if (r < 0) {
                roll_back(&p);
                snprintf(rep.failed_step, sizeof(rep.failed_step), "%s",
                        p.failed_step[0] ? p.failed_step : "planning");
                log_error_errno(r, "Cannot %s the OS Login configuration: %s (%m). Nothing was changed.",
                        activate ? "activate" : "deactivate", rep.failed_step);
        } else {
                for (size_t i = 0; i < p.n; i++)
                        if (p.edits[i].applied && p.edits[i].removed.lines > 0) {
                                rep.guest_lines += p.edits[i].removed.lines;
                                log_notice("Removed %u line(s) of the guest environment from %s (\"%s\"); "
                                           "backup under " TAKEOVER_BACKUP_DIR ".",
                                        p.edits[i].removed.lines, p.edits[i].path, p.edits[i].removed.first);
                        }
                if (sshd_changed)
                        reload_sshd(o, &rep);
        }
        plan_done(&p);
        if (report)
                *report = rep;
        return r < 0 ? r : 0;
}

int sysconf_activate(const struct sysconf_options *o)
{
        return sysconf_apply(o, true, NULL);
}

int sysconf_deactivate(const struct sysconf_options *o)
{
        return sysconf_apply(o, false, NULL);
}

void sysconf_print_manual(const struct sysconf_options *o, FILE *f)
{
        _cleanup_free_ char *sshd = sysconf_sshd_settings(o), *pam = sysconf_pam_block(o);

        fprintf(f, "manual configuration (manage_host_config = false), add by hand:\n");
        const char *match = sshd ? strstr(sshd, "\nMatch ") : NULL;
        fprintf(f, "  1. sshd: first in /etc/ssh/sshd_config, or in a drop-in that sorts first\n");
        for (const char *p = sshd; p && *p; p += strcspn(p, "\n") + 1) {
                if (match && p == match + 1)
                        fprintf(f, "     and last (a Match block runs to the end of its file):\n");
                if (*p != '#')
                        fprintf(f, "       %.*s\n", (int)strcspn(p, "\n"), p);
        }
        fprintf(f, "  2. /etc/nsswitch.conf: add \"oslogin\" right after \"files\" on the passwd: and "
                   "group: lines\n"
                   "     (and initgroups: if there is one)\n");
        fprintf(f, "  3. /etc/pam.d/sshd: at the top\n");
        for (const char *p = pam; p && *p; p += strcspn(p, "\n") + 1)
                if (*p != '#')
                        fprintf(f, "       %.*s\n", (int)strcspn(p, "\n"), p);
        fprintf(f, "  then reload sshd.\n");
}

int sysconf_get_status(const struct sysconf_options *o, struct sysconf_status *ret)
{
        struct sysconf_status s = {};

        s.nsswitch = sysconf_nsswitch_active(o);
        s.sshd = sysconf_sshd_status(o, &s.two_factor);
        s.pam = sysconf_pam_active(o);
        *ret = s;
        return 0;
}

/* Lines of A not in B (each line of B matches once), prefixed with MARK. */
static unsigned print_missing(FILE *f, char mark, const char *a, const char *b)
{
        _cleanup_free_ char *used = calloc(strlen(b ?: "") + 1, 1);
        unsigned n = 0;

        for (const char *p = a ?: ""; *p;) {
                size_t len = strcspn(p, "\n");
                bool found = false;
                for (const char *q = b ?: ""; *q && !found;) {
                        size_t qlen = strcspn(q, "\n");
                        size_t at = (size_t)(q - (b ?: ""));
                        if (used && !used[at] && qlen == len && strneq(p, q, len)) {
                                used[at] = 1;
                                found = true;
                        }
                        q += qlen + (q[qlen] == '\n');
                }
                if (!found) {
                        fprintf(f, "%c%.*s\n", mark, (int)len, p);
                        n++;
                }
                p += len + (p[len] == '\n');
        }
        return n;
}

int sysconf_preview(const struct sysconf_options *o, bool activate, FILE *f)
{
        struct sysconf_plan p = {};
        unsigned changed = 0;
        int r;

        /* The same planning as sysconf_apply(), stopping before any write. */
        if ((r = sysconf_plan_pam(o, activate, &p)) >= 0 && (r = sysconf_plan_sshd(o, activate, &p)) >= 0)
                r = sysconf_plan_nsswitch(o, activate, &p);
        if (r < 0) {
                fprintf(f, "%s would fail: %s (%s); nothing would be changed.\n",
                        activate ? "activate" : "deactivate", p.failed_step[0] ? p.failed_step : "planning",
                        strerror(-r));
                plan_done(&p);
                return r;
        }
        for (size_t i = 0; i < p.n; i++) {
                const struct sysconf_edit *e = &p.edits[i];
                if (!edit_changes(e))
                        continue;
                changed++;
                fprintf(f, "%s %s:\n", e->path,
                        !e->new   ? "would be removed"
                        : !e->old ? "would be created"
                                  : "would change");
                (void)print_missing(f, '-', e->old, e->new);
                (void)print_missing(f, '+', e->new, e->old);
        }
        if (changed == 0)
                fprintf(f, "%s would change nothing.\n", activate ? "activate" : "deactivate");
        plan_done(&p);
        return (int)changed;
}
