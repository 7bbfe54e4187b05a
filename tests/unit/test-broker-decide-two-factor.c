/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's two-factor decisions (broker-decide-two-factor.c: AUTH_START,
 * AUTH_CONTINUE) against the scripted metadata server of
 * broker-decide-fixture.h. */
#include "tests/unit/unit.h"

#include "accountsd/broker-decide.h"
#include "basic/local-db.h"
#include "tests/unit/broker-decide-fixture.h"

#define START_CHALLENGE                                                                                     \
        "{\"status\":\"CHALLENGE_REQUIRED\",\"sessionId\":\"mds-session-1\",\"challenges\":["               \
        "{\"challengeId\":1,\"challengeType\":\"TOTP\",\"status\":\"READY\"},"                              \
        "{\"challengeId\":2,\"challengeType\":\"SECURITY_KEY\",\"status\":\"READY\"}]}"

static void test_two_factor(void **state)
{
        struct fixture *f = *state;
        char *email = NULL, *session = NULL, *next = NULL;

        f->q = (struct broker_request){.kind = BROKER_AUTH_START, .user = "alice"};
        f->script.twofa = 0;
        assert_int_equal(
                broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_NO_FACTOR);
        assert_int_equal(f->script.post_calls, 0);
        f->script.twofa = -EHOSTUNREACH;
        assert_int_equal(
                broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_UNAVAILABLE);
        f->script.twofa = 1;
        f->script.start_answer = START_CHALLENGE;
        assert_int_equal(
                broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_CHALLENGE);
        /* Only the types a terminal can drive. */
        assert_int_equal(f->reply.n_challenges, 1);
        assert_string_equal(f->reply.challenges[0].type, "TOTP");
        assert_string_equal(email, "alice@example.com");
        assert_string_equal(session, "mds-session-1");
        /* The server's session id is for the daemon only. */
        assert_string_equal(f->reply.session, "");

        struct broker_request c = {.kind = BROKER_AUTH_CONTINUE,
                .user = "alice",
                .challenge_id = 1,
                .action = BROKER_AUTH_RESPOND,
                .credential = "12\n34"};
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        assert_int_equal(f->script.post_calls, 1); /* a code with a newline is never sent */
        snprintf(c.credential, sizeof(c.credential), "123456");
        f->script.continue_answer = "{\"status\":\"AUTHENTICATED\"}";
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_GRANTED);
        assert_null(next);
        assert_string_equal(f->script.last_path, "oslogin/authenticate/sessions/mds-session-1/continue");
        assert_non_null(strstr(f->script.last_body, "\"credential\":\"123456\""));
        assert_non_null(strstr(f->script.last_body, "\"action\":\"RESPOND\""));
        f->script.continue_answer = "{\"status\":\"FAILED\"}";
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        /* START_ALTERNATE: no code sent, the session goes on. */
        c.action = BROKER_AUTH_START_ALTERNATE;
        f->script.continue_answer = START_CHALLENGE;
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_CHALLENGE);
        assert_string_equal(next, "mds-session-1");
        assert_non_null(strstr(f->script.last_body, "\"action\":\"START_ALTERNATE\""));
        assert_null(strstr(f->script.last_body, "credential"));
        c.challenge_id = 0;
        assert_int_equal(broker_decide_auth_continue(&f->ctx, &c, email, session, &f->reply, &next), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        free(email);
        free(session);
        free(next);
        /* A local name never reaches the two-factor flow. */
        snprintf(f->q.user, sizeof(f->q.user), "deploy");
        assert_int_equal(
                broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_NOT_OURS);
        /* A service account: refused, not granted, and no session started
         * (sshd's Match User sa_* asks it for the key alone). */
        broker_facts_done(&f->facts);
        f->script.profile = profile_of("sa_robot", "2000002002");
        snprintf(f->q.user, sizeof(f->q.user), "sa_robot");
        unsigned posts = f->script.post_calls;
        assert_int_equal(
                broker_decide_auth_start(&f->ctx, &f->facts, &f->q, &f->reply, &email, &session), 0);
        assert_int_equal(f->reply.status, BROKER_DENIED);
        assert_non_null(strstr(f->reply.message, "key alone"));
        assert_int_equal(f->script.post_calls, posts);
        assert_int_equal(f->reply.n_challenges, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_two_factor, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
