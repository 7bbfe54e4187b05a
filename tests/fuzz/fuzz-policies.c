/* SPDX-License-Identifier: Apache-2.0 */
/* The policy answers of lib/mds on the same bytes: the trusted CA list
 * (oslogin/certificates), a profile's security keys (view=securityKey), a
 * two-factor start answer (challenge readiness) and a continue answer with
 * its rejection reason. Checks what callers rely on: every key returned is
 * a checked public key line (a security key of an sk type), the rejection
 * reason is short and free of control characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mds/policies.h"
#include "mds/ssh-keys.h"
#include "mds/two-factor.h"

static void check_keys(const struct oslogin_key_list *l, bool security_keys)
{
        size_t n = 0;

        for (; l->keys[n]; n++) {
                char *type = NULL;
                if (ssh_public_key_check(l->keys[n], &type) < 0)
                        abort();
                if (security_keys && !ssh_key_type_is_security_key(type))
                        abort();
                if (strstr(type, "-cert-v01@openssh.com"))
                        abort(); /* neither a CA nor a security key is a certificate */
                free(type);
        }
        if (n != l->n_keys)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *json = (const char *)data;
        struct oslogin_key_list l;
        struct two_factor_session s;
        char *reason = NULL;
        int r;

        if (oslogin_certificates_parse(json, size, &l) == 0) {
                check_keys(&l, false);
                oslogin_key_list_done(&l);
        }
        if (oslogin_security_keys_parse(json, size, &l) == 0) {
                check_keys(&l, true);
                oslogin_key_list_done(&l);
        }
        if (two_factor_start_parse(json, size, &s) == 0) {
                for (size_t i = 0; i < s.n_challenges; i++) {
                        char *body = NULL;
                        enum two_factor_action a = two_factor_needs_start(&s.challenges[i])
                                                           ? TWO_FACTOR_START_ALTERNATE
                                                           : TWO_FACTOR_RESPOND;
                        if (two_factor_continue_request_action(
                                    "a@example.com", s.challenges[i].id, a, NULL, &body) < 0)
                                abort();
                        free(body);
                }
                two_factor_session_done(&s);
        }
        r = two_factor_continue_parse_reason(json, size, &reason);
        if (r == 1 && reason)
                abort(); /* success carries no reason */
        if (reason) {
                if (strlen(reason) > TWO_FACTOR_MAX_REASON || !*reason)
                        abort();
                for (const unsigned char *p = (const unsigned char *)reason; *p; p++)
                        if (*p < 0x20 || *p == 0x7F || (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
                                abort();
                free(reason);
        }
        return 0;
}
