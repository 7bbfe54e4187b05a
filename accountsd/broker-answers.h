/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Answers shared within one login. sshd runs the key helper twice (once
 * to ask which key may be tried, once to verify the signature), then the
 * PAM account step: without sharing, each asked the metadata server for
 * the profile and the login policy again. The store keeps, per user name:
 *   - the profile (the server's JSON, parsed again by each decision),
 *   - the answer of authorize?policy=login,
 *   - the answer of authorize?policy=adminLogin,
 * each until its own expiry (config [broker] answer_ttl, admin_ttl).
 *
 * Only answers are kept: a profile that parsed, a granted or denied
 * policy. A failure (server unreachable, timeout, 5xx, garbage, 404) is
 * never kept, so the next question asks again.
 *
 * Used from the event loop only (no lock): a decision job takes a copy of
 * what is known before it goes to a worker thread, and what it learned is
 * put back when it is done. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_ANSWERS_MAX 1024u

enum broker_policy {
        BROKER_POLICY_LOGIN,
        BROKER_POLICY_ADMIN,
        _BROKER_POLICY_MAX,
};

const char *broker_policy_name(enum broker_policy p); /* "login", "adminLogin" */

struct broker_answer {
        char *user;
        char *profile; /* NUL-terminated JSON, NULL: not known */
        size_t profile_size;
        uint64_t profile_expires;
        int policy[_BROKER_POLICY_MAX]; /* 1 granted, 0 denied, -1 not known */
        uint64_t policy_expires[_BROKER_POLICY_MAX];
        uint64_t touched; /* the last put: the oldest goes first when full */
};

struct broker_answers {
        struct broker_answer *a;
        size_t n;
        uint64_t hits, misses;
};

/* A copy of USER's profile if known at NOW: 1 and *RET (malloc'd), 0 when
 * not known, -ENOMEM. */
int broker_answers_get_profile(
        struct broker_answers *s, const char *user, uint64_t now, char **ret, size_t *ret_size);
/* 1/0 when known at NOW, -1 when not. */
int broker_answers_get_policy(
        struct broker_answers *s, const char *user, enum broker_policy p, uint64_t now);
/* Keep BODY as USER's profile until NOW + TTL (TTL 0: not kept). */
void broker_answers_put_profile(struct broker_answers *s, const char *user, const char *body, size_t size,
        uint64_t now, uint64_t ttl);
/* Keep ANSWER (1/0; anything else is a failure and is not kept). */
void broker_answers_put_policy(struct broker_answers *s, const char *user, enum broker_policy p, int answer,
        uint64_t now, uint64_t ttl);
/* Drops everything known about USER (a refused profile). */
void broker_answers_forget(struct broker_answers *s, const char *user);
/* Drops the expired entries. */
void broker_answers_expire(struct broker_answers *s, uint64_t now);
void broker_answers_clear(struct broker_answers *s);
