/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Two-factor sessions in progress. The metadata server's session id never
 * leaves the daemon: the PAM module gets an opaque token (128 random bits
 * from getrandom(), hex), valid only for the user it was made for and for
 * BROKER_SESSION_TTL_USEC. A token is used by one AUTH_CONTINUE at a time
 * and is gone once the flow ends (granted or denied). Event loop only. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/broker-proto.h"

#define BROKER_SESSION_TTL_USEC (300ull * 1000000u)
#define BROKER_SESSIONS_MAX 256u
#define BROKER_TOKEN_BYTES 16u

struct broker_session {
        char token[2 * BROKER_TOKEN_BYTES + 1];
        char user[USER_NAME_MAX + 1];
        char *email, *mds_session;
        uint64_t expires;
        bool busy; /* an AUTH_CONTINUE is being decided */
};

struct broker_sessions {
        struct broker_session *s;
        size_t n;
};

/* A new session for USER (takes EMAIL and MDS_SESSION, also on failure);
 * *RET_TOKEN points into it. -EBUSY when full (after dropping the expired),
 * -errno when no randomness. */
int broker_sessions_add(struct broker_sessions *t, const char *user, char *email, char *mds_session,
        uint64_t now, const char **ret_token);
/* The live session TOKEN of USER, or NULL (unknown, expired, another user's). */
struct broker_session *broker_sessions_find(
        struct broker_sessions *t, const char *token, const char *user, uint64_t now);
void broker_sessions_remove(struct broker_sessions *t, struct broker_session *s);
void broker_sessions_expire(struct broker_sessions *t, uint64_t now);
void broker_sessions_clear(struct broker_sessions *t);
