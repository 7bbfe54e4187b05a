/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's shared answers (expiry, never a failure, keyed by user),
 * its two-factor session tokens and its per-UID connection counts. */
#include "tests/unit/unit.h"

#include "accountsd/broker-answers.h"
#include "accountsd/broker-peers.h"
#include "accountsd/broker-sessions.h"

static void test_profile_expiry(void **state)
{
        struct broker_answers s = {};
        char *body = NULL;
        size_t size = 0;
        (void)state;

        assert_int_equal(broker_answers_get_profile(&s, "alice", 100, &body, &size), 0);
        broker_answers_put_profile(&s, "alice", "{\"a\":1}", 7, 100, 50);
        assert_int_equal(broker_answers_get_profile(&s, "alice", 149, &body, &size), 1);
        assert_int_equal(size, 7);
        assert_string_equal(body, "{\"a\":1}");
        free(body);
        /* Expired at NOW + TTL exactly. */
        assert_int_equal(broker_answers_get_profile(&s, "alice", 150, &body, &size), 0);
        /* TTL 0: sharing is off, nothing is kept. */
        broker_answers_put_profile(&s, "bob", "{}", 2, 100, 0);
        assert_int_equal(broker_answers_get_profile(&s, "bob", 100, &body, &size), 0);
        broker_answers_clear(&s);
}

static void test_keyed_by_user(void **state)
{
        struct broker_answers s = {};
        char *body = NULL;
        size_t size = 0;
        (void)state;

        broker_answers_put_profile(&s, "alice", "A", 1, 0, 100);
        broker_answers_put_policy(&s, "alice", BROKER_POLICY_LOGIN, 1, 0, 100);
        /* Another user, and a name that only starts the same, know nothing. */
        assert_int_equal(broker_answers_get_profile(&s, "alic", 1, &body, &size), 0);
        assert_int_equal(broker_answers_get_policy(&s, "bob", BROKER_POLICY_LOGIN, 1), -1);
        /* Each policy on its own. */
        assert_int_equal(broker_answers_get_policy(&s, "alice", BROKER_POLICY_LOGIN, 1), 1);
        assert_int_equal(broker_answers_get_policy(&s, "alice", BROKER_POLICY_ADMIN, 1), -1);
        broker_answers_forget(&s, "alice");
        assert_int_equal(broker_answers_get_policy(&s, "alice", BROKER_POLICY_LOGIN, 1), -1);
        broker_answers_clear(&s);
}

static void test_never_a_failure(void **state)
{
        struct broker_answers s = {};
        (void)state;

        /* A denial is an answer; an error is not, and leaves the last answer alone. */
        broker_answers_put_policy(&s, "alice", BROKER_POLICY_LOGIN, 0, 0, 100);
        assert_int_equal(broker_answers_get_policy(&s, "alice", BROKER_POLICY_LOGIN, 1), 0);
        broker_answers_put_policy(&s, "bob", BROKER_POLICY_LOGIN, -ETIMEDOUT, 0, 100);
        broker_answers_put_policy(&s, "bob", BROKER_POLICY_ADMIN, -EHOSTUNREACH, 0, 100);
        broker_answers_put_policy(&s, "bob", BROKER_POLICY_ADMIN, 2, 0, 100);
        assert_int_equal(broker_answers_get_policy(&s, "bob", BROKER_POLICY_LOGIN, 1), -1);
        assert_int_equal(broker_answers_get_policy(&s, "bob", BROKER_POLICY_ADMIN, 1), -1);
        assert_int_equal(s.n, 1); /* no entry made for bob */
        broker_answers_put_profile(&s, "bob", NULL, 0, 0, 100);
        assert_int_equal(s.n, 1);
        broker_answers_clear(&s);
}

static void test_separate_ttls(void **state)
{
        struct broker_answers s = {};
        (void)state;

        broker_answers_put_policy(&s, "alice", BROKER_POLICY_LOGIN, 1, 0, 5);
        broker_answers_put_policy(&s, "alice", BROKER_POLICY_ADMIN, 1, 0, 300);
        assert_int_equal(broker_answers_get_policy(&s, "alice", BROKER_POLICY_LOGIN, 5), -1);
        assert_int_equal(broker_answers_get_policy(&s, "alice", BROKER_POLICY_ADMIN, 5), 1);
        broker_answers_expire(&s, 5);
        assert_int_equal(s.n, 1); /* adminLogin still holds it */
        broker_answers_expire(&s, 300);
        assert_int_equal(s.n, 0);
        broker_answers_clear(&s);
}

static void test_full(void **state)
{
        struct broker_answers s = {};
        char name[32];
        (void)state;

        for (unsigned i = 0; i < BROKER_ANSWERS_MAX + 10; i++) {
                snprintf(name, sizeof(name), "u%u", i);
                broker_answers_put_policy(&s, name, BROKER_POLICY_LOGIN, 1, i + 1, 1000000);
        }
        assert_int_equal(s.n, BROKER_ANSWERS_MAX);
        /* The oldest went first. */
        assert_int_equal(broker_answers_get_policy(&s, "u0", BROKER_POLICY_LOGIN, 2000), -1);
        assert_int_equal(broker_answers_get_policy(&s, "u1033", BROKER_POLICY_LOGIN, 2000), 1);
        broker_answers_clear(&s);
}

static void test_sessions(void **state)
{
        struct broker_sessions t = {};
        const char *token;
        char copy[64];
        (void)state;

        assert_int_equal(
                broker_sessions_add(&t, "bob", strdup("bob@example.com"), strdup("mds-1"), 0, &token), 0);
        assert_int_equal(strlen(token), 32);
        assert_int_equal(strspn(token, "0123456789abcdef"), 32);
        snprintf(copy, sizeof(copy), "%s", token);
        /* Bound to its user, and to the whole token. */
        assert_null(broker_sessions_find(&t, copy, "alice", 1));
        copy[31] = copy[31] == '0' ? '1' : '0';
        assert_null(broker_sessions_find(&t, copy, "bob", 1));
        copy[31] = token[31];
        copy[30] = '\0';
        assert_null(broker_sessions_find(&t, copy, "bob", 1));
        snprintf(copy, sizeof(copy), "%s", token);
        struct broker_session *s = broker_sessions_find(&t, copy, "bob", 1);
        assert_non_null(s);
        assert_string_equal(s->mds_session, "mds-1");
        /* Two tokens never match. */
        const char *other;
        assert_int_equal(
                broker_sessions_add(&t, "bob", strdup("bob@example.com"), strdup("mds-2"), 0, &other), 0);
        assert_string_not_equal(copy, other);
        /* Expired after BROKER_SESSION_TTL_USEC, unless a step is in progress. */
        s = broker_sessions_find(&t, copy, "bob", 1);
        s->busy = true;
        assert_non_null(broker_sessions_find(&t, copy, "bob", BROKER_SESSION_TTL_USEC));
        assert_int_equal(t.n, 1);
        broker_sessions_find(&t, copy, "bob", 1)->busy = false;
        assert_null(broker_sessions_find(&t, copy, "bob", BROKER_SESSION_TTL_USEC + 1));
        assert_int_equal(t.n, 0);
        broker_sessions_clear(&t);
}

static void test_sessions_full(void **state)
{
        struct broker_sessions t = {};
        const char *token;
        (void)state;

        for (unsigned i = 0; i < BROKER_SESSIONS_MAX; i++)
                assert_int_equal(broker_sessions_add(&t, "bob", strdup("e"), strdup("m"), i, &token), 0);
        assert_int_equal(broker_sessions_add(&t, "bob", strdup("e"), strdup("m"), 1000, &token), -EBUSY);
        /* Once the old ones expire there is room again. */
        assert_int_equal(broker_sessions_add(
                                 &t, "bob", strdup("e"), strdup("m"), BROKER_SESSION_TTL_USEC + 10, &token),
                0);
        broker_sessions_clear(&t);
}

static void test_peer_table(void **state)
{
        struct peer_table t = {.max_total = 5, .max_per_uid = 2};
        (void)state;

        assert_int_equal(peer_table_acquire(&t, 1000), 0);
        assert_int_equal(peer_table_acquire(&t, 1000), 0);
        assert_int_equal(peer_table_acquire(&t, 1000), -EUSERS);
        /* Another UID still gets in. */
        assert_int_equal(peer_table_acquire(&t, 1001), 0);
        /* Root is bounded by the total only. */
        assert_int_equal(peer_table_acquire(&t, 0), 0);
        assert_int_equal(peer_table_acquire(&t, 0), 0);
        assert_int_equal(peer_table_acquire(&t, 0), -EMFILE);
        assert_int_equal(peer_table_count(&t, 1000), 2);
        assert_int_equal(t.refused_per_uid, 1);
        assert_int_equal(t.refused_total, 1);
        peer_table_release(&t, 1000);
        assert_int_equal(peer_table_acquire(&t, 1000), 0);
        peer_table_release(&t, 1001);
        peer_table_release(&t, 1001); /* more releases than holds change nothing */
        assert_int_equal(peer_table_count(&t, 1001), 0);
        assert_int_equal(t.total, 4);
        peer_table_done(&t);
}

static void test_peer_seen(void **state)
{
        struct peer_seen s = {};
        (void)state;

        assert_false(peer_seen_before(&s, 1000));
        assert_true(peer_seen_before(&s, 1000));
        assert_false(peer_seen_before(&s, 1001));
        for (uint32_t uid = 2000; uid < 2000 + PEER_SEEN_MAX; uid++)
                peer_seen_before(&s, uid);
        /* Full: a flood of UIDs cannot flood the log either. */
        assert_true(peer_seen_before(&s, 99999));
        assert_int_equal(s.n, PEER_SEEN_MAX);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_profile_expiry),
                cmocka_unit_test(test_keyed_by_user),
                cmocka_unit_test(test_never_a_failure),
                cmocka_unit_test(test_separate_ttls),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_sessions),
                cmocka_unit_test(test_sessions_full),
                cmocka_unit_test(test_peer_table),
                cmocka_unit_test(test_peer_seen),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
