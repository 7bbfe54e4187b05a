/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the parts of sysconf: the transaction (sysconf.c), sshd
 * (sysconf-sshd.c), nsswitch (sysconf-nsswitch.c) and PAM (sysconf-pam.c).
 * Each part only plans: it reads its files and adds the edits it wants to
 * a plan; sysconf.c applies the whole plan or none of it. */

#include <stdbool.h>
#include <sys/stat.h>

#include "hostconf/config-file.h"
#include "hostconf/sysconf.h"
#include "hostconf/takeover.h"
#include "basic/macro.h"

#define MAX_CONFIG_SIZE (1024u * 1024)
#define SYSCONF_MAX_EDITS 8

/* One file of the plan: OLD → NEW (NULL: absent / to be removed). */
struct sysconf_edit {
        const char *step; /* "PAM", "sshd", "nsswitch", "state": names a failure */
        char *path;       /* as the host sees it, for logs and backups */
        int dir_fd;       /* owned */
        char *name;       /* in dir_fd */
        char *old, *new;
        size_t old_size;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        struct takeover_removed removed; /* the guest environment's lines NEW drops */
        bool applied;
};

struct sysconf_plan {
        struct sysconf_edit edits[SYSCONF_MAX_EDITS];
        size_t n;
        char failed_step[160];
};

/* "" for "/", else the root, to prefix absolute paths with. */
int sysconf_open_dir(const struct sysconf_options *o, const char *dir);
/* Atomically, keeping the original's mode and owner. */
int config_file_replace(int dir_fd, const char *name, const char *content);
/* TEXT without our marked block (a copy; NULL on ENOMEM). */
char *config_file_without_block(const char *text);

/* Adds DIR_FD/NAME (DIR_FD taken over) with its current content read and
 * NEW (taken over). A missing file has OLD NULL. */
int sysconf_plan_add(struct sysconf_plan *p, const char *step, const char *path, int dir_fd,
        const char *name, char *new, const struct takeover_removed *removed);
/* Records why planning failed (nothing is changed yet); returns R. */
int sysconf_plan_fail(struct sysconf_plan *p, int r, const char *fmt, ...) _printf_(3, 4);

int sysconf_plan_pam(const struct sysconf_options *o, bool add, struct sysconf_plan *p);
int sysconf_plan_sshd(const struct sysconf_options *o, bool add, struct sysconf_plan *p);
int sysconf_plan_nsswitch(const struct sysconf_options *o, bool add, struct sysconf_plan *p);

/* The sshd lines and the PAM block we write (also what
 * sysconf_print_manual() shows). */
char *sysconf_sshd_settings(const struct sysconf_options *o);
char *sysconf_pam_block(const struct sysconf_options *o);
/* nsswitch.conf's directory and file name: the file itself, or the target
 * of a symlink that is a root-owned regular file under ROOT/etc. */
int sysconf_nsswitch_locate(
        const struct sysconf_options *o, int *ret_dir_fd, char **ret_name, char **ret_path);
int sysconf_run_sshd_test(const struct sysconf_options *o);
bool sysconf_pam_active(const struct sysconf_options *o);
bool sysconf_sshd_status(const struct sysconf_options *o, bool *ret_two_factor);
bool sysconf_nsswitch_active(const struct sysconf_options *o);
