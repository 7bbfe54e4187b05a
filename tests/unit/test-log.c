/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "basic/log.h"
#include "basic/message-ids.h"

static int sink_calls, sink_level;
static char sink_message[256], sink_id[64], sink_fields[512];

static void capture(int level, const char *message_id, const struct log_field *fields, size_t n_fields,
        const char *message)
{
        sink_calls++;
        sink_level = level;
        snprintf(sink_message, sizeof(sink_message), "%s", message);
        snprintf(sink_id, sizeof(sink_id), "%s", message_id);
        sink_fields[0] = '\0';
        for (size_t i = 0; i < n_fields; i++) {
                size_t used = strlen(sink_fields);
                snprintf(sink_fields + used, sizeof(sink_fields) - used, "%s=%s;", fields[i].name,
                        fields[i].value ?: "(null)");
        }
}

static void test_fallback_format(void **state)
{
        char buf[512];
        (void)state;

        assert_int_equal(
                log_event_format(buf, sizeof(buf), MESSAGE_ID_KEY_DECISION,
                        LOG_FIELDS({"OSLOGIN_USER", "alice"}, {"OSLOGIN_EMAIL", NULL},
                                {"OSLOGIN_REASON", "login policy \"denies\""}, {"OSLOGIN_DECISION", ""}),
                        "Keys refused"),
                0);
        assert_string_equal(buf,
                "Keys refused  MESSAGE_ID=9bbb755b3a9e4f76b0cd806ae9825255 OSLOGIN_USER=alice "
                "OSLOGIN_REASON=\"login policy \\\"denies\\\"\"");
}

static void test_fallback_truncates_safely(void **state)
{
        char buf[48];
        (void)state;

        assert_int_equal(
                log_event_format(buf, sizeof(buf), MESSAGE_ID_SUDO_GRANTED,
                        LOG_FIELDS({"OSLOGIN_USER", "a rather long value with spaces"}), "Sudo granted"),
                -ENOBUFS);
        assert_true(strlen(buf) < sizeof(buf));
}

static void test_sink_gets_fields_and_level(void **state)
{
        (void)state;
        log_open("test-log", LOG_TARGET_NULL, LOG_USER);
        log_set_event_sink(capture);
        log_event(LOG_NOTICE, MESSAGE_ID_ACCOUNT_DECISION,
                LOG_FIELDS({"OSLOGIN_USER", "bob"}, {"OSLOGIN_DECISION", "granted"}),
                "Account of \"%s\": %s", "bob", "granted");
        assert_int_equal(sink_calls, 1);
        assert_int_equal(sink_level, LOG_NOTICE);
        assert_string_equal(sink_message, "Account of \"bob\": granted");
        assert_string_equal(sink_id, MESSAGE_ID_ACCOUNT_DECISION);
        assert_string_equal(sink_fields, "OSLOGIN_USER=bob;OSLOGIN_DECISION=granted;");

        log_set_max_level(LOG_WARNING); /* a notice is below the threshold: not even formatted */
        log_event(LOG_NOTICE, MESSAGE_ID_ACCOUNT_DECISION, LOG_FIELDS({"OSLOGIN_USER", "bob"}), "x");
        assert_int_equal(sink_calls, 1);
        log_set_max_level(LOG_INFO);
        log_set_event_sink(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fallback_format),
                cmocka_unit_test(test_fallback_truncates_safely),
                cmocka_unit_test(test_sink_gets_fields_and_level),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
