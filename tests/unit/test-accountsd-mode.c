/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accountsd/mode.h"

static char root[] = "/tmp/test-accountsd-mode.XXXXXX";

static void write_mode_file(const char *content)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/var/lib/oslogin/mode", root);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void test_roundtrip(void **state)
{
        char path[256];
        (void)state;
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/var", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/var/lib", root);
        assert_int_equal(mkdir(path, 0755), 0);

        /* Nothing recorded yet. */
        assert_int_equal(host_mode_load(root), HOST_MODE_UNKNOWN);
        /* Saving creates var/lib/oslogin. */
        assert_int_equal(host_mode_save(root, HOST_MODE_OSLOGIN), 0);
        assert_int_equal(host_mode_load(root), HOST_MODE_OSLOGIN);
        assert_int_equal(host_mode_save(root, HOST_MODE_METADATA_KEYS), 0);
        assert_int_equal(host_mode_load(root), HOST_MODE_METADATA_KEYS);
        assert_string_equal(host_mode_to_string(HOST_MODE_METADATA_KEYS), "metadata-keys");
}

static void test_garbage(void **state)
{
        (void)state;
        write_mode_file("OSLOGIN\n");
        assert_int_equal(host_mode_load(root), HOST_MODE_UNKNOWN);
        write_mode_file("oslogin");
        assert_int_equal(host_mode_load(root), HOST_MODE_OSLOGIN);
        write_mode_file("");
        assert_int_equal(host_mode_load(root), HOST_MODE_UNKNOWN);
}

static void test_symlink_refused(void **state)
{
        char path[256], target[256];
        (void)state;
        /* A mode file that is a symlink is not followed (read_file_bounded O_NOFOLLOW). */
        snprintf(path, sizeof(path), "%s/var/lib/oslogin/mode", root);
        snprintf(target, sizeof(target), "%s/elsewhere", root);
        FILE *f = fopen(target, "we");
        assert_non_null(f);
        fputs("oslogin\n", f);
        fclose(f);
        unlink(path);
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(host_mode_load(root), HOST_MODE_UNKNOWN);
        unlink(path);
        unlink(target);
}

static int teardown(void **state)
{
        char cmd[300];
        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_symlink_refused),
        };
        return cmocka_run_group_tests(tests, NULL, teardown);
}
