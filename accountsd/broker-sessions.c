/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "accountsd/broker-sessions.h"
#include "basic/macro.h"

static void session_done(struct broker_session *s)
{
        if (s->mds_session)
                explicit_bzero(s->mds_session, strlen(s->mds_session));
        free(s->mds_session);
        free(s->email);
        explicit_bzero(s, sizeof(*s));
}

static int make_token(char ret[static 2 * BROKER_TOKEN_BYTES + 1])
{
        static const char hex[] = "0123456789abcdef";
        uint8_t bytes[BROKER_TOKEN_BYTES];
        ssize_t n = getrandom(bytes, sizeof(bytes), GRND_NONBLOCK);

        if (n != (ssize_t)sizeof(bytes))
                return n < 0 ? -errno : -EIO;
        for (size_t i = 0; i < sizeof(bytes); i++) {
                ret[2 * i] = hex[bytes[i] >> 4];
                ret[2 * i + 1] = hex[bytes[i] & 15];
        }
        ret[2 * BROKER_TOKEN_BYTES] = '\0';
        explicit_bzero(bytes, sizeof(bytes));
        return 0;
}

int broker_sessions_add(struct broker_sessions *t, const char *user, char *email, char *mds_session,
        uint64_t now, const char **ret_token)
{
        struct broker_session s = {
                .email = email, .mds_session = mds_session, .expires = now + BROKER_SESSION_TTL_USEC};
        int r;

        broker_sessions_expire(t, now);
        if (t->n >= BROKER_SESSIONS_MAX || strlen(user) >= sizeof(s.user)) {
                session_done(&s);
                return -EBUSY;
        }
        if ((r = make_token(s.token)) < 0) {
                session_done(&s);
                return r;
        }
        struct broker_session *grown = reallocarray(t->s, t->n + 1, sizeof(*grown));
        if (!grown) {
                session_done(&s);
                return -ENOMEM;
        }
        t->s = grown;
        strcpy(s.user, user);
        t->s[t->n] = s;
        *ret_token = t->s[t->n++].token;
        return 0;
}

struct broker_session *broker_sessions_find(
        struct broker_sessions *t, const char *token, const char *user, uint64_t now)
{
        broker_sessions_expire(t, now);
        for (size_t i = 0; i < t->n; i++)
                if (strlen(token) == 2 * BROKER_TOKEN_BYTES && streq(t->s[i].token, token))
                        return streq(t->s[i].user, user) ? &t->s[i] : NULL;
        return NULL;
}

void broker_sessions_remove(struct broker_sessions *t, struct broker_session *s)
{
        size_t i = (size_t)(s - t->s);

        if (i >= t->n)
                return;
        session_done(&t->s[i]);
        t->s[i] = t->s[--t->n];
}

void broker_sessions_expire(struct broker_sessions *t, uint64_t now)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->s[i].expires <= now && !t->s[i].busy) {
                        session_done(&t->s[i]);
                        t->s[i] = t->s[--t->n];
                        i--;
                }
}

void broker_sessions_clear(struct broker_sessions *t)
{
        for (size_t i = 0; i < t->n; i++)
                session_done(&t->s[i]);
        free(t->s);
        *t = (struct broker_sessions){};
}
