/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The OS Login two-factor flow (POST authenticate/sessions/start, then
 * authenticate/sessions/ID/continue): request bodies and validated
 * answers. The conversation with the user is the PAM module's. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"

#define TWO_FACTOR_MAX_CHALLENGES 16

/* The longest rejection reason kept (bytes, before the NUL). */
#define TWO_FACTOR_MAX_REASON 256

enum two_factor_status {
        TWO_FACTOR_FAILED,
        TWO_FACTOR_CHALLENGE_REQUIRED,
        TWO_FACTOR_AUTHENTICATED,
        TWO_FACTOR_NO_AVAILABLE_CHALLENGES, /* the user has no second factor at all */
};

/* What a continue request asks (doc/oslogin-policies.md): RESPOND carries
 * the credential; START_ALTERNATE makes the server send a factor that is
 * only PROPOSED (an SMS, a call, a phone prompt) and carries none. */
enum two_factor_action {
        TWO_FACTOR_RESPOND,
        TWO_FACTOR_START_ALTERNATE,
};

struct two_factor_challenge {
        int id;
        char *type; /* "TOTP", "AUTHZEN", "INTERNAL_TWO_FACTOR", "SECURITY_KEY_OTP", ... */
        bool ready; /* status "READY"; anything else needs START_ALTERNATE before RESPOND */
};

struct two_factor_session {
        enum two_factor_status status;
        char *session_id; /* [A-Za-z0-9_-], safe in a URL path */
        struct two_factor_challenge challenges[TWO_FACTOR_MAX_CHALLENGES];
        size_t n_challenges; /* only the types we can drive (two_factor_prompt) */
};

int two_factor_start_request(const char *email, char **ret_json);
/* -EBADMSG when malformed or when a challenge is required without a usable
 * session id. */
int two_factor_start_parse(const char *json, size_t size, struct two_factor_session *ret);
void two_factor_session_done(struct two_factor_session *s);

/* CREDENTIAL NULL: no code (AUTHZEN, approved on the phone). A RESPOND.
 * The JSON holds the code: the caller wipes it; json-c's copies are wiped
 * here. */
int two_factor_continue_request(
        const char *email, int challenge_id, const char *credential, char **ret_json);
/* Any action; START_ALTERNATE never carries a credential (-EINVAL if given). */
int two_factor_continue_request_action(const char *email, int challenge_id, enum two_factor_action action,
        const char *credential, char **ret_json);
/* action START_ALTERNATE: trigger challenge CHALLENGE_ID (an SMS, a phone
 * prompt) instead of answering the one proposed. */
int two_factor_alternate_request(const char *email, int challenge_id, char **ret_json);
/* 1 authenticated, 0 anything else, -EBADMSG when not JSON. */
int two_factor_continue_parse(const char *json, size_t size);
/* The same, and on 0 the server's "rejectionReason" in *RET_REASON (NULL
 * when there is none): made safe to show (control characters become '?',
 * at most TWO_FACTOR_MAX_REASON bytes, cut on a UTF-8 boundary). */
int two_factor_continue_parse_reason(const char *json, size_t size, char **ret_reason);
/* Whether a challenge must be started (START_ALTERNATE) before RESPOND. */
static inline bool two_factor_needs_start(const struct two_factor_challenge *c)
{
        return !c->ready;
}

/* What to ask for TYPE: a prompt for a code, "" when the user only confirms
 * (AUTHZEN), NULL for types we cannot drive (SECURITY_KEY). */
const char *two_factor_prompt(const char *type);
/* A name for the menu ("Google Authenticator" for TOTP). */
const char *two_factor_label(const char *type);
