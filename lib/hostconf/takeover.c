/* SPDX-License-Identifier: Apache-2.0 */
/* The guest environment's lines in configuration files, recognised and
 * dropped (doc/guest-environment.md), and the backups kept before any of
 * it is removed. */

#include <errno.h>
#include <fcntl.h>
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
#include "basic/macro.h"
#include "basic/mkdir-util.h"
#include "basic/path-util.h"

#define GOOGLE_BLOCK_START "#### Google OS Login control. Do not edit this section. ####"
#define GOOGLE_BLOCK_END "#### End Google OS Login control section. ####"
#define GOOGLE_COMMENT "# Added by Google Compute Engine OS Login."

/* LINE with runs of blanks as one space and no blanks at either end. */
static void normalize(const char *line, char *out, size_t size)
{
        size_t n = 0;
        bool blank = false;

        line += strspn(line, " \t");
        for (; *line && *line != '\r' && n + 2 < size; line++) {
                if (*line == ' ' || *line == '\t') {
                        blank = true;
                        continue;
                }
                if (blank && n > 0)
                        out[n++] = ' ';
                blank = false;
                out[n++] = *line;
        }
        out[n] = '\0';
}

/* The word after the keyword (sshd separates them by blanks or '='). */
static const char *sshd_value(const char *line, const char *keyword)
{
        size_t n = strlen(keyword);
        if (strncasecmp(line, keyword, n) != 0 || !strchr(" \t=", line[n]) || !line[n])
                return NULL;
        return line + n + strspn(line + n, " \t=");
}

static bool path_ends_with(const char *value, const char *base)
{
        size_t vl = strcspn(value, " \t"), bl = strlen(base);
        return vl >= bl && strncmp(value + vl - bl, base, bl) == 0 &&
               (vl == bl || value[vl - bl - 1] == '/');
}

/* An sshd_config line of theirs. *USER_NEXT: the next line may be the
 * command's user, theirs too. */
static bool sshd_line_theirs(const char *l, bool *user_next)
{
        const char *v;
        bool user = *user_next;

        *user_next = false;
        if ((v = sshd_value(l, "AuthorizedKeysCommand")) &&
                (path_ends_with(v, "google_authorized_keys") ||
                        path_ends_with(v, "google_authorized_keys_sk")))
                return (*user_next = true);
        if ((v = sshd_value(l, "AuthorizedPrincipalsCommand")) &&
                path_ends_with(v, "google_authorized_principals"))
                return (*user_next = true);
        if (user &&
                (sshd_value(l, "AuthorizedKeysCommandUser") || sshd_value(l, "AuthorizedKeysCommandRunAs") ||
                        sshd_value(l, "AuthorizedPrincipalsCommandUser")))
                return true;
        if ((v = sshd_value(l, "Include")) && strneq(v, "/var/google-users.d/", 20))
                return true;
        return (v = sshd_value(l, "TrustedUserCAKeys")) && strneq(v, "/etc/ssh/oslogin_trustedca.pub", 30);
}

static bool pam_line_theirs(const char *l)
{
        static const char *const exact[] = {
                "session [success=ok default=ignore] pam_mkhomedir.so",
                "auth [default=ignore] pam_group.so",
        };
        if (l[0] == '#')
                return false;
        for (size_t i = 0; i < ELEMENTSOF(exact); i++)
                if (streq(l, exact[i]))
                        return true;
        for (const char *p = l; *p; p += strspn(p, " ")) {
                size_t n = strcspn(p, " ");
                char word[256];
                snprintf(word, sizeof(word), "%.*s", (int)MIN(n, sizeof(word) - 1), p);
                if (path_ends_with(word, "pam_oslogin_login.so") ||
                        path_ends_with(word, "pam_oslogin_admin.so"))
                        return true;
                p += n;
        }
        return false;
}

static bool group_line_theirs(const char *l)
{
        return streq(l, "sshd;*;*;Al0000-2400;video") || streq(l, "sshd;*;*;Al0000-2400;dip,plugdev,video");
}

/* A passwd:/group:/initgroups: line without "cache_oslogin" and the
 * "oslogin" right after it (the pair the agent appends). Other tokens and
 * the spacing between them are kept. */
static bool nsswitch_filter_line(const char *line, FILE *out)
{
        static const char *const dbs[] = {"passwd:", "group:", "initgroups:"};
        const char *colon = strchr(line, ':');
        bool db = false, removed = false, after_cache = false;

        for (size_t i = 0; i < ELEMENTSOF(dbs); i++)
                db = db || strneq(line + strspn(line, " \t"), dbs[i], strlen(dbs[i]));
        if (!db || !colon) {
                fputs(line, out);
                return false;
        }
        fwrite(line, 1, (size_t)(colon + 1 - line), out);
        for (const char *p = colon + 1; *p;) {
                size_t blanks = strspn(p, " \t"), n = strcspn(p + blanks, " \t");
                const char *tok = p + blanks;
                bool drop = (n == 13 && strneq(tok, "cache_oslogin", 13)) ||
                            (after_cache && n == 7 && strneq(tok, "oslogin", 7));
                after_cache = n == 13 && strneq(tok, "cache_oslogin", 13);
                if (drop)
                        removed = true;
                else
                        fwrite(p, 1, blanks + n, out);
                p = tok + n;
        }
        return removed;
}

static void note(struct takeover_removed *r, const char *line)
{
        r->lines++;
        if (!r->first[0] && !strstr(line, "####") && !strstr(line, GOOGLE_COMMENT))
                snprintf(r->first, sizeof(r->first), "%s", line);
}

struct filter_state {
        enum takeover_kind kind;
        bool ours, google, comment, user_next;
};

enum verdict { KEEP, DROP, REWRITTEN };

/* What becomes of LINE (no newline); REWRITTEN: its new text is in OUT. */
static enum verdict judge_line(struct filter_state *s, const char *line, const char *rest, FILE *out)
{
        char l[1024];

        normalize(line, l, sizeof(l));
        if (s->ours) {
                s->ours = !streq(l, BLOCK_END);
                return KEEP;
        }
        if (streq(l, BLOCK_BEGIN)) {
                s->ours = true;
                return KEEP;
        }
        if (s->google) {
                s->google = !strstr(l, GOOGLE_BLOCK_END);
                return DROP;
        }
        if (strstr(l, GOOGLE_BLOCK_START)) {
                /* A start without an end is dropped alone: the rest of the
                 * file is the administrator's. */
                s->google = strstr(rest, GOOGLE_BLOCK_END) != NULL;
                return DROP;
        }
        if (strstr(l, GOOGLE_BLOCK_END))
                return DROP;
        if (strstr(l, GOOGLE_COMMENT)) {
                s->comment = true;
                return DROP;
        }
        if (s->comment) {
                s->comment = false;
                /* google_oslogin_control comments out the administrator's
                 * conflicting sshd line under its comment: restored. */
                if (s->kind == TAKEOVER_SSHD && l[0] == '#') {
                        const char *hash = strchr(line, '#');
                        fprintf(out, "%.*s%s", (int)(hash - line), line, hash + 1);
                        return REWRITTEN;
                }
                if (l[0] && l[0] != '#')
                        return DROP;
        }
        switch (s->kind) {
        case TAKEOVER_SSHD:
                return sshd_line_theirs(l, &s->user_next) ? DROP : KEEP;
        case TAKEOVER_PAM:
                return pam_line_theirs(l) ? DROP : KEEP;
        case TAKEOVER_GROUP:
                return group_line_theirs(l) ? DROP : KEEP;
        case TAKEOVER_NSSWITCH:
                break;
        }
        return KEEP;
}

char *takeover_filter(enum takeover_kind kind, const char *text, struct takeover_removed *ret)
{
        struct filter_state s = {.kind = kind};
        struct takeover_removed r = {};
        char *buf = NULL, *line = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);

        if (!out)
                return NULL;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                bool nl = p[n] == '\n';
                free(line);
                if (!(line = strndup(p, n)))
                        break;
                p += n + nl;
                if (kind == TAKEOVER_NSSWITCH) {
                        if (nsswitch_filter_line(line, out))
                                note(&r, line);
                } else {
                        enum verdict v = judge_line(&s, line, p, out);
                        if (v != KEEP)
                                note(&r, line);
                        if (v == DROP)
                                continue;
                        if (v == KEEP)
                                fputs(line, out);
                }
                if (nl)
                        fputc('\n', out);
        }
        bool failed = !line && *text;
        free(line);
        if (fclose(out) != 0 || failed) {
                free(buf);
                return NULL;
        }
        if (ret)
                *ret = r;
        return buf;
}

int takeover_backup(const char *root, const char *path, const char *data, size_t size)
{
        _cleanup_free_ char *dir = NULL, *rel = NULL;
        _cleanup_close_ int top = -EBADF, fd = -EBADF;

        /* Backups hold sudo rules: the backup directory and all below it 0700. */
        if (path_join_root(root, TAKEOVER_BACKUP_DIR, &dir) < 0 || !(rel = strdup(path + strspn(path, "/"))))
                return -ENOMEM;
        if ((top = mkdir_p_open(AT_FDCWD, dir, 0755, 0700)) < 0)
                return top;
        char *name = strrchr(rel, '/');
        if (name) {
                *name++ = '\0';
                fd = mkdir_p_open(top, rel, 0700, 0700);
        } else {
                name = rel;
                fd = TAKE_FD(top);
        }
        if (fd < 0)
                return fd;
        if (faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0; /* the first backup is the one before any takeover */
        return write_file_atomic(fd, name, data, size, 0600, 0, 0);
}
