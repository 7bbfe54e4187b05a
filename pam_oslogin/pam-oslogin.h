/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <security/pam_modules.h>
#include <stdbool.h>

#include "basic/broker-proto.h"

/* accountsd answers within its own metadata deadline (5 s by default,
 * then UNAVAILABLE): ours only bounds a hung daemon. */
#define PAM_OSLOGIN_TIMEOUT_MS_DEFAULT 7000u

/* Module arguments only: the module reads no file but /etc/passwd. */
struct pam_oslogin_args {
        bool debug;
        bool twofactor;
        const char *socket_path; /* socket=PATH (tests); BROKER_PAM_SOCKET_PATH */
        unsigned timeout_ms;     /* timeout=MS */
};

/* Sends Q to accountsd: 0 and the reply, or a PAM code (PAM_AUTHINFO_UNAVAIL
 * after one log line) when the daemon cannot be asked or answers nonsense. */
int pam_oslogin_ask(pam_handle_t *pamh, const struct pam_oslogin_args *args, const struct broker_request *q,
        struct broker_reply *ret);

/* The two-factor conversation for USER, from the challenges of an AUTH_START
 * reply: a PAM return code (PAM_SUCCESS only when accountsd says GRANTED). */
int pam_oslogin_two_factor(pam_handle_t *pamh, int flags, const struct pam_oslogin_args *args,
        const struct broker_request *start, const struct broker_reply *challenge);
