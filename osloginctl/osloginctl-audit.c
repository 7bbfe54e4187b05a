/* SPDX-License-Identifier: Apache-2.0 */
/* osloginctl audit and why: the login records of oslogin-accountsd
 * (accountsd/audit.h). Closed records come from its audit.log (and the
 * rotated audit.log.1), the ones still open from the daemon's ring. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/control-proto.h"
#include "osloginctl/control-client.h"
#include "osloginctl/osloginctl.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/parse-util.h"
#include "basic/path-util.h"
#include "basic/time-util.h"

#define AUDIT_READ_MAX (2u * AUDIT_FILE_MAX)

static const char *get(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static bool get_bool(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && v && json_object_get_boolean(v);
}

static int64_t get_int(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : 0;
}

/* Appends the JSON lines of TEXT to ARRAY: a line that does not parse
 * (a torn last line after a crash) is skipped. */
static void add_lines(json_object *array, char *text, json_object *seen)
{
        char *save = NULL;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                json_object *o = json_tokener_parse(line);
                char key[96];
                if (!o || !json_object_is_type(o, json_type_object)) {
                        json_object_put(o);
                        continue;
                }
                /* The same record in the file and in the ring: once. */
                snprintf(key, sizeof(key), "%lld/%s/%lld", (long long)get_int(o, "time_usec"),
                        get(o, "user") ?: "", (long long)get_int(o, "sshd_pid"));
                if (json_object_object_get_ex(seen, key, NULL)) {
                        json_object_put(o);
                        continue;
                }
                json_object_object_add(seen, key, NULL);
                json_object_object_del(o, "open");
                json_object_array_add(array, o);
        }
}

/* Every record known, oldest first. */
static int load_records(const struct ctl *c, json_object **ret)
{
        _cleanup_free_ char *dir = NULL, *ring = NULL;
        _cleanup_close_ int fd = -EBADF;
        json_object *array = json_object_new_array(), *seen = json_object_new_object();
        int file_error = 0, r;

        if (!array || !seen || path_join_root(c->root, AUDIT_DIR, &dir) < 0) {
                json_object_put(array);
                json_object_put(seen);
                return -ENOMEM;
        }
        fd = open_dir_nofollow(AT_FDCWD, dir, 0);
        if (fd < 0)
                file_error = fd;
        for (int i = 0; fd >= 0 && i < 2; i++) {
                _cleanup_free_ char *data = NULL;
                r = read_file_bounded(
                        fd, i == 0 ? AUDIT_FILE_NAME ".1" : AUDIT_FILE_NAME, AUDIT_READ_MAX, &data, NULL);
                if (r == 0)
                        add_lines(array, data, seen);
                else if (r != -ENOENT)
                        file_error = r;
        }
        r = control_query(c->runtime_dir, "audit", CONTROL_TIMEOUT_MS * 2, &ring);
        if (r == 0)
                add_lines(array, ring, seen);
        json_object_put(seen);
        if (r < 0 && (r == -EACCES || r == -EPERM || file_error == -EACCES)) {
                json_object_put(array);
                return -EACCES;
        }
        if (r < 0)
                log_warning(
                        "oslogin-accountsd is not reachable (%s): logins still in progress are not shown.",
                        strerror(-r));
        *ret = array;
        return 0;
}

static int by_time(const void *a, const void *b)
{
        int64_t x = get_int(*(json_object *const *)a, "time_usec"),
                y = get_int(*(json_object *const *)b, "time_usec");
        return x < y ? -1 : x > y;
}

static void print_record(json_object *o)
{
        const char *email = get(o, "email"), *remote = get(o, "remote"), *fp = get(o, "fingerprint");
        const char *tf = get(o, "two_factor"), *sudo = get(o, "sudo");

        printf("%s %s", get(o, "time") ?: "?", get(o, "user") ?: "?");
        if (email)
                printf(" <%s>", email);
        if (remote)
                printf(" from %s", remote);
        if (fp)
                printf(" key %s", fp);
        if (tf)
                printf(" 2fa %s %s", tf, get(o, "two_factor_result") ?: "pending");
        if (get_bool(o, "refused"))
                printf(": REFUSED by %s: %s", get(o, "refused_by") ?: "?", get(o, "reason") ?: "?");
        else if (get(o, "login"))
                printf(": login %s%s%s%s", get(o, "login"), get_bool(o, "admin") ? ", admin" : "",
                        sudo && !streq(sudo, "unchanged") ? ", sudo " : "",
                        sudo && !streq(sudo, "unchanged") ? sudo : "");
        else
                printf(": key %s, no account decision yet", get(o, "key") ?: "not asked");
        printf(" (%lld ms)\n", (long long)(get_int(o, "duration_usec") / 1000));
}

int cmd_audit(const struct ctl *c, const char *user, const char *since)
{
        json_object *all = NULL, *out;
        uint64_t since_usec = 0;
        int r;

        if (since && parse_since(since, now_realtime_usec(), &since_usec) < 0)
                return ctl_usage_error(
                        "--since=\"%s\": not a time (YYYY-MM-DD[THH:MM[:SS]], today, yesterday, 2h...)",
                        since);
        r = load_records(c, &all);
        if (r < 0)
                return ctl_socket_error(c, CONTROL_SOCKET_NAME, r);
        out = json_object_new_array();
        for (size_t i = 0; out && i < json_object_array_length(all); i++) {
                json_object *o = json_object_array_get_idx(all, i);
                if ((user && !streq(get(o, "user") ?: "", user)) ||
                        (uint64_t)get_int(o, "time_usec") < since_usec)
                        continue;
                json_object_array_add(out, json_object_get(o));
        }
        json_object_put(all);
        if (!out)
                return EXIT_FAILURE;
        json_object_array_sort(out, by_time);
        if (c->json) {
                ctl_print_json(out);
                return 0;
        }
        for (size_t i = 0; i < json_object_array_length(out); i++)
                print_record(json_object_array_get_idx(out, i));
        if (json_object_array_length(out) == 0)
                printf("No login records%s%s.\n", user ? " of " : "", user ?: "");
        json_object_put(out);
        return 0;
}

int cmd_why(const struct ctl *c, const char *user)
{
        json_object *all = NULL, *refused = NULL, *later = NULL;
        int r = load_records(c, &all);

        if (r < 0)
                return ctl_socket_error(c, CONTROL_SOCKET_NAME, r);
        json_object_array_sort(all, by_time);
        for (size_t i = json_object_array_length(all); i-- > 0;) {
                json_object *o = json_object_array_get_idx(all, i);
                if (!streq(get(o, "user") ?: "", user))
                        continue;
                if (get_bool(o, "refused")) {
                        refused = o;
                        break;
                }
                if (!later && get(o, "login") && streq(get(o, "login"), "granted"))
                        later = o;
        }
        if (!refused) {
                printf("No refused login of %s on record.\n", user);
                json_object_put(all);
                return EXIT_NOTFOUND;
        }
        const char *remote = get(refused, "remote");
        printf("%s was refused at %s%s%s by the %s decision: %s.%s%s%s\n", user, get(refused, "time") ?: "?",
                remote ? " from " : "", remote ?: "", get(refused, "refused_by") ?: "?",
                get(refused, "reason") ?: "?", later ? " (A later login, at " : "",
                later ? get(later, "time") : "", later ? ", was granted.)" : "");
        json_object_put(all);
        return 0;
}

int parse_since(const char *s, uint64_t now_usec, uint64_t *ret_usec)
{
        struct tm tm = {};
        time_t day = (time_t)(now_usec / 1000000u) / 86400 * 86400;
        uint64_t n;
        const char *end;

        if (streq(s, "today") || streq(s, "yesterday")) {
                *ret_usec = (uint64_t)(day - (streq(s, "yesterday") ? 86400 : 0)) * 1000000u;
                return 0;
        }
        if (s[0] == '@')
                return safe_atou64(s + 1, &n) < 0 ? -EINVAL : (*ret_usec = n * 1000000u, 0);
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                {"s", 1000000ull},
                {"min", 60000000ull},
                {"h", 3600000000ull},
                {"d", 86400000000ull},
        };
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                size_t len = strlen(s), sl = strlen(units[i].suffix);
                char digits[24];
                if (len <= sl || len - sl >= sizeof(digits) || !streq(s + len - sl, units[i].suffix))
                        continue;
                memcpy(digits, s, len - sl);
                digits[len - sl] = '\0';
                if (safe_atou64(digits, &n) < 0 || n > now_usec / units[i].usec)
                        return -EINVAL;
                *ret_usec = now_usec - n * units[i].usec;
                return 0;
        }
        static const char *const formats[] = {
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                tm = (struct tm){};
                end = strptime(s, formats[i], &tm);
                if (end && (*end == '\0' || streq(end, "Z"))) {
                        time_t t = timegm(&tm);
                        if (t < 0)
                                return -EINVAL;
                        *ret_usec = (uint64_t)t * 1000000u;
                        return 0;
                }
        }
        return -EINVAL;
}
