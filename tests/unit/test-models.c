/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "mds/models.h"

#define PROFILE(account, keys)                                                                              \
        "{\"loginProfiles\":[{\"name\":\"alice@example.com\",\"posixAccounts\":[" account "],"              \
        "\"sshPublicKeys\":{" keys "}}]}"
#define ACCOUNT(name, uid, extra)                                                                           \
        "{\"primary\":true,\"username\":\"" name "\",\"uid\":" uid ",\"gid\":" uid extra "}"

static int parse(const char *json, struct oslogin_profile **ret)
{
        return oslogin_profile_parse(json, strlen(json), 1000, ret);
}

static void test_profile(void **state)
{
        struct oslogin_profile *p = NULL;
        (void)state;
        assert_int_equal(
                parse(PROFILE(ACCOUNT("alice_example_com", "\"2045119876\"", ",\"gecos\":\"Alice\""),
                              "\"fp1\":{\"key\":\"ssh-ed25519 AAAA a\",\"expirationTimeUsec\":\"5\"},"
                              "\"fp2\":{\"key\":\"ssh-rsa BBBB b\"},"
                              "\"fp3\":{\"key\":\"ssh-rsa CCCC c\",\"expirationTimeUsec\":\"soon\"},"
                              "\"fp4\":{\"key\":\"two\\nlines\"}"),
                        &p),
                0);
        assert_string_equal(p->email, "alice@example.com");
        assert_string_equal(p->account.username, "alice_example_com");
        assert_int_equal(p->account.uid, 2045119876u);
        assert_string_equal(p->account.home, "/home/alice_example_com");
        assert_string_equal(p->account.shell, "/bin/bash");
        assert_string_equal(p->account.gecos, "Alice");
        assert_int_equal(p->n_keys, 3); /* the two-line key is dropped */
        assert_false(oslogin_key_usable(&p->keys[0], 10));
        assert_true(oslogin_key_usable(&p->keys[0], 4));
        assert_true(oslogin_key_usable(&p->keys[1], UINT64_MAX));
        assert_false(oslogin_key_usable(&p->keys[2], 0));
        oslogin_profile_free(p);

        /* JSON numbers work too; the primary account wins over the first. */
        assert_int_equal(
                parse("{\"loginProfiles\":[{\"name\":\"a@b.c\",\"posixAccounts\":["
                      "{\"username\":\"other\",\"uid\":5000,\"gid\":5000,\"operatingSystemType\":\"LINUX\"},"
                      "{\"primary\":true,\"username\":\"main\",\"uid\":6000,\"gid\":6000}]}]}",
                        &p),
                0);
        assert_string_equal(p->account.username, "main");
        assert_int_equal(p->account.uid, 6000);
        assert_int_equal(p->n_keys, 0);
        oslogin_profile_free(p);
}

static void test_profile_hostile(void **state)
{
        static const char *const bad[] = {
                PROFILE(ACCOUNT("root", "\"5000\"", ""), ""),
                PROFILE(ACCOUNT("a:b", "\"5000\"", ""), ""),
                PROFILE(ACCOUNT("a\\nb", "\"5000\"", ""), ""),
                PROFILE(ACCOUNT("../x", "\"5000\"", ""), ""),
                PROFILE(ACCOUNT("-rf", "\"5000\"", ""), ""),
                PROFILE(ACCOUNT("abcdefghijabcdefghijabcdefghij123", "\"5000\"", ""), ""),
                PROFILE(ACCOUNT("alice", "\"0\"", ""), ""),
                PROFILE(ACCOUNT("alice", "\"999\"", ""), ""),
                PROFILE(ACCOUNT("alice", "\"4294967295\"", ""), ""),
                PROFILE(ACCOUNT("alice", "\"1099511627776\"", ""), ""),
                PROFILE(ACCOUNT("alice", "1099511627776", ""), ""),
                PROFILE(ACCOUNT("alice", "-5000", ""), ""),
                PROFILE(ACCOUNT("alice", "5000.0", ""), ""),
                PROFILE(ACCOUNT("alice", "1e4", ""), ""),
                PROFILE(ACCOUNT("alice", "\"5000x\"", ""), ""),
                PROFILE(ACCOUNT("alice", "\" 5000\"", ""), ""),
                PROFILE(ACCOUNT("alice", "true", ""), ""),
                PROFILE(ACCOUNT("alice", "\"5000\"", ",\"homeDirectory\":\"/home/../etc\""), ""),
                PROFILE(ACCOUNT("alice", "\"5000\"", ",\"homeDirectory\":\"relative\""), ""),
                PROFILE(ACCOUNT("alice", "\"5000\"", ",\"shell\":\"/bin/sh:x\""), ""),
                "{\"loginProfiles\":[]}",
                "{\"loginProfiles\":{}}",
                "{\"loginProfiles\":[{\"name\":\"a@b.c\",\"posixAccounts\":[]}]}",
                "{\"loginProfiles\":[{\"name\":\"a@b.c\"}]}",
                "{\"loginProfiles\":[{\"posixAccounts\":[" ACCOUNT("alice", "5000", "") "]}]}",
                "[]",
                "",
                "nul\0l",
                "{\"loginProfiles\":[]} trailing",
                "{\"loginProfiles\":[{\"name\":\"a@b.c\",\"posixAccounts\":[" ACCOUNT(
                        "alice", "5000", "") "]}]",
        };
        struct oslogin_profile *p = NULL;
        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = parse(bad[i], &p);
                if (r != -EBADMSG)
                        fail_msg("accepted #%zu: %s", i, bad[i]);
        }
        assert_null(p);
}

static void test_deep_json(void **state)
{
        char deep[4096] = "";
        struct oslogin_profile *p = NULL;
        (void)state;
        for (int i = 0; i < 1000; i++)
                strcat(deep, "[");
        assert_int_equal(parse(deep, &p), -EBADMSG);
        char *huge = malloc(2 * 1024 * 1024);
        assert_non_null(huge);
        memset(huge, 'a', 2 * 1024 * 1024 - 1);
        huge[0] = '"';
        huge[2 * 1024 * 1024 - 2] = '"';
        huge[2 * 1024 * 1024 - 1] = '\0';
        assert_int_equal(parse(huge, &p), -EBADMSG);
        free(huge);
}

/* A dropped profile is named by its email, else its username, else its
 * place; never by bytes that fail the validators. */
static void test_rejection_names(void **state)
{
        static const char users[] = "{\"loginProfiles\":["
                                    "{\"name\":\"bad\\nmail\",\"posixAccounts\":[" ACCOUNT("bob", "5000",
                                            "") "]},"
                                                "{\"name\":\"c@b.c\",\"posixAccounts\":[" ACCOUNT(
                                                        "carol", "10", "") "]},"
                                                                           "{\"name\":\"x\\ty\"},"
                                                                           "{\"name\":\"d@b.c\"}]}";
        struct oslogin_users_page up;
        (void)state;

        assert_int_equal(oslogin_users_page_parse(users, strlen(users), 1000, &up), 0);
        assert_int_equal(up.n_profiles, 0);
        assert_int_equal(up.n_rejections, 4);
        assert_string_equal(up.rejections[0].who, "bob");
        assert_string_equal(up.rejections[0].reason, "invalid email");
        assert_string_equal(up.rejections[1].who, "c@b.c");
        assert_string_equal(up.rejections[1].reason, "UID or GID missing, invalid or below the floor");
        assert_string_equal(up.rejections[2].who, "(entry 3 of the page)");
        assert_string_equal(up.rejections[3].reason, "no primary or Linux POSIX account");
        oslogin_users_page_done(&up);
}

static void test_pages(void **state)
{
        static const char users[] = "{\"loginProfiles\":["
                                    "{\"name\":\"a@b.c\",\"posixAccounts\":[" ACCOUNT("alice", "5000",
                                            "") "]},"
                                                "{\"name\":\"r@b.c\",\"posixAccounts\":[" ACCOUNT(
                                                        "root", "0", "") "]}],"
                                                                         "\"nextPageToken\":\"page-2\"}";
        static const char groups[] = "{\"posixGroups\":[{\"name\":\"eng\",\"gid\":\"5001\"},"
                                     "{\"name\":\"bad:name\",\"gid\":5002},{\"name\":\"low\",\"gid\":10}],"
                                     "\"nextPageToken\":\"0\"}";
        static const char names[] = "{\"usernames\":[\"alice\",\"b\\nob\",7],\"nextPageToken\":\"0\"}";
        struct oslogin_users_page up;
        struct oslogin_groups_page gp;
        struct oslogin_usernames_page np;
        (void)state;

        assert_int_equal(oslogin_users_page_parse(users, strlen(users), 1000, &up), 0);
        assert_int_equal(up.n_profiles, 1);
        assert_int_equal(up.n_rejected, 1);
        /* The build's event names each: who (the email) and why. */
        assert_int_equal(up.n_rejections, 1);
        assert_string_equal(up.rejections[0].who, "r@b.c");
        assert_string_equal(up.rejections[0].reason, "invalid or reserved username");
        assert_string_equal(up.next_page_token, "page-2");
        assert_false(oslogin_last_page(up.next_page_token));
        oslogin_users_page_done(&up);

        assert_int_equal(oslogin_groups_page_parse(groups, strlen(groups), 1000, &gp), 0);
        assert_int_equal(gp.n_groups, 1);
        assert_int_equal(gp.groups[0].gid, 5001);
        assert_int_equal(gp.n_rejected, 2);
        assert_true(oslogin_last_page(gp.next_page_token));
        oslogin_groups_page_done(&gp);

        assert_int_equal(oslogin_usernames_page_parse(names, strlen(names), &np), 0);
        assert_string_equal(np.usernames[0], "alice");
        assert_null(np.usernames[1]);
        assert_int_equal(np.n_rejected, 2);
        oslogin_usernames_page_done(&np);

        assert_int_equal(
                oslogin_groups_page_parse("{\"posixGroups\":\"x\",\"nextPageToken\":5}", 36, 1000, &gp),
                -EBADMSG);
}

static void test_authorize(void **state)
{
        (void)state;
        assert_int_equal(oslogin_authorize_parse("{\"success\":true}", 16), 1);
        assert_int_equal(oslogin_authorize_parse("{\"success\":false}", 17), 0);
        assert_int_equal(oslogin_authorize_parse("{\"success\":\"true\"}", 18), 0);
        assert_int_equal(oslogin_authorize_parse("{\"success\":1}", 13), 0);
        assert_int_equal(oslogin_authorize_parse("{}", 2), 0);
        assert_int_equal(oslogin_authorize_parse("<html>", 6), -EBADMSG);
        assert_int_equal(oslogin_authorize_parse("{\"success\":tru", 14), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_profile),
                cmocka_unit_test(test_profile_hostile),
                cmocka_unit_test(test_deep_json),
                cmocka_unit_test(test_pages),
                cmocka_unit_test(test_rejection_names),
                cmocka_unit_test(test_authorize),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
