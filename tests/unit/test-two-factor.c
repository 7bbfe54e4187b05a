/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "basic/two-factor-types.h"
#include "mds/two-factor.h"

static int start(const char *json, struct two_factor_session *s)
{
        return two_factor_start_parse(json, strlen(json), s);
}

static void test_start_menu(void **state)
{
        struct two_factor_session s = {};
        (void)state;
        assert_int_equal(
                start("{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"abc-1_2\",\"challenges\":["
                      "{\"challengeId\":1,\"challengeType\":\"TOTP\",\"status\":\"READY\"},"
                      "{\"challengeId\":\"2\",\"challengeType\":\"SECURITY_KEY\"},"
                      "{\"challengeId\":3,\"challengeType\":\"AUTHZEN\"},"
                      "{\"challengeId\":0,\"challengeType\":\"TOTP\"},"
                      "{\"challengeId\":4.5,\"challengeType\":\"TOTP\"},"
                      "{\"challengeType\":\"TOTP\"}]}",
                        &s),
                0);
        assert_int_equal(s.status, TWO_FACTOR_CHALLENGE_REQUIRED);
        assert_string_equal(s.session_id, "abc-1_2");
        /* SECURITY_KEY cannot be driven over a PAM conversation; bad ids dropped. */
        assert_int_equal(s.n_challenges, 2);
        assert_int_equal(s.challenges[0].id, 1);
        assert_string_equal(s.challenges[0].type, "TOTP");
        assert_int_equal(s.challenges[1].id, 3);
        assert_string_equal(two_factor_prompt("AUTHZEN"), "");
        assert_null(two_factor_prompt("SECURITY_KEY"));
        two_factor_session_done(&s);
}

static void test_start_hostile(void **state)
{
        struct two_factor_session s = {};
        (void)state;
        /* The session id goes into a URL path: nothing but [A-Za-z0-9_-]. */
        assert_int_equal(
                start("{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"../../x\"}", &s), -EBADMSG);
        assert_int_equal(start("{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"a?b=c\"}", &s), -EBADMSG);
        assert_int_equal(start("{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"\"}", &s), -EBADMSG);
        assert_int_equal(start("{\"status\":\"CHALLENGE_REQUIRED\"}", &s), -EBADMSG);
        assert_int_equal(start("{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":7}", &s), -EBADMSG);
        assert_int_equal(start("[1]", &s), -EBADMSG);
        assert_int_equal(start("not json", &s), -EBADMSG);
        assert_int_equal(start("{\"status\":\"AUTHENTICATED\"}", &s), 0);
        assert_int_equal(s.status, TWO_FACTOR_AUTHENTICATED);
        assert_int_equal(start("{\"status\":\"WHATEVER\"}", &s), 0);
        assert_int_equal(s.status, TWO_FACTOR_FAILED);
        assert_int_equal(start("{\"status\":true}", &s), 0);
        assert_int_equal(s.status, TWO_FACTOR_FAILED);
}

static void test_continue(void **state)
{
        (void)state;
        assert_int_equal(two_factor_continue_parse("{\"status\":\"AUTHENTICATED\"}", 26), 1);
        assert_int_equal(two_factor_continue_parse("{\"status\":\"FAILED\"}", 19), 0);
        assert_int_equal(two_factor_continue_parse("{\"status\":\"CHALLENGE_REQUIRED\"}", 31), 0);
        assert_int_equal(two_factor_continue_parse("{}", 2), 0);
        assert_int_equal(two_factor_continue_parse("\"AUTHENTICATED\"", 15), 0);
        assert_int_equal(two_factor_continue_parse("{", 1), -EBADMSG);
}

static void test_requests(void **state)
{
        char *json = NULL;
        (void)state;
        assert_int_equal(two_factor_continue_request("a\"b@example.com", 3, "12\"34", &json), 0);
        assert_string_equal(json,
                "{\"email\":\"a\\\"b@example.com\",\"challengeId\":3,\"action\":\"RESPOND\","
                "\"proposalResponse\":{\"credential\":\"12\\\"34\"}}");
        free(json);
        assert_int_equal(two_factor_continue_request("a@example.com", 1, NULL, &json), 0);
        assert_string_equal(json, "{\"email\":\"a@example.com\",\"challengeId\":1,\"action\":\"RESPOND\"}");
        free(json);
        assert_int_equal(two_factor_start_request("a@example.com", &json), 0);
        assert_non_null(strstr(json, "\"supportedChallengeTypes\":[\"INTERNAL_TWO_FACTOR\""));
        free(json);
}

static void test_alternate_and_sk_otp(void **state)
{
        struct two_factor_session s = {};
        char *json = NULL;
        (void)state;
        assert_int_equal(
                start("{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"s1\",\"challenges\":["
                      "{\"challengeId\":1,\"challengeType\":\"TOTP\",\"status\":\"READY\"},"
                      "{\"challengeId\":2,\"challengeType\":\"IDV_PREREGISTERED_PHONE\",\"status\":"
                      "\"PROPOSED\"},"
                      "{\"challengeId\":3,\"challengeType\":\"SECURITY_KEY_OTP\",\"status\":\"READY\"},"
                      "{\"challengeId\":4,\"challengeType\":\"AUTHZEN\"}]}",
                        &s),
                0);
        assert_int_equal(s.n_challenges, 4);
        assert_false(two_factor_needs_start(&s.challenges[0]));
        /* Not READY (PROPOSED, or no status at all): started first. */
        assert_true(two_factor_needs_start(&s.challenges[1]));
        assert_string_equal(s.challenges[2].type, "SECURITY_KEY_OTP");
        assert_false(two_factor_needs_start(&s.challenges[2]));
        assert_true(two_factor_needs_start(&s.challenges[3]));
        two_factor_session_done(&s);
        assert_string_equal(two_factor_prompt("SECURITY_KEY_OTP"),
                "Enter your security code by visiting https://g.co/sc: ");
        assert_string_equal(two_factor_label("SECURITY_KEY_OTP"), "Security code from a security key");

        assert_int_equal(start("{\"status\":\"NO_AVAILABLE_CHALLENGES\"}", &s), 0);
        assert_int_equal(s.status, TWO_FACTOR_NO_AVAILABLE_CHALLENGES);
        assert_int_equal(s.n_challenges, 0);

        assert_int_equal(two_factor_continue_request_action(
                                 "a@example.com", 2, TWO_FACTOR_START_ALTERNATE, NULL, &json),
                0);
        assert_string_equal(
                json, "{\"email\":\"a@example.com\",\"challengeId\":2,\"action\":\"START_ALTERNATE\"}");
        free(json);
        json = NULL;
        /* START_ALTERNATE never carries a code. */
        assert_int_equal(two_factor_continue_request_action(
                                 "a@example.com", 2, TWO_FACTOR_START_ALTERNATE, "1", &json),
                -EINVAL);
        assert_null(json);
        assert_int_equal(two_factor_continue_request_action(
                                 "a@example.com", 2, (enum two_factor_action)7, NULL, &json),
                -EINVAL);
        assert_int_equal(
                two_factor_continue_request_action("a@example.com", 3, TWO_FACTOR_RESPOND, "98765", &json),
                0);
        assert_string_equal(json, "{\"email\":\"a@example.com\",\"challengeId\":3,\"action\":\"RESPOND\","
                                  "\"proposalResponse\":{\"credential\":\"98765\"}}");
        free(json);
        /* The reference's order of supportedChallengeTypes, SECURITY_KEY_OTP included. */
        assert_int_equal(two_factor_start_request("a@example.com", &json), 0);
        assert_string_equal(json,
                "{\"email\":\"a@example.com\",\"supportedChallengeTypes\":[\"INTERNAL_TWO_FACTOR\","
                "\"SECURITY_KEY_OTP\",\"AUTHZEN\",\"TOTP\",\"IDV_PREREGISTERED_PHONE\"]}");
        free(json);
}

static int reason(const char *json, char **ret)
{
        return two_factor_continue_parse_reason(json, strlen(json), ret);
}

static void test_rejection_reason(void **state)
{
        char *r = (char *)"unset", big[600];
        (void)state;
        assert_int_equal(
                reason("{\"status\":\"FAILED\",\"rejectionReason\":\"Wrong code. Try again.\"}", &r), 0);
        assert_string_equal(r, "Wrong code. Try again.");
        free(r);
        /* Success carries no reason; a failure may have none. */
        assert_int_equal(reason("{\"status\":\"AUTHENTICATED\",\"rejectionReason\":\"x\"}", &r), 1);
        assert_null(r);
        assert_int_equal(reason("{\"status\":\"FAILED\"}", &r), 0);
        assert_null(r);
        assert_int_equal(reason("{\"status\":\"FAILED\",\"rejectionReason\":\"\"}", &r), 0);
        assert_null(r);
        assert_int_equal(reason("{\"status\":\"FAILED\",\"rejectionReason\":42}", &r), 0);
        assert_null(r);
        assert_int_equal(reason("[\"rejectionReason\"]", &r), 0);
        assert_null(r);
        assert_int_equal(reason("{\"status\":", &r), -EBADMSG);
        /* Terminal escapes, a fake prompt on a new line, C1 CSI: made inert. */
        assert_int_equal(reason("{\"rejectionReason\":\"a\\u001b[2Jb\\nPassword: \\u009b1m\"}", &r), 0);
        assert_string_equal(r, "a?[2Jb?Password: ??1m");
        free(r);
        /* Bounded, and never cut inside a UTF-8 sequence (é is 2 bytes). */
        strcpy(big, "{\"rejectionReason\":\"x");
        for (int i = 0; i < 200; i++)
                strcat(big, "\u00e9");
        strcat(big, "\"}");
        assert_int_equal(reason(big, &r), 0);
        assert_int_equal(strlen(r), TWO_FACTOR_MAX_REASON - 1);
        assert_string_equal(r + strlen(r) - 2, "\xc3\xa9");
        free(r);
        /* The old entry point still works without a reason. */
        const char *failed = "{\"status\":\"FAILED\",\"rejectionReason\":\"no\"}";
        assert_int_equal(two_factor_continue_parse(failed, strlen(failed)), 0);
}

static void test_exempt_user(void **state)
{
        (void)state;
        /* The POSIX name, as sshd's `Match User sa_*` sees it. */
        assert_true(two_factor_exempt_user("sa_100000000000000000001"));
        assert_true(two_factor_exempt_user("sa_"));
        assert_false(two_factor_exempt_user("sa"));
        assert_false(two_factor_exempt_user("SA_robot"));
        assert_false(two_factor_exempt_user("alice_sa_example_com"));
        assert_false(two_factor_exempt_user("judy_example_com"));
        assert_false(two_factor_exempt_user(""));
        assert_false(two_factor_exempt_user(NULL));
}

/* One table for accountsd and pam_oslogin: what the server is asked for
 * is what the PAM module can label and prompt for. */
static void test_shared_table(void **state)
{
        char *json = NULL;
        (void)state;
        assert_int_equal(two_factor_types_n, 5);
        assert_int_equal(two_factor_start_request("a@example.com", &json), 0);
        for (size_t i = 0; i < two_factor_types_n; i++) {
                const struct two_factor_type *t = &two_factor_types[i];
                char quoted[64];
                assert_ptr_equal(two_factor_type_find(t->type), t);
                assert_ptr_equal(two_factor_prompt(t->type), t->prompt);
                assert_ptr_equal(two_factor_label(t->type), t->label);
                snprintf(quoted, sizeof(quoted), "\"%s\"", t->type);
                assert_non_null(strstr(json, quoted));
        }
        free(json);
        assert_null(two_factor_type_find("SECURITY_KEY"));
        assert_null(two_factor_type_find(NULL));
        assert_null(two_factor_type_find(""));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_menu),
                cmocka_unit_test(test_start_hostile),
                cmocka_unit_test(test_continue),
                cmocka_unit_test(test_requests),
                cmocka_unit_test(test_alternate_and_sk_otp),
                cmocka_unit_test(test_rejection_reason),
                cmocka_unit_test(test_exempt_user),
                cmocka_unit_test(test_shared_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
