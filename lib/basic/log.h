/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Logging for programs (daemon, helpers, CLI). Library code logs at debug at
 * most; programs log once per event with the subject quoted.
 *
 * Targets: stderr with "<N>" priority prefixes when stderr is the journal
 * (JOURNAL_STREAM set), plain "prog: message" on a terminal, or syslog
 * (LOG_AUTHPRIV) for the AuthorizedKeysCommand. The NSS module does not log;
 * the PAM module uses pam_syslog() for its decisions and routes the library
 * code's messages to LOG_TARGET_SYSLOG_SHARED (its own static copy of this
 * state: libbasic is linked in with hidden symbols). */

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#include "basic/macro.h"

enum log_target {
        LOG_TARGET_AUTO,          /* journal prefixes if JOURNAL_STREAM is set, else plain stderr */
        LOG_TARGET_STDERR,        /* plain stderr */
        LOG_TARGET_JOURNAL,       /* stderr with "<N>" priority prefixes */
        LOG_TARGET_SYSLOG,        /* syslog(3) with the facility given to log_open() */
        LOG_TARGET_SYSLOG_SHARED, /* syslog(3) without openlog(): we are a module in
                                   * someone else's process (PAM); "ident: " prefixed */
        LOG_TARGET_NULL,
};

void log_open(const char *ident, enum log_target target, int syslog_facility);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Logs at LEVEL; if ERROR is non-zero, errno is set to |ERROR| while
 * formatting so "%m" names it. Returns -|ERROR| (or 0), so callers can write
 * `return log_error_errno(r, "Failed to open \"%s\": %m", path);`. */
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...)                                                                   \
        ({                                                                                                  \
                int _level_ = (level), _e_ = (error);                                                       \
                _e_ = _e_ < 0 ? -_e_ : _e_;                                                                 \
                _level_ <= log_get_max_level() ? log_internal(_level_, _e_, __VA_ARGS__) : -_e_;            \
        })
#define log_full(level, ...) ((void)log_full_errno((level), 0, __VA_ARGS__))

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/* Structured events: one record per thing that happened to someone (a key
 * or account decision, a sudo grant, a user created...), with a stable
 * MESSAGE_ID (basic/message-ids.h, doc/journal.md) and fields named
 * OSLOGIN_* so `journalctl -o verbose OSLOGIN_USER=alice` finds them. The
 * daemon installs a sink that sends them to the journal natively
 * (accountsd/journal.c); without one they go through log_internal() as
 * "MESSAGE  MESSAGE_ID=… FIELD=value …" (values with a space, '"' or '='
 * quoted). A field whose value is NULL or "" is left out. */
struct log_field {
        const char *name;
        const char *value;
};
#define LOG_FIELDS(...)                                                                                     \
        ((const struct log_field[]){__VA_ARGS__}),                                                          \
                (sizeof((const struct log_field[]){__VA_ARGS__}) / sizeof(struct log_field))

typedef void (*log_event_sink_t)(int level, const char *message_id, const struct log_field *fields,
        size_t n_fields, const char *message);
void log_set_event_sink(log_event_sink_t sink);

/* log_event(LOG_NOTICE, MESSAGE_ID_KEY_DECISION,
 *           LOG_FIELDS({"OSLOGIN_USER", user}, {"OSLOGIN_DECISION", "denied"}),
 *           "Keys for \"%s\" refused: %s", user, reason); */
void log_event(int level, const char *message_id, const struct log_field *fields, size_t n_fields,
        const char *format, ...) _printf_(5, 6);
/* The fallback text of an event (what log_event writes without a sink). */
int log_event_format(char *buf, size_t size, const char *message_id, const struct log_field *fields,
        size_t n_fields, const char *message);
