/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "accountsd/journal.h"
#include "basic/log.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define EVENT_FIELDS_MAX 24

static void journal_sink(int level, const char *message_id, const struct log_field *fields, size_t n_fields,
        const char *message)
{
        char *lines[EVENT_FIELDS_MAX + 4] = {};
        struct iovec iov[EVENT_FIELDS_MAX + 4];
        size_t n = 0;
        int r = 0;

        if (asprintf(&lines[n++], "MESSAGE=%s", message) < 0 ||
                asprintf(&lines[n++], "MESSAGE_ID=%s", message_id) < 0 ||
                asprintf(&lines[n++], "PRIORITY=%d", level) < 0 ||
                asprintf(&lines[n++], "SYSLOG_IDENTIFIER=oslogin-accountsd") < 0)
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n_fields && n < EVENT_FIELDS_MAX + 4; i++) {
                if (!fields[i].value || !*fields[i].value)
                        continue;
                if (asprintf(&lines[n++], "%s=%s", fields[i].name, fields[i].value) < 0)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < n; i++)
                iov[i] = (struct iovec){.iov_base = lines[i], .iov_len = strlen(lines[i])};
        if (r == 0)
                r = sd_journal_sendv(iov, (int)n);
        for (size_t i = 0; i < n; i++)
                free(lines[i]);
        if (r < 0) {
                /* The record must not be lost: fall back to the text form. */
                char line[4096];
                (void)log_event_format(line, sizeof(line), message_id, fields, n_fields, message);
                log_internal(level, 0, "%s", line);
        }
}

int journal_events_open(void)
{
        /* OSLOGIN_JOURNAL=0 keeps events on stderr (tests that read them there). */
        const char *e = secure_getenv("OSLOGIN_JOURNAL");

        if ((e && streq(e, "0")) || access(JOURNAL_SOCKET, W_OK) < 0)
                return 0;
        log_set_event_sink(journal_sink);
        return 1;
}
