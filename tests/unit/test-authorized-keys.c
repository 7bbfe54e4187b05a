/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include "accountsd/authorized-keys.h"

static void test_merge(void **state)
{
        char *keys[] = {"ssh-ed25519 AAAA new", "expiry-time=\"20991201000000Z\" ssh-rsa BBBB x", NULL};
        char *none[] = {NULL};
        char *out;
        (void)state;

        out = authorized_keys_merge(NULL, keys);
        assert_string_equal(out, "# Added by Google\nssh-ed25519 AAAA new\n"
                                 "# Added by Google\nexpiry-time=\"20991201000000Z\" ssh-rsa BBBB x\n");
        free(out);

        /* User lines keep their order; old managed pairs are replaced, wherever they were. */
        out = authorized_keys_merge("mine-1\n# Added by Google\nssh-ed25519 OLD\nmine-2\n", keys);
        assert_string_equal(out, "mine-1\nmine-2\n# Added by Google\nssh-ed25519 AAAA new\n"
                                 "# Added by Google\nexpiry-time=\"20991201000000Z\" ssh-rsa BBBB x\n");
        free(out);

        /* Nothing managed any more: only the user's lines stay. */
        out = authorized_keys_merge("# Added by Google\nssh-ed25519 OLD\nmine\n", none);
        assert_string_equal(out, "mine\n");
        free(out);

        /* A trailing marker without a key does not eat anything else. */
        out = authorized_keys_merge("mine\n# Added by Google\n", none);
        assert_string_equal(out, "mine\n");
        free(out);

        /* Idempotent. */
        char *once = authorized_keys_merge("mine\n", keys);
        char *twice = authorized_keys_merge(once, keys);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_merge)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
