/* SPDX-License-Identifier: Apache-2.0 */
/* The two-factor conversation: start a session, let the user pick one of
 * the challenges we can drive (a numbered menu when there are several),
 * ask for its code, continue the session. Every answer typed is wiped
 * before it is freed. */

#include <errno.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "basic/parse-util.h"
#include "mds/two-factor.h"
#include "pam_oslogin/pam-oslogin.h"

#define MAX_CODE_LENGTH 64

static void tell(pam_handle_t *pamh, int flags, int style, const char *text)
{
        if (!(flags & PAM_SILENT))
                pam_prompt(pamh, style, NULL, "%s", text);
}

/* The index of the chosen challenge, or -1. */
static int choose(pam_handle_t *pamh, const struct two_factor_session *s)
{
        _cleanup_erase_ char *answer = NULL;
        char menu[2048];
        size_t used = 0;
        uint32_t n;

        if (s->n_challenges == 1)
                return 0;
        used = snprintf(menu, sizeof(menu), "Please choose from the available authentication methods:\n");
        for (size_t i = 0; i < s->n_challenges && used < sizeof(menu); i++)
                used += snprintf(menu + used, sizeof(menu) - used, "%zu: %s\n", i + 1,
                        two_factor_label(s->challenges[i].type));
        if (used < sizeof(menu))
                snprintf(menu + used, sizeof(menu) - used,
                        "Enter the number for the authentication method to use: ");
        if (pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &answer, "%s", menu) != PAM_SUCCESS || !answer)
                return -1;
        if (safe_atou32(answer, &n) < 0 || n < 1 || n > s->n_challenges)
                return -1;
        return (int)n - 1;
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

static int post(pam_handle_t *pamh, struct mds_client *client, const char *path, const char *body,
        struct mds_response *ret)
{
        int r = mds_post_json(client, path, body, ret);
        if (r == -ENOENT || r == -EACCES || r == -EBADMSG) {
                pam_syslog(pamh, LOG_NOTICE, "two-factor %s refused by the metadata server: %s", path,
                        strerror(-r));
                return PAM_AUTH_ERR;
        }
        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "two-factor %s failed: %s", path, strerror(-r));
                return PAM_AUTHINFO_UNAVAIL;
        }
        return PAM_SUCCESS;
}

int pam_oslogin_two_factor(pam_handle_t *pamh, int flags, const struct pam_oslogin_args *args,
        struct mds_client *client, const char *email)
{
        _cleanup_free_ char *start = NULL, *path = NULL;
        _cleanup_erase_ char *code = NULL, *body = NULL;
        _cleanup_mds_response_ struct mds_response started = {}, answer = {};
        _cleanup_(two_factor_session_done) struct two_factor_session s = {};
        int r;

        if (two_factor_start_request(email, &start) < 0)
                return PAM_BUF_ERR;
        if ((r = post(pamh, client, "oslogin/authenticate/sessions/start", start, &started)) != PAM_SUCCESS)
                return r;
        if (two_factor_start_parse(started.body, started.size, &s) < 0) {
                pam_syslog(pamh, LOG_ERR, "invalid two-factor session from the metadata server");
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (s.status == TWO_FACTOR_AUTHENTICATED)
                return PAM_SUCCESS;
        if (s.status != TWO_FACTOR_CHALLENGE_REQUIRED)
                return PAM_AUTH_ERR;
        if (s.n_challenges == 0) {
                pam_syslog(pamh, LOG_NOTICE, "no second factor of %s can be used over ssh", email);
                tell(pamh, flags, PAM_ERROR_MSG, "None of your second factors can be used here.");
                return PAM_AUTH_ERR;
        }
        int i = choose(pamh, &s);
        if (i < 0)
                return PAM_AUTH_ERR;
        const struct two_factor_challenge *ch = &s.challenges[i];
        const char *prompt = two_factor_prompt(ch->type);
        if (args->debug)
                pam_syslog(pamh, LOG_DEBUG, "two-factor challenge %d (%s) for %s", ch->id, ch->type, email);

        if (isempty(prompt)) {
                /* Approved elsewhere (a phone prompt): wait for the user. */
                _cleanup_erase_ char *ignored = NULL;
                if (pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &ignored, "%s",
                            "Approve the sign-in on your phone, then press Enter: ") != PAM_SUCCESS)
                        return PAM_CONV_ERR;
        } else {
                if (pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &code, "%s", prompt) != PAM_SUCCESS || !code)
                        return PAM_CONV_ERR;
                if (!valid_code(code))
                        return PAM_AUTH_ERR;
        }
        if (two_factor_continue_request(email, ch->id, code, &body) < 0 ||
                asprintf(&path, "oslogin/authenticate/sessions/%s/continue", s.session_id) < 0)
                return PAM_BUF_ERR;
        if ((r = post(pamh, client, path, body, &answer)) != PAM_SUCCESS)
                return r;
        r = two_factor_continue_parse(answer.body, answer.size);
        if (r < 0) {
                pam_syslog(pamh, LOG_ERR, "invalid two-factor answer from the metadata server");
                return PAM_AUTHINFO_UNAVAIL;
        }
        if (r == 0)
                tell(pamh, flags, PAM_ERROR_MSG, "Two-factor authentication failed.");
        return r ? PAM_SUCCESS : PAM_AUTH_ERR;
}
