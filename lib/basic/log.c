/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "basic/log.h"

static const char *log_ident = "oslogin";
static enum log_target log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;
static int log_facility = LOG_USER;

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
