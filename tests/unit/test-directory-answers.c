/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "accountsd/directory-answers.h"
#include "accountsd/directory.h"

static void add(struct answer_store *s, const char *name, bool found, uint64_t now, uint64_t ttl)
{
        struct nss_proto_request q = {.type = NSS_PROTO_GETPWNAM};
        char *key;
        snprintf(q.name, sizeof(q.name), "%s", name);
        key = answer_key(&q);
        assert_non_null(key);
        answer_store_add(s, key, &q, found, name, strlen(name), now, ttl);
        free(key);
}

static struct stored_answer *find(struct answer_store *s, const char *name, uint64_t now)
{
        struct nss_proto_request q = {.type = NSS_PROTO_GETPWNAM};
        snprintf(q.name, sizeof(q.name), "%s", name);
        char *key = answer_key(&q);
        struct stored_answer *a = answer_store_find(s, key, now);
        free(key);
        return a;
}

static void test_keys(void **state)
{
        struct nss_proto_request by_name = {.type = NSS_PROTO_GETGRNAM, .name = "eng"};
        struct nss_proto_request by_id = {.type = NSS_PROTO_GETPWUID, .id = 2000001001};
        char *a = answer_key(&by_name), *b = answer_key(&by_id);
        (void)state;
        assert_string_equal(a, "3:eng");
        assert_string_equal(b, "2#2000001001");
        free(a);
        free(b);
}

static void test_store(void **state)
{
        struct answer_store s = {};
        (void)state;
        add(&s, "ghost", false, 100, 30);
        add(&s, "alice", true, 110, 1000);
        assert_non_null(find(&s, "ghost", 129));
        assert_memory_equal(find(&s, "alice", 129)->msg, "alice", 5);
        /* "not found" expires with its TTL, and goes from the store on the way. */
        assert_null(find(&s, "ghost", 130));
        assert_int_equal(s.n, 1);
        /* A full build started at 200 knows better than alice's answer from 110. */
        add(&s, "nobody", false, 150, 1000);
        answer_store_forget_found_before(&s, 200);
        assert_null(find(&s, "alice", 201));
        assert_non_null(find(&s, "nobody", 201)); /* negative answers stay their TTL */
        answer_store_clear(&s);
        assert_int_equal(s.n, 0);
}

static void test_store_full(void **state)
{
        struct answer_store s = {};
        char name[32];
        (void)state;
        for (unsigned i = 0; i < DIRECTORY_ANSWERS_MAX + 5; i++) {
                snprintf(name, sizeof(name), "u%u", i);
                add(&s, name, false, 1000 + i, 1000000);
        }
        assert_int_equal(s.n, DIRECTORY_ANSWERS_MAX);
        assert_null(find(&s, "u0", 2000)); /* the oldest went first */
        assert_null(find(&s, "u4", 2000));
        assert_non_null(find(&s, "u5", 2000));
        answer_store_clear(&s);
}

static void test_breaker(void **state)
{
        struct breaker b = {};
        uint64_t t = 1000000;
        (void)state;
        for (unsigned i = 0; i + 1 < DIRECTORY_BREAKER_THRESHOLD; i++) {
                breaker_record(&b, false, t);
                assert_false(breaker_blocks(&b, t));
        }
        breaker_record(&b, false, t);
        assert_true(breaker_blocks(&b, t));
        assert_true(breaker_blocks(&b, t + DIRECTORY_BREAKER_PROBE_USEC - 1));
        /* Past the period one question goes through as the probe; the next still waits. */
        assert_false(breaker_blocks(&b, t + DIRECTORY_BREAKER_PROBE_USEC));
        assert_true(breaker_blocks(&b, t + DIRECTORY_BREAKER_PROBE_USEC + 1));
        breaker_record(&b, true, t + DIRECTORY_BREAKER_PROBE_USEC + 2);
        assert_false(breaker_blocks(&b, t + DIRECTORY_BREAKER_PROBE_USEC + 3));
        assert_int_equal(b.failures, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_store),
                cmocka_unit_test(test_store_full),
                cmocka_unit_test(test_breaker),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
