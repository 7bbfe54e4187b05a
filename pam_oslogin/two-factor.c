/* SPDX-License-Identifier: Apache-2.0 */
/* The two-factor conversation over accountsd: let the user pick one of
 * the challenges we can drive (a numbered menu when there are several),
 * have accountsd start it when it is not READY (START_ALTERNATE: a text
 * message, a phone prompt), ask for its code, send it (AUTH_CONTINUE).
 * Every answer typed is wiped before it is freed, and so is the copy in
 * the request. */

#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/parse-util.h"
#include "basic/two-factor-types.h"
#include "pam_oslogin/pam-oslogin.h"

#define MAX_CODE_LENGTH 64

void pam_oslogin_tell(pam_handle_t *pamh, int flags, int style, const char *text)
{
        if (!(flags & PAM_SILENT))
                pam_prompt(pamh, style, NULL, "%s", text);
}

/* The chosen entry of USABLE (N of them), or -1. */
static int choose(pam_handle_t *pamh, const struct broker_challenge *const *usable, size_t n)
{
        _cleanup_erase_ char *answer = NULL;
        char menu[2048];
        size_t used = 0;
        uint32_t k;

        if (n == 1)
                return 0;
        used = snprintf(menu, sizeof(menu), "Please choose from the available authentication methods:\n");
        for (size_t i = 0; i < n && used < sizeof(menu); i++)
                used += snprintf(menu + used, sizeof(menu) - used, "%zu: %s\n", i + 1,
                        two_factor_type_find(usable[i]->type)->label);
        if (used < sizeof(menu))
                snprintf(menu + used, sizeof(menu) - used,
                        "Enter the number for the authentication method to use: ");
        if (pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &answer, "%s", menu) != PAM_SUCCESS || !answer)
                return -1;
        if (safe_atou32(answer, &k) < 0 || k < 1 || k > n)
                return -1;
        return (int)k - 1;
}

static bool valid_code(const char *code)
{
        size_t n = strlen(code);
        if (n == 0 || n > MAX_CODE_LENGTH)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)code[i] < ' ' || code[i] == 0x7f)
                        return false;
        return true;
}

/* AUTH_CONTINUE for challenge ID; the request (and its credential) is
 * wiped whatever happens. */
static int send_continue(pam_handle_t *pamh, const struct pam_oslogin_args *args,
        const struct broker_request *start, const char *session, uint32_t id, uint32_t action,
        const char *code, struct broker_reply *ret)
{
        struct broker_request q = {.kind = BROKER_AUTH_CONTINUE, .challenge_id = id, .action = action};
        int r;

        strcpy(q.user, start->user);
        strcpy(q.session, session);
        if (code)
                strcpy(q.credential, code); /* valid_code(): at most MAX_CODE_LENGTH */
        r = pam_oslogin_ask(pamh, args, &q, ret);
        broker_request_done(&q);
        return r;
}

/* Asks what challenge C needs: the code typed (NULL for a phone prompt,
 * which is only confirmed), or a PAM code. */
static int ask_code(pam_handle_t *pamh, const struct broker_challenge *c, char **ret)
{
        const char *prompt = two_factor_type_find(c->type)->prompt;
        _cleanup_erase_ char *code = NULL;

        if (isempty(prompt)) {
                if (pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &code, "%s",
                            "Approve the sign-in on your phone, then press Enter: ") != PAM_SUCCESS)
                        return PAM_CONV_ERR;
                *ret = NULL;
                return PAM_SUCCESS;
        }
        if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &code, "%s", prompt) != PAM_SUCCESS || !code)
                return PAM_CONV_ERR;
        if (!valid_code(code))
                return PAM_AUTH_ERR;
        *ret = TAKE_PTR(code);
        return PAM_SUCCESS;
}

static int finish(pam_handle_t *pamh, int flags, const struct broker_reply *reply)
{
        if (reply->status == BROKER_GRANTED)
                return PAM_SUCCESS;
        /* DENIED, or CHALLENGE (another try): the server's reason, then a
         * failure; sshd asks again if it allows more attempts. */
        pam_oslogin_tell(pamh, flags, PAM_ERROR_MSG,
                isempty(reply->message) ? "Two-factor authentication failed." : reply->message);
        return PAM_AUTH_ERR;
}

int pam_oslogin_two_factor(pam_handle_t *pamh, int flags, const struct pam_oslogin_args *args,
        const struct broker_request *start, const struct broker_reply *challenge)
{
        const struct broker_challenge *usable[BROKER_CHALLENGES_MAX];
        struct broker_reply alternate = {}, answer = {};
        _cleanup_erase_ char *code = NULL;
        const char *session = challenge->session;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < challenge->n_challenges; i++)
                if (two_factor_type_find(challenge->challenges[i].type)) /* so never NULL below */
                        usable[n++] = &challenge->challenges[i];
        if (n == 0) {
                pam_syslog(pamh, LOG_NOTICE, "no second factor of \"%s\" can be used over ssh", start->user);
                pam_oslogin_tell(
                        pamh, flags, PAM_ERROR_MSG, "None of your second factors can be used here.");
                return PAM_AUTH_ERR;
        }
        int i = choose(pamh, usable, n);
        if (i < 0)
                return PAM_AUTH_ERR;
        const struct broker_challenge *c = usable[i];
        if (args->debug)
                pam_syslog(pamh, LOG_DEBUG, "two-factor challenge %u (%s, %s) for \"%s\"", (unsigned)c->id,
                        c->type, c->status, start->user);
        if (!streq(c->status, "READY")) {
                r = send_continue(
                        pamh, args, start, session, c->id, BROKER_AUTH_START_ALTERNATE, NULL, &alternate);
                if (r != 0)
                        return r;
                if (alternate.status != BROKER_CHALLENGE) {
                        r = finish(pamh, flags, &alternate);
                        broker_reply_done(&alternate);
                        return r == PAM_SUCCESS ? PAM_AUTH_ERR : r; /* nothing was answered yet */
                }
                session = alternate.session;
        }
        r = ask_code(pamh, c, &code);
        if (r != PAM_SUCCESS) {
                broker_reply_done(&alternate);
                return r;
        }
        r = send_continue(pamh, args, start, session, c->id, BROKER_AUTH_RESPOND, code, &answer);
        broker_reply_done(&alternate);
        if (r != 0)
                return r;
        r = finish(pamh, flags, &answer);
        broker_reply_done(&answer);
        return r;
}
