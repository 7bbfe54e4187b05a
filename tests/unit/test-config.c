/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "mds/config.h"

static char path[] = "/tmp/test-config.XXXXXX";

static int load(const char *text, unsigned flags, struct oslogin_config *ret)
{
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        int r = config_load(path, flags, ret);
        unlink(path);
        strcpy(path, "/tmp/test-config.XXXXXX");
        return r;
}

static void test_defaults(void **state)
{
        struct oslogin_config c;
        (void)state;
        assert_int_equal(config_load("/nonexistent/oslogin.conf", 0, &c), 0);
        assert_string_equal(c.url, "http://169.254.169.254/computeMetadata/v1/");
        assert_true(c.refresh_interval_usec == 600000000ull);
        assert_true(c.negative_ttl_usec == 30000000ull);
        assert_string_equal(c.sudo_rule, "ALL=(ALL:ALL) NOPASSWD:ALL");
        assert_string_equal(c.groups[0], "adm");
        assert_string_equal(c.groups[5], "video");
        assert_null(c.groups[6]);
        assert_false(c.deprovision_remove);
        config_free(&c);
}

static void test_values(void **state)
{
        struct oslogin_config c;
        (void)state;
        assert_int_equal(load("# comment\n[metadata]\nurl = http://127.0.0.1:8080/computeMetadata/v1\n"
                              "timeout = 500ms\n[directory]\nrefresh_interval = 5min\nnegative_ttl=10\n"
                              "[accounts]\ngroups = adm, video\ndeprovision_remove = yes\nunknown_key = 1\n"
                              "[sudo]\nrule = ALL=(ALL) ALL\n",
                                 0, &c),
                0);
        assert_string_equal(c.url, "http://127.0.0.1:8080/computeMetadata/v1");
        assert_true(c.timeout_usec == 500000);
        assert_true(c.refresh_interval_usec == 300000000ull);
        assert_true(c.negative_ttl_usec == 10000000ull);
        assert_string_equal(c.groups[1], "video");
        assert_null(c.groups[2]);
        assert_true(c.deprovision_remove);
        assert_string_equal(c.sudo_rule, "ALL=(ALL) ALL");
        config_free(&c);
}

/* [metadata] transport and the HTTPS settings (lib/mds/mds-client.h). */
static void test_transport(void **state)
{
        static const char *bad[] = {
                "transport = HTTPS\n",
                "transport = tls\n",
                "credentials_directory = run/x\n",
                "state_directory = /var/lib/a b\n",
                "https_address = metadata.google.internal:443\n",
                "https_address = 169.254.169.254\n",
                "https_address = 169.254.169.254:0\n",
                "https_address = [fd00::1:443\n",
        };
        struct oslogin_config c;
        char text[256];
        (void)state;

        strcpy(path, "/tmp/test-config.XXXXXX"); /* test_unsafe_file leaves its own name */
        assert_int_equal(config_load("/nonexistent/oslogin.conf", 0, &c), 0);
        assert_int_equal(c.transport, MDS_TRANSPORT_AUTO);
        assert_string_equal(c.credentials_directory, "/run/google-mds-mtls");
        assert_string_equal(c.https_address, "169.254.169.254:443");
        assert_string_equal(c.state_directory, "/var/lib/oslogin");
        config_free(&c);
        assert_int_equal(load("[metadata]\ntransport = https\ncredentials_directory = /etc/mtls\n"
                              "https_address = [fd00::1]:8443\nstate_directory = /tmp/state\n",
                                 0, &c),
                0);
        assert_int_equal(c.transport, MDS_TRANSPORT_HTTPS);
        assert_string_equal(c.credentials_directory, "/etc/mtls");
        assert_string_equal(c.https_address, "[fd00::1]:8443");
        assert_string_equal(c.state_directory, "/tmp/state");
        config_free(&c);
        assert_int_equal(load("[metadata]\ntransport = http\nhttps_address = 127.0.0.1:8443\n", 0, &c), 0);
        assert_int_equal(c.transport, MDS_TRANSPORT_HTTP);
        config_free(&c);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(text, sizeof(text), "[metadata]\n%s", bad[i]);
                assert_int_equal(load(text, 0, &c), -EINVAL);
        }
        /* HTTPS is the transport's business: url stays plain HTTP. */
        assert_int_equal(load("[metadata]\nurl = https://metadata.google.internal/\n", 0, &c), -EINVAL);
}

static void test_bad_values(void **state)
{
        static const char *const bad[] = {
                "[metadata]\nurl = ftp://x/\n",
                "[metadata]\ntimeout = soon\n",
                "[metadata]\nurl = https://169.254.169.254/\n",
                "[metadata]\ntimeout = -5s\n",
                "[directory]\nuid_floor = 99999999999\n",
                "[accounts]\ngroups = adm,bad:group\n",
                "[accounts]\ndeprovision_remove = perhaps\n",
                "[accounts]\nuid_min = 5000\nuid_max = 10\n",
                "[sudo]\nrule = ALL\\\n",
                "[accounts]\nshell = bin/bash\n",
                "[authorized_keys]\nuser = -x\n",
                "no section line without equals\n",
        };
        struct oslogin_config c;
        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (load(bad[i], 0, &c) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

static void test_broker(void **state)
{
        static const char *const bad[] = {
                "[broker]\nper_uid_connections = 0\n",
                "[broker]\nmax_connections = 70000\n",
                "[broker]\nanswer_ttl = soon\n",
                "[broker]\nadmin_ttl = -1s\n",
        };
        struct oslogin_config c;
        (void)state;
        strcpy(path, "/tmp/test-config.XXXXXX"); /* test_unsafe_file leaves its own name here */
        assert_int_equal(config_load("/nonexistent/oslogin.conf", 0, &c), 0);
        assert_true(c.answer_ttl_usec == 5000000ull);
        assert_true(c.admin_ttl_usec == 300000000ull);
        assert_int_equal(c.max_connections, 256);
        assert_int_equal(c.per_uid_connections, 16);
        config_free(&c);
        assert_int_equal(load("[broker]\nanswer_ttl = 0\nadmin_ttl = 1min\nmax_connections = 32\n"
                              "per_uid_connections = 4\n",
                                 0, &c),
                0);
        assert_true(c.answer_ttl_usec == 0);
        assert_true(c.admin_ttl_usec == 60000000ull);
        assert_int_equal(c.max_connections, 32);
        assert_int_equal(c.per_uid_connections, 4);
        config_free(&c);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (load(bad[i], 0, &c) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

static void test_sshd(void **state)
{
        static const char *const bad[] = {
                "[sshd]\ncert_authentication = maybe\n",
                "[sshd]\nusers_group = a:b\n",
                "[sshd]\nusers_group = -x\n",
                "[sshd]\nusers_gid = 5000000000\n",
                "[sshd]\nusers_gid = lots\n",
        };
        struct oslogin_config c;
        (void)state;
        strcpy(path, "/tmp/test-config.XXXXXX");
        assert_int_equal(config_load("/nonexistent/oslogin.conf", 0, &c), 0);
        assert_true(c.cert_authentication);
        assert_string_equal(c.users_group, "oslogin-users");
        assert_int_equal(c.users_gid, 4294000000u);
        config_free(&c);
        assert_int_equal(
                load("[sshd]\ncert_authentication = no\nusers_group = ssh-oslogin\nusers_gid = 3000000\n", 0,
                        &c),
                0);
        assert_false(c.cert_authentication);
        assert_string_equal(c.users_group, "ssh-oslogin");
        assert_int_equal(c.users_gid, 3000000);
        config_free(&c);
        /* Empty: no group, no Match block. */
        assert_int_equal(load("[sshd]\nusers_group =\n", 0, &c), 0);
        assert_string_equal(c.users_group, "");
        config_free(&c);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (load(bad[i], 0, &c) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
}

static void test_unsafe_file(void **state)
{
        struct oslogin_config c;
        (void)state;
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        chmod(path, 0666);
        if (geteuid() == 0)
                assert_int_equal(config_load(path, 0, &c), -EPERM);
        assert_int_equal(config_load(path, CONFIG_LOAD_SKIP_OWNER_CHECK, &c), 0);
        config_free(&c);
        chmod(path, 0644);
        if (geteuid() == 0) {
                assert_int_equal(chown(path, 65534, 0), 0);
                assert_int_equal(config_load(path, 0, &c), -EPERM);
        }
        unlink(path);
}

static void test_durations(void **state)
{
        uint64_t u;
        (void)state;
        assert_int_equal(parse_duration("30", &u), 0);
        assert_true(u == 30000000);
        assert_int_equal(parse_duration("2h", &u), 0);
        assert_true(u == 7200000000ull);
        assert_int_equal(parse_duration("", &u), -EINVAL);
        assert_int_equal(parse_duration("5 s", &u), -EINVAL);
        assert_int_equal(parse_duration("99999999999999999999s", &u), -EINVAL);
        assert_int_equal(parse_duration("9999999999999999h", &u), -ERANGE);
        assert_int_equal(parse_size("1M", &u), 0);
        assert_true(u == 1048576);
        assert_int_equal(parse_size("1G", &u), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_unsafe_file),
                cmocka_unit_test(test_durations),
                cmocka_unit_test(test_transport),
                cmocka_unit_test(test_broker),
                cmocka_unit_test(test_sshd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
