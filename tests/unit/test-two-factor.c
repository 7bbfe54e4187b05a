/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_menu),
                cmocka_unit_test(test_start_hostile),
                cmocka_unit_test(test_continue),
                cmocka_unit_test(test_requests),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
