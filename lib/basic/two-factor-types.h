/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The second-factor challenge types we can drive over a terminal, once:
 * accountsd asks the server for exactly these (lib/mds/two-factor.c) and
 * pam_oslogin shows their labels and prompts. libc only, since the PAM
 * module links nothing else. */

#include <stddef.h>

struct two_factor_type {
        const char *type;   /* the server's challengeType */
        const char *label;  /* the menu entry ("Google Authenticator" for TOTP) */
        const char *prompt; /* what to ask for; "" when the user only confirms (AUTHZEN) */
};

/* In the order of the reference's supportedChallengeTypes. */
extern const struct two_factor_type two_factor_types[];
extern const size_t two_factor_types_n;

/* The entry for TYPE; NULL for NULL and for a type we cannot drive
 * (SECURITY_KEY itself: a terminal cannot carry a security key's
 * signature). */
const struct two_factor_type *two_factor_type_find(const char *type);
