/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accountsd/audit.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/mkdir-util.h"
#include "mds/json-util.h"

#define REASON_MAX 256u

enum verdict_slot { SLOT_KEY, SLOT_TWO_FACTOR, SLOT_LOGIN, _SLOT_MAX };

struct audit_record {
        bool used, open;
        uint32_t sshd_pid;
        uint64_t first_usec, last_usec; /* CLOCK_REALTIME */
        uint64_t latency_usec;          /* the daemon's own time, all questions */
        char user[USER_NAME_MAX + 1];
        char email[256];
        char fingerprint[128];
        char remote[256 + 1];
        char two_factor[32];
        int verdict[_SLOT_MAX]; /* enum broker_status, -1: not asked */
        char reason[_SLOT_MAX][REASON_MAX];
        size_t n_keys;
        int admin; /* -1 unknown */
        int sudo;  /* 1 granted, -1 revoked, 0 unchanged; 2: not asked */
};

struct audit_log {
        char *dir;
        struct audit_record ring[AUDIT_RING_SIZE];
        size_t next; /* the slot the next record takes */
};

int audit_log_new(const char *dir, struct audit_log **ret)
{
        struct audit_log *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        if (dir && !(a->dir = strdup(dir))) {
                free(a);
                return -ENOMEM;
        }
        *ret = a;
        return 0;
}

static void copy(char *dst, size_t size, const char *src)
{
        if (src && *src)
                snprintf(dst, size, "%s", src);
}

static const char *time_string(uint64_t usec, char buf[static 32])
{
        time_t t = (time_t)(usec / 1000000u);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "@%llu", (unsigned long long)(usec / 1000000u));
        return buf;
}

static void add_string(json_object *o, const char *key, const char *value)
{
        json_object_object_add(o, key, value && *value ? json_object_new_string(value) : NULL);
}

static const char *verdict_string(const struct audit_record *r, enum verdict_slot s)
{
        return r->verdict[s] < 0 ? NULL : broker_status_to_string((enum broker_status)r->verdict[s]);
}

/* Whether slot S refused: anything but a grant (a KEYS grant with no key
 * refuses too), a pending challenge is not a verdict yet. */
static bool slot_refused(const struct audit_record *r, enum verdict_slot s)
{
        if (r->verdict[s] < 0 || r->verdict[s] == BROKER_CHALLENGE || r->verdict[s] == BROKER_NO_FACTOR)
                return false;
        if (s == SLOT_KEY && r->verdict[s] == BROKER_GRANTED)
                return r->n_keys == 0;
        return r->verdict[s] != BROKER_GRANTED;
}

/* The verdict that decided the login: the account's when asked, then the
 * second factor's, then the key's. */
static enum verdict_slot decisive(const struct audit_record *r)
{
        if (slot_refused(r, SLOT_LOGIN) || r->verdict[SLOT_LOGIN] >= 0)
                return SLOT_LOGIN;
        if (slot_refused(r, SLOT_TWO_FACTOR))
                return SLOT_TWO_FACTOR;
        return SLOT_KEY;
}

static json_object *record_json(const struct audit_record *r, bool with_open)
{
        static const char *const slot_names[] = {"key", "two-factor", "account"};
        json_object *o = json_object_new_object();
        char when[32];

        if (!o)
                return NULL;
        enum verdict_slot d = decisive(r);
        bool refused =
                slot_refused(r, SLOT_KEY) || slot_refused(r, SLOT_TWO_FACTOR) || slot_refused(r, SLOT_LOGIN);
        /* A key refused before another was granted did not refuse the login. */
        if (r->verdict[SLOT_KEY] == BROKER_GRANTED && r->n_keys > 0)
                refused = slot_refused(r, SLOT_TWO_FACTOR) || slot_refused(r, SLOT_LOGIN);
        add_string(o, "time", time_string(r->first_usec, when));
        json_object_object_add(o, "time_usec", json_object_new_int64((int64_t)r->first_usec));
        add_string(o, "user", r->user);
        add_string(o, "email", r->email);
        add_string(o, "fingerprint", r->fingerprint);
        add_string(o, "remote", r->remote);
        json_object_object_add(o, "sshd_pid", r->sshd_pid ? json_object_new_int64(r->sshd_pid) : NULL);
        add_string(o, "key", verdict_string(r, SLOT_KEY));
        add_string(o, "login", verdict_string(r, SLOT_LOGIN));
        json_object_object_add(o, "admin", r->admin < 0 ? NULL : json_object_new_boolean(r->admin));
        add_string(o, "sudo",
                r->sudo == 1    ? "granted"
                : r->sudo == -1 ? "revoked"
                : r->sudo == 0  ? "unchanged"
                                : NULL);
        add_string(o, "two_factor", r->two_factor);
        add_string(o, "two_factor_result", verdict_string(r, SLOT_TWO_FACTOR));
        json_object_object_add(o, "refused", json_object_new_boolean(refused));
        add_string(o, "refused_by", refused ? slot_names[d] : NULL);
        add_string(o, "reason", refused ? r->reason[d] : NULL);
        json_object_object_add(
                o, "duration_usec", json_object_new_int64((int64_t)(r->last_usec - r->first_usec)));
        json_object_object_add(o, "latency_usec", json_object_new_int64((int64_t)r->latency_usec));
        if (with_open)
                json_object_object_add(o, "open", json_object_new_boolean(r->open));
        return o;
}

/* Appends R to DIR/audit.log; past AUDIT_FILE_MAX the file becomes
 * audit.log.1 (the one before is dropped) and a new one starts. */
static int write_record(struct audit_log *a, const struct audit_record *r)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *line = NULL;
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        struct stat st;

        if (!a->dir)
                return 0;
        if (!(o = record_json(r, false)) ||
                asprintf(&line, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
                return -ENOMEM;
        /* DIR and its parents (a test root may lack /var/log). */
        if ((dir = mkdir_p_open(AT_FDCWD, a->dir, 0750, 0750)) < 0)
                return dir;
        fd = openat(dir, AUDIT_FILE_NAME, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size + strlen(line) > AUDIT_FILE_MAX) {
                fd = safe_close(fd);
                if (renameat(dir, AUDIT_FILE_NAME, dir, AUDIT_FILE_NAME ".1") < 0)
                        return -errno;
                fd = openat(
                        dir, AUDIT_FILE_NAME, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        }
        if (fd < 0)
                return -errno;
        size_t n = strlen(line);
        if (write(fd, line, n) != (ssize_t)n)
                return -EIO;
        return 0;
}

static void close_record(struct audit_log *a, struct audit_record *r)
{
        if (!r->open)
                return;
        r->open = false;
        int k = write_record(a, r);
        if (k < 0)
                log_warning_errno(k,
                        "Cannot append to %s/" AUDIT_FILE_NAME " (the record stays in memory): %m", a->dir);
}

void audit_log_expire(struct audit_log *a, uint64_t now_usec)
{
        if (!a)
                return;
        for (size_t i = 0; i < AUDIT_RING_SIZE; i++) {
                struct audit_record *r = &a->ring[i];
                if (r->used && r->open && now_usec > r->last_usec + AUDIT_JOIN_USEC)
                        close_record(a, r);
        }
}

void audit_log_free(struct audit_log *a)
{
        if (!a)
                return;
        for (size_t i = 0; i < AUDIT_RING_SIZE; i++)
                if (a->ring[i].used)
                        close_record(a, &a->ring[i]);
        free(a->dir);
        free(a);
}

/* The open record N belongs to: same user, and the same sshd session when
 * both PIDs are known; by user alone only within seconds. Newest first. */
static struct audit_record *find_open(struct audit_log *a, const struct audit_note *n)
{
        for (size_t k = 1; k <= AUDIT_RING_SIZE; k++) {
                struct audit_record *r = &a->ring[(a->next + AUDIT_RING_SIZE - k) % AUDIT_RING_SIZE];
                if (!r->used || !r->open || !streq(r->user, n->user))
                        continue;
                if (r->sshd_pid && n->sshd_pid) {
                        if (r->sshd_pid == n->sshd_pid || r->sshd_pid == n->parent_pid)
                                return r;
                } else if (n->now_usec <= r->last_usec + 10ull * 1000000u)
                        return r;
        }
        return NULL;
}

static struct audit_record *new_record(struct audit_log *a, const struct audit_note *n)
{
        struct audit_record *r = &a->ring[a->next];

        if (r->used)
                close_record(a, r); /* never lost: written before it is reused */
        a->next = (a->next + 1) % AUDIT_RING_SIZE;
        *r = (struct audit_record){
                .used = true, .open = true, .first_usec = n->now_usec, .admin = -1, .sudo = 2};
        for (size_t s = 0; s < _SLOT_MAX; s++)
                r->verdict[s] = -1;
        copy(r->user, sizeof(r->user), n->user);
        return r;
}

void audit_log_note(struct audit_log *a, const struct audit_note *n)
{
        enum verdict_slot slot;
        struct audit_record *r;

        /* A local account's login is the host's: not an OS Login record. */
        if (!a || !n->user || !*n->user || n->status == BROKER_NOT_OURS)
                return;
        switch (n->kind) {
        case BROKER_KEYS:
        case BROKER_PRINCIPALS:
                slot = SLOT_KEY;
                break;
        case BROKER_AUTH_START:
        case BROKER_AUTH_CONTINUE:
                slot = SLOT_TWO_FACTOR;
                break;
        case BROKER_ACCOUNT:
                slot = SLOT_LOGIN;
                break;
        default:
                return;
        }
        audit_log_expire(a, n->now_usec);
        r = find_open(a, n);
        /* sshd asks KEYS again for another key; a KEYS after the account
         * question is a new login. */
        if (!r)
                r = new_record(a, n);
        if (!r->sshd_pid)
                r->sshd_pid = n->sshd_pid;
        copy(r->email, sizeof(r->email), n->email);
        copy(r->remote, sizeof(r->remote), n->remote);
        copy(r->two_factor, sizeof(r->two_factor), n->two_factor);
        r->last_usec = MAX(r->last_usec, n->now_usec);
        r->latency_usec += n->latency_usec;
        /* A key already granted stays the login's key: sshd may try others. */
        bool key_granted = r->verdict[SLOT_KEY] == BROKER_GRANTED && r->n_keys > 0;
        if (slot != SLOT_KEY || !key_granted) {
                r->verdict[slot] = (int)n->status;
                copy(r->reason[slot], sizeof(r->reason[slot]), n->message);
                if (slot == SLOT_KEY) {
                        r->n_keys = n->n_keys;
                        copy(r->fingerprint, sizeof(r->fingerprint), n->fingerprint);
                }
        }
        if (slot == SLOT_LOGIN) {
                r->admin = n->status == BROKER_GRANTED ? n->admin : -1;
                r->sudo = n->sudo;
                close_record(a, r);
        }
}

int audit_log_dump(struct audit_log *a, FILE *f)
{
        for (size_t k = 0; a && k < AUDIT_RING_SIZE; k++) {
                const struct audit_record *r = &a->ring[(a->next + k) % AUDIT_RING_SIZE];
                if (!r->used)
                        continue;
                _cleanup_(json_object_putp) json_object *o = record_json(r, true);
                if (!o)
                        return -ENOMEM;
                fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        }
        return 0;
}
