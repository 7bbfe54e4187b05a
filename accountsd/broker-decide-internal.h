/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the decision files (broker-decide.c, broker-decide-two-factor.c)
 * share; nothing else includes this. */

#include "accountsd/broker-decide.h"
#include "basic/macro.h"

struct oslogin_profile;

/* Sets R's status and its message (printf FORMAT). */
_printf_(3, 4) void decision_reply_set(
        struct broker_reply *r, enum broker_status status, const char *format, ...);
/* One event per decision (KEYS and ACCOUNT with their MESSAGE_ID, the
 * two-factor steps as plain lines), and what the audit record needs. */
void decision_audit(const struct broker_context *c, const struct broker_request *q, const char *email,
        const struct broker_reply *r, const char *keys);
/* What every decision does first. 1: *RET is decided; 0: *RET_PROFILE is
 * an OS Login user's, not clashing with a local account; -ENOMEM. */
int decision_prologue(const struct broker_context *c, struct broker_facts *f, const struct broker_request *q,
        struct broker_reply *ret, struct oslogin_profile **ret_profile);
