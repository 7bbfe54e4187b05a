/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"

static const char *log_ident = "oslogin";
static enum log_target log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;
static int log_facility = LOG_USER;
static log_event_sink_t log_event_sink;

void log_open(const char *ident, enum log_target target, int syslog_facility)
{
        if (ident)
                log_ident = ident;
        if (target == LOG_TARGET_AUTO)
                target = secure_getenv("JOURNAL_STREAM") ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
        log_target = target;
        log_facility = syslog_facility;
        if (target == LOG_TARGET_SYSLOG)
                openlog(log_ident, LOG_PID | LOG_NDELAY, syslog_facility);
}

void log_set_max_level(int level)
{
        log_max_level = level;
}

int log_get_max_level(void)
{
        return log_max_level;
}

int log_internal(int level, int error, const char *format, ...)
{
        int saved_errno = errno;
        char message[2048];
        va_list ap;

        if (error > 0)
                errno = error;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        switch (log_target) {
        case LOG_TARGET_SYSLOG:
                syslog(level, "%s", message);
                break;
        case LOG_TARGET_SYSLOG_SHARED:
                syslog(log_facility | level, "%s: %s", log_ident, message);
                break;
        case LOG_TARGET_AUTO:
        case LOG_TARGET_JOURNAL: /* stderr is the journal: it reads "<N>" as the priority */
                fprintf(stderr, "<%d>%s\n", level, message);
                break;
        case LOG_TARGET_STDERR:
                fprintf(stderr, "%s: %s\n", log_ident, message);
                break;
        case LOG_TARGET_NULL:
                break;
        }

        errno = saved_errno;
        return error > 0 ? -error : 0;
}

void log_set_event_sink(log_event_sink_t sink)
{
        log_event_sink = sink;
}

static bool needs_quotes(const char *value)
{
        return !*value || strpbrk(value, " \"=\t") != NULL;
}

int log_event_format(char *buf, size_t size, const char *message_id, const struct log_field *fields,
        size_t n_fields, const char *message)
{
        size_t used = 0;
        int n = snprintf(buf, size, "%s  MESSAGE_ID=%s", message, message_id);

        if (n < 0)
                return -EINVAL;
        used = (size_t)n;
        for (size_t i = 0; i < n_fields && used < size; i++) {
                const char *v = fields[i].value;
                if (!v || !*v)
                        continue;
                if (!needs_quotes(v)) {
                        n = snprintf(buf + used, size - used, " %s=%s", fields[i].name, v);
                        used += n > 0 ? (size_t)n : 0;
                        continue;
                }
                n = snprintf(buf + used, size - used, " %s=\"", fields[i].name);
                used += n > 0 ? (size_t)n : 0;
                for (const char *c = v; *c && used + 3 < size; c++) {
                        if (*c == '"' || *c == '\\')
                                buf[used++] = '\\';
                        buf[used++] = *c;
                }
                if (used + 1 < size)
                        buf[used++] = '"';
                buf[used < size ? used : size - 1] = '\0';
        }
        return used >= size ? -ENOBUFS : 0;
}

void log_event(int level, const char *message_id, const struct log_field *fields, size_t n_fields,
        const char *format, ...)
{
        int saved_errno = errno;
        char message[2048], line[4096];
        va_list ap;

        if (level > log_max_level)
                return;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);
        if (log_event_sink)
                log_event_sink(level, message_id, fields, n_fields, message);
        else {
                (void)log_event_format(line, sizeof(line), message_id, fields, n_fields, message);
                log_internal(level, 0, "%s", line);
        }
        errno = saved_errno;
}
