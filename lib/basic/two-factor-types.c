/* SPDX-License-Identifier: Apache-2.0 */
#include "basic/macro.h"
#include "basic/two-factor-types.h"

const struct two_factor_type two_factor_types[] = {
        {"INTERNAL_TWO_FACTOR", "Security code", "Enter your security code: "},
        /* A code the user reads at g.co/sc after touching the key: a
         * terminal can carry it, unlike SECURITY_KEY itself. */
        {"SECURITY_KEY_OTP", "Security code from a security key",
                "Enter your security code by visiting https://g.co/sc: "},
        {"AUTHZEN", "Google phone prompt", ""},
        {"TOTP", "Google Authenticator", "Enter your one-time password: "},
        {"IDV_PREREGISTERED_PHONE", "Voice or text message verification code",
                "Enter the verification code sent to your phone: "},
};
const size_t two_factor_types_n = ELEMENTSOF(two_factor_types);

const struct two_factor_type *two_factor_type_find(const char *type)
{
        for (size_t i = 0; type && i < ELEMENTSOF(two_factor_types); i++)
                if (streq(type, two_factor_types[i].type))
                        return &two_factor_types[i];
        return NULL;
}
