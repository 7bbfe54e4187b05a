/* SPDX-License-Identifier: Apache-2.0 */
/* lib/basic/selinux-util through atomic-file: a no-op without SELinux;
 * with (fake) libselinux, a replaced file's temp is created under the old
 * file's label, a new file's under the policy's label for its path, and
 * the creation context is reset right after; enforcing refuses a write
 * whose label cannot be set, permissive does not. */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/atomic-file.h"
#include "basic/selinux-util.h"

static char dir[] = "/tmp/test-selinux-util.XXXXXX";
static int dfd = -1;

#define MAX_CALLS 16
static char *calls[MAX_CALLS]; /* setfscreatecon arguments, "-" for NULL */
static unsigned temps_at_call[MAX_CALLS];
static unsigned n_calls;
static int fail_set_errno, enforcing = 1;

static unsigned count_temps(void)
{
        unsigned n = 0;
        DIR *d = opendir(dir);
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_name[0] == '.' && e->d_name[1] == '#';
        closedir(d);
        return n;
}

static void reset_calls(void)
{
        for (unsigned i = 0; i < n_calls; i++)
                free(calls[i]);
        n_calls = 0;
        fail_set_errno = 0;
        enforcing = 1;
}

static int fake_enabled(void)
{
        return 1;
}

static int fake_getenforce(void)
{
        return enforcing;
}

/* Existing files are "shadow_t", as /etc/shadow is. */
static int fake_lgetfilecon(const char *path, char **con)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return -1;
        *con = strdup("system_u:object_r:shadow_t:s0");
        return 0;
}

static int fake_setfscreatecon(const char *con)
{
        if (con && fail_set_errno) {
                errno = fail_set_errno;
                return -1;
        }
        assert_true(n_calls < MAX_CALLS);
        temps_at_call[n_calls] = count_temps();
        calls[n_calls++] = strdup(con ?: "-");
        return 0;
}

static void fake_freecon(char *con)
{
        free(con);
}

static int handle_token;
static void *fake_selabel_open(unsigned backend, const void *opts, unsigned nopts)
{
        assert_int_equal(backend, 0);
        assert_null(opts);
        assert_int_equal(nopts, 0);
        return &handle_token;
}

/* The policy knows DIR/new (etc_t) and nothing else. No assert here:
 * it runs under the wrapper's lock, and a failed assert jumps out. */
static char last_key[4096];
static int last_type;
static int fake_selabel_lookup(void *h, char **con, const char *key, int type)
{
        char want[sizeof(dir) + 8];
        snprintf(last_key, sizeof(last_key), "%s", key);
        last_type = type;
        snprintf(want, sizeof(want), "%s/new", dir);
        if (h != &handle_token || strcmp(key, want) != 0) {
                errno = ENOENT;
                return -1;
        }
        *con = strdup("system_u:object_r:etc_t:s0");
        return 0;
}

static int fake_selabel_lookup_none(void *h, char **con, const char *key, int type)
{
        (void)h, (void)con, (void)key, (void)type;
        errno = ENOENT;
        return -1;
}

static struct selinux_ops fake = {
        .is_selinux_enabled = fake_enabled,
        .security_getenforce = fake_getenforce,
        .lgetfilecon = fake_lgetfilecon,
        .setfscreatecon = fake_setfscreatecon,
        .freecon = fake_freecon,
        .selabel_open = fake_selabel_open,
        .selabel_lookup = fake_selabel_lookup,
};

static int setup(void **state)
{
        (void)state;
        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dfd < 0;
}

static int teardown(void **state)
{
        char cmd[128];
        (void)state;
        selinux_util_set_ops(NULL);
        reset_calls();
        close(dfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

/* The real libselinux (installed or not) on a host without SELinux:
 * nothing is labelled, writes work as before. */
static void test_noop_without_selinux(void **state)
{
        (void)state;
        selinux_util_set_ops(NULL);
        if (access("/sys/fs/selinux/enforce", F_OK) == 0)
                skip(); /* an SELinux host: this case cannot be observed */
        assert_false(selinux_labels_enabled());
        assert_int_equal(selinux_create_label_begin(dfd, "x", S_IFREG | 0644), 0);
        selinux_create_label_end();
        assert_int_equal(write_file_atomic(dfd, "plain", "a\n", 2, 0644, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(write_file_atomic(dfd, "plain", "b\n", 2, 0644, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(count_temps(), 0);
}

static void test_replaced_file_keeps_label(void **state)
{
        (void)state;
        reset_calls();
        selinux_util_set_ops(&fake);
        assert_true(selinux_labels_enabled());
        assert_int_equal(write_file_atomic(dfd, "shadow", "1\n", 2, 0640, (uid_t)-1, (gid_t)-1), 0);
        reset_calls(); /* the first write was of a new file without a rule */
        assert_int_equal(write_file_atomic(dfd, "shadow", "2\n", 2, 0640, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(n_calls, 2);
        assert_string_equal(calls[0], "system_u:object_r:shadow_t:s0");
        assert_int_equal(temps_at_call[0], 0); /* set before the temp exists */
        assert_string_equal(calls[1], "-");
        assert_int_equal(temps_at_call[1], 1); /* reset right after it was created */
        selinux_util_set_ops(NULL);
}

static void test_new_file_gets_policy_label(void **state)
{
        (void)state;
        reset_calls();
        selinux_util_set_ops(&fake);
        assert_int_equal(write_file_atomic(dfd, "new", "x\n", 2, 0644, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(n_calls, 2);
        assert_string_equal(calls[0], "system_u:object_r:etc_t:s0");
        assert_string_equal(calls[1], "-");
        assert_true(S_ISREG((mode_t)last_type));
        assert_int_equal(last_type & 07777, 0644);
        /* No rule for the path: the directory's label is right, nothing set. */
        reset_calls();
        fake.selabel_lookup = fake_selabel_lookup_none;
        selinux_util_set_ops(&fake);
        assert_int_equal(write_file_atomic(dfd, "norule", "x\n", 2, 0644, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(n_calls, 0);
        fake.selabel_lookup = fake_selabel_lookup;
        selinux_util_set_ops(NULL);
}

static void test_enforcing_refuses_unlabelled_write(void **state)
{
        char *data = NULL;
        (void)state;
        reset_calls();
        selinux_util_set_ops(&fake);
        assert_int_equal(write_file_atomic(dfd, "guarded", "old\n", 4, 0600, (uid_t)-1, (gid_t)-1), 0);
        reset_calls();
        fail_set_errno = EACCES;
        assert_int_equal(write_file_atomic(dfd, "guarded", "new\n", 4, 0600, (uid_t)-1, (gid_t)-1), -EACCES);
        assert_int_equal(count_temps(), 0);
        assert_int_equal(read_file_bounded(dfd, "guarded", 100, &data, NULL), 0);
        assert_string_equal(data, "old\n");
        free(data);
        /* Permissive: written all the same (with the directory's label). */
        fail_set_errno = EACCES;
        enforcing = 0;
        assert_int_equal(write_file_atomic(dfd, "guarded", "new\n", 4, 0600, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(read_file_bounded(dfd, "guarded", 100, &data, NULL), 0);
        assert_string_equal(data, "new\n");
        free(data);
        selinux_util_set_ops(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_noop_without_selinux),
                cmocka_unit_test(test_replaced_file_keeps_label),
                cmocka_unit_test(test_new_file_gets_policy_label),
                cmocka_unit_test(test_enforcing_refuses_unlabelled_write),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
