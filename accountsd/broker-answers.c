/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/broker-answers.h"
#include "basic/macro.h"

const char *broker_policy_name(enum broker_policy p)
{
        return p == BROKER_POLICY_ADMIN ? "adminLogin" : "login";
}

static void answer_done(struct broker_answer *a)
{
        free(a->user);
        free(a->profile);
}

static void remove_at(struct broker_answers *s, size_t i)
{
        answer_done(&s->a[i]);
        s->a[i] = s->a[--s->n];
}

static bool answer_live(const struct broker_answer *a, uint64_t now)
{
        if (a->profile && a->profile_expires > now)
                return true;
        for (int p = 0; p < _BROKER_POLICY_MAX; p++)
                if (a->policy[p] >= 0 && a->policy_expires[p] > now)
                        return true;
        return false;
}

static struct broker_answer *find(struct broker_answers *s, const char *user)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->a[i].user, user))
                        return &s->a[i];
        return NULL;
}

/* USER's entry, made when missing; NULL on ENOMEM. */
static struct broker_answer *get_or_add(struct broker_answers *s, const char *user, uint64_t now)
{
        struct broker_answer *a = find(s, user);

        if (a)
                return a;
        broker_answers_expire(s, now);
        if (s->n >= BROKER_ANSWERS_MAX) {
                size_t oldest = 0;
                for (size_t i = 1; i < s->n; i++)
                        if (s->a[i].touched < s->a[oldest].touched)
                                oldest = i;
                remove_at(s, oldest);
        }
        struct broker_answer *grown = reallocarray(s->a, s->n + 1, sizeof(*grown));
        if (!grown)
                return NULL;
        s->a = grown;
        a = &s->a[s->n];
        *a = (struct broker_answer){.user = strdup(user), .policy = {-1, -1}};
        if (!a->user)
                return NULL;
        s->n++;
        return a;
}

int broker_answers_get_profile(
        struct broker_answers *s, const char *user, uint64_t now, char **ret, size_t *ret_size)
{
        struct broker_answer *a = find(s, user);
        char *copy;

        if (!a || !a->profile || a->profile_expires <= now) {
                s->misses++;
                return 0;
        }
        copy = malloc(a->profile_size + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, a->profile, a->profile_size + 1);
        s->hits++;
        *ret = copy;
        *ret_size = a->profile_size;
        return 1;
}

int broker_answers_get_policy(struct broker_answers *s, const char *user, enum broker_policy p, uint64_t now)
{
        struct broker_answer *a = find(s, user);

        if (!a || a->policy[p] < 0 || a->policy_expires[p] <= now) {
                s->misses++;
                return -1;
        }
        s->hits++;
        return a->policy[p];
}

void broker_answers_put_profile(struct broker_answers *s, const char *user, const char *body, size_t size,
        uint64_t now, uint64_t ttl)
{
        struct broker_answer *a;
        char *copy;

        if (ttl == 0 || !body || !(a = get_or_add(s, user, now)) || !(copy = malloc(size + 1)))
                return;
        memcpy(copy, body, size);
        copy[size] = '\0';
        free(a->profile);
        a->profile = copy;
        a->profile_size = size;
        a->profile_expires = now + ttl;
        a->touched = now;
}

void broker_answers_put_policy(struct broker_answers *s, const char *user, enum broker_policy p, int answer,
        uint64_t now, uint64_t ttl)
{
        struct broker_answer *a;

        if (ttl == 0 || (answer != 0 && answer != 1) || !(a = get_or_add(s, user, now)))
                return;
        a->policy[p] = answer;
        a->policy_expires[p] = now + ttl;
        a->touched = now;
}

void broker_answers_forget(struct broker_answers *s, const char *user)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->a[i].user, user)) {
                        remove_at(s, i);
                        return;
                }
}

void broker_answers_expire(struct broker_answers *s, uint64_t now)
{
        for (size_t i = 0; i < s->n; i++)
                if (!answer_live(&s->a[i], now))
                        remove_at(s, i--);
}

void broker_answers_clear(struct broker_answers *s)
{
        for (size_t i = 0; i < s->n; i++)
                answer_done(&s->a[i]);
        free(s->a);
        *s = (struct broker_answers){};
}
