/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "authorized-keys-cmd/helper.h"
#include "basic/log.h"
#include "basic/parse-util.h"

void helper_setup(const char *ident)
{
        /* sshd may stop reading once it found its key: a write then fails
         * with EPIPE instead of killing us. */
        signal(SIGPIPE, SIG_IGN);
        log_open(ident, LOG_TARGET_SYSLOG, LOG_AUTHPRIV);
}

bool helper_valid_argument(const char *s, size_t max)
{
        size_t n = strlen(s);

        if (n > max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

static unsigned timeout_ms(void)
{
        const char *s = secure_getenv(HELPER_TIMEOUT_ENV);
        uint32_t v;

        return s && safe_atou32(s, &v) >= 0 && v > 0 ? v : HELPER_TIMEOUT_MS_DEFAULT;
}

static void print_lines(char **lines)
{
        STRV_FOREACH (l, lines)
                if (fputs(*l, stdout) == EOF || putchar('\n') == EOF)
                        break; /* sshd closed the pipe: it has what it needs */
        (void)fflush(stdout);
}

int helper_run(const struct broker_request *q)
{
        const char *path = secure_getenv(HELPER_SOCKET_ENV) ?: BROKER_KEYS_SOCKET_PATH;
        const char *what = broker_kind_to_string(q->kind);
        struct broker_reply reply = {};
        int r;

        r = broker_query(path, q, timeout_ms(), &reply);
        if (r < 0) {
                log_warning("user=%s %s: accountsd unreachable at %s (%s); no %s from OS Login", q->user,
                        what, path, r == -EBADMSG ? "malformed reply" : strerror(-r), what);
                return 1;
        }
        switch (reply.status) {
        case BROKER_GRANTED:
                print_lines(reply.lines);
                broker_reply_done(&reply);
                return 0;
        case BROKER_DENIED:
        case BROKER_UNKNOWN_USER:
        case BROKER_NOT_OURS:
                /* accountsd logged the decision; no keys is the answer. */
                return 0;
        case BROKER_REFUSED:
                log_warning("user=%s %s: accountsd refused to answer this caller (%s); is it the "
                            "AuthorizedKeysCommandUser?",
                        q->user, what, reply.message);
                return 1;
        default:
                log_warning("user=%s %s: accountsd cannot decide now (%s): %s; no %s from OS Login", q->user,
                        what, broker_status_to_string(reply.status), reply.message, what);
                return 1;
        }
}
