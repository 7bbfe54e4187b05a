/* SPDX-License-Identifier: Apache-2.0 */
/* accountsd/mode.c without the daemon: a context over a scratch root
 * (manage_host_config = false, so sshd, nsswitch and PAM are left alone)
 * and callbacks that record what the mode reports, and when: the parts
 * that follow the mode must hear of OS Login only once the metadata users
 * are gone. Everything runs in this thread. */
#include "tests/unit/unit.h"

#include <limits.h>
#include <sys/stat.h>

#include "accountsd/context.h"
#include "accountsd/mode.h"

#define DAVE_KEY                                                                                            \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINcwZwUxBCXrlxgXIQsv4TIcqZHPPJlnOS4YOkWO7y8d dave@laptop"

static struct {
        char root[64];
        struct daemon_context ctx;
        struct mode *mode;
        /* What the callbacks saw. */
        unsigned applied_calls, pass_calls;
        enum host_mode applied;
        bool dave_there_when_applied;
        int pass_r;
        enum host_mode pass_mode;
        bool status_null;
        char status[256];
        unsigned order; /* 1: mode_applied came before pass_done */
} t = {.root = "/tmp/test-mode.XXXXXX"};

static bool dave_in_passwd(void)
{
        char path[PATH_MAX], line[512];
        bool found = false;

        snprintf(path, sizeof(path), "%s/etc/passwd", t.root);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                found = found || strncmp(line, "dave:", 5) == 0;
        fclose(f);
        return found;
}

static void on_mode_applied(enum host_mode mode, void *userdata)
{
        assert_ptr_equal(userdata, &t);
        t.applied_calls++;
        t.applied = mode;
        t.dave_there_when_applied = dave_in_passwd();
}

static void on_pass_done(int r, enum host_mode applied, const char *status, void *userdata)
{
        assert_ptr_equal(userdata, &t);
        t.order = t.applied_calls > 0 && t.pass_calls == 0 ? 1 : t.order;
        t.pass_calls++;
        t.pass_r = r;
        t.pass_mode = applied;
        t.status_null = !status;
        snprintf(t.status, sizeof(t.status), "%s", status ?: "");
}

static const struct mode_callbacks callbacks = {.mode_applied = on_mode_applied, .pass_done = on_pass_done};

static void reset(void)
{
        t.applied_calls = t.pass_calls = t.order = 0;
        t.status[0] = '\0';
}

static void handle(const char *enable_oslogin)
{
        char doc[1024];
        int n = snprintf(doc, sizeof(doc),
                "{\"instance\": {\"id\": 1, \"attributes\": {\"enable-oslogin\": \"%s\", \"ssh-keys\": "
                "\"dave:" DAVE_KEY "\"}}, \"project\": {\"numericProjectId\": 2, \"attributes\": {}}}",
                enable_oslogin);
        reset();
        mode_handle_document(t.mode, doc, (size_t)n);
}

static int group_setup(void **state)
{
        char cmd[512];

        (void)state;
        if (!mkdtemp(t.root))
                return -1;
        snprintf(cmd, sizeof(cmd),
                "cd '%s' && mkdir -p etc/skel home var/lib && "
                "printf 'root:x:0:0::/root:/bin/sh\\n' >etc/passwd && printf 'root:*:1::::::\\n' "
                ">etc/shadow && "
                "printf 'root:x:0:\\n' >etc/group && printf 'root:*::\\n' >etc/gshadow && "
                "chmod 640 etc/shadow etc/gshadow",
                t.root);
        if (system(cmd) != 0 || config_defaults(&t.ctx.config) < 0 || sd_event_new(&t.ctx.event) < 0)
                return -1;
        t.ctx.config.manage_host_config = false;
        /* A metadata user that goes is removed, not only locked: visible in etc/passwd. */
        t.ctx.config.deprovision_remove = t.ctx.config.deprovision_remove_set = true;
        t.ctx.root = t.root;
        t.ctx.runtime_dir_fd = -1;
        return mode_new(&t.ctx, &callbacks, &t, &t.mode);
}

static int group_teardown(void **state)
{
        char cmd[128];

        (void)state;
        mode_free(t.mode);
        sd_event_unref(t.ctx.event);
        config_free(&t.ctx.config);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t.root);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_metadata_keys(void **state)
{
        (void)state;
        assert_false(mode_has_document(t.mode));
        handle("FALSE");
        assert_true(mode_has_document(t.mode));
        /* The parts follow before the metadata users come back. */
        assert_int_equal(t.applied_calls, 1);
        assert_int_equal(t.applied, HOST_MODE_METADATA_KEYS);
        assert_false(t.dave_there_when_applied);
        assert_true(dave_in_passwd());
        assert_int_equal(t.pass_calls, 1);
        assert_int_equal(t.order, 1);
        assert_int_equal(t.pass_r, 0);
        assert_int_equal(t.pass_mode, HOST_MODE_METADATA_KEYS);
        assert_string_equal(t.status, "first reconcile done");
        assert_int_equal(mode_current(t.mode), HOST_MODE_METADATA_KEYS);
}

static void test_oslogin(void **state)
{
        (void)state;
        handle("TRUE");
        /* The parts hear of OS Login once the metadata users are gone. */
        assert_int_equal(t.applied_calls, 1);
        assert_int_equal(t.applied, HOST_MODE_OSLOGIN);
        assert_false(t.dave_there_when_applied);
        assert_int_equal(t.pass_calls, 1);
        assert_int_equal(t.order, 1);
        assert_int_equal(t.pass_r, 0);
        assert_int_equal(t.pass_mode, HOST_MODE_OSLOGIN);
        assert_false(t.status_null);
        assert_int_equal(mode_current(t.mode), HOST_MODE_OSLOGIN);
}

static void test_unparsable(void **state)
{
        (void)state;
        reset();
        mode_handle_document(t.mode, "{\"instance\":", 12);
        /* Nothing applied; the pass reports the error and no readiness text. */
        assert_int_equal(t.applied_calls, 0);
        assert_int_equal(t.pass_calls, 1);
        assert_true(t.pass_r < 0);
        assert_true(t.status_null);
        assert_int_equal(t.pass_mode, HOST_MODE_OSLOGIN);
        assert_int_equal(mode_current(t.mode), HOST_MODE_OSLOGIN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_metadata_keys),
                cmocka_unit_test(test_oslogin),
                cmocka_unit_test(test_unparsable),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
