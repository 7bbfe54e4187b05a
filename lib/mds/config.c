/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/valid.h"
#include "mds/config.h"

int parse_duration(const char *s, uint64_t *ret_usec)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                {"ms", 1000},
                {"s", 1000000},
                {"sec", 1000000},
                {"m", 60000000},
                {"min", 60000000},
                {"h", 3600000000ull},
                {"", 1000000},
        };
        char digits[32];
        size_t n = strspn(s ?: "", "0123456789");
        uint64_t v;

        if (!s || n == 0 || n >= sizeof(digits))
                return -EINVAL;
        memcpy(digits, s, n);
        digits[n] = '\0';
        if (safe_atou64(digits, &v) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(s + n, units[i].suffix)) {
                        if (v > UINT64_MAX / units[i].usec)
                                return -ERANGE;
                        *ret_usec = v * units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret)
{
        char digits[32];
        size_t n = strspn(s ?: "", "0123456789");
        uint64_t v, mult = 1;

        if (!s || n == 0 || n >= sizeof(digits))
                return -EINVAL;
        memcpy(digits, s, n);
        digits[n] = '\0';
        if (safe_atou64(digits, &v) < 0)
                return -EINVAL;
        if (streq(s + n, "K"))
                mult = 1024;
        else if (streq(s + n, "M"))
                mult = 1024 * 1024;
        else if (!streq(s + n, ""))
                return -EINVAL;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

void config_free(struct oslogin_config *c)
{
        free(c->url);
        free(c->credentials_directory);
        free(c->https_address);
        free(c->state_directory);
        strv_free(c->groups);
        free(c->home_base);
        free(c->shell);
        free(c->sudo_rule);
        free(c->akc_user);
        free(c->users_group);
        memset(c, 0, sizeof(*c));
}

int config_defaults(struct oslogin_config *ret)
{
        struct oslogin_config c = {
                .connect_timeout_usec = 1000000,
                .timeout_usec = 5000000,
                .max_response_size = 1024 * 1024,
                .refresh_interval_usec = 600000000ull,
                .negative_ttl_usec = 30000000,
                .nss_timeout_usec = 1000000,
                .page_size = 1000,
                .uid_floor = OSLOGIN_UID_FLOOR_DEFAULT,
                .metadata_accounts = true,
                .reuse_homedir = true,
                .manage_host_config = true,
                .uid_min = 1000,
                .uid_max = 60000,
                .sudo_recheck_interval_usec = 300000000ull,
                .akc_deadline_usec = 5000000,
                .answer_ttl_usec = 5000000,
                .admin_ttl_usec = 300000000ull,
                .max_connections = 256,
                .per_uid_connections = 16,
                .cert_authentication = true,
                .users_gid = OSLOGIN_DEFAULT_USERS_GID,
        };
        c.url = strdup(OSLOGIN_DEFAULT_MDS_URL);
        c.credentials_directory = strdup(OSLOGIN_DEFAULT_MTLS_DIR);
        c.https_address = strdup(OSLOGIN_DEFAULT_HTTPS_ADDRESS);
        c.state_directory = strdup(OSLOGIN_DEFAULT_STATE_DIR);
        c.groups = strv_split("adm,dip,docker,lxd,plugdev,video", ",");
        c.home_base = strdup("/home");
        c.shell = strdup("/bin/bash");
        c.sudo_rule = strdup("ALL=(ALL:ALL) NOPASSWD:ALL");
        c.akc_user = strdup("_oslogin");
        c.users_group = strdup(OSLOGIN_DEFAULT_USERS_GROUP);
        if (!c.users_group || !c.url || !c.credentials_directory || !c.https_address || !c.state_directory ||
                !c.groups || !c.home_base || !c.shell || !c.sudo_rule || !c.akc_user) {
                config_free(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

struct parse_state {
        struct oslogin_config *config;
        const char *path;
        FILE *file;
        int line; /* Debian's libinih passes no line number: the reader counts */
        int error;
};

static int set_string(char **field, const char *value)
{
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int set_uint32(uint32_t *field, const char *value)
{
        return safe_atou32(value, field);
}

/* A connection limit: 1..65536 (0 would shut every client out). */
static int set_count(uint32_t *field, const char *value)
{
        uint32_t n;
        int r = safe_atou32(value, &n);
        if (r < 0)
                return r;
        if (n == 0 || n > 65536)
                return -EINVAL;
        *field = n;
        return 0;
}

static int set_bool(bool *field, bool *set, const char *value)
{
        int b = parse_config_boolean(value);
        if (b < 0)
                return b;
        *field = b;
        if (set)
                *set = true;
        return 0;
}

static int parse_transport(const char *value)
{
        if (streq(value, "auto"))
                return MDS_TRANSPORT_AUTO;
        if (streq(value, "http"))
                return MDS_TRANSPORT_HTTP;
        if (streq(value, "https"))
                return MDS_TRANSPORT_HTTPS;
        return -EINVAL;
}

static bool valid_absolute_path(const char *s)
{
        if (s[0] != '/' || strlen(s) > 1024)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x21 || *s == 0x7f)
                        return false;
        return true;
}

/* A numeric IPv4 "A.B.C.D:PORT" or "[V6]:PORT": the HTTPS endpoint is
 * reached without any name lookup. */
static bool valid_address_port(const char *s)
{
        const char *colon = strrchr(s, ':');
        unsigned char buf[16];
        char host[64];
        uint32_t port;

        if (!colon || (size_t)(colon - s) >= sizeof(host) || safe_atou32(colon + 1, &port) < 0 ||
                port == 0 || port > 65535)
                return false;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        if (host[0] == '[') {
                size_t n = strlen(host);
                if (n < 3 || host[n - 1] != ']')
                        return false;
                host[n - 1] = '\0';
                return inet_pton(AF_INET6, host + 1, buf) == 1;
        }
        return inet_pton(AF_INET, host, buf) == 1;
}

static int set_value(struct oslogin_config *c, const char *section, const char *key, const char *value)
{
#define KEY(s, k) (streq(section, s) && streq(key, k))
        if (KEY("metadata", "url"))
                /* The plain-HTTP address: HTTPS is [metadata] transport's (mds-client.c). */
                return strneq(value, "http://", 7) ? set_string(&c->url, value) : -EINVAL;
        if (KEY("metadata", "transport")) {
                int t = parse_transport(value);
                if (t < 0)
                        return t;
                c->transport = (enum mds_transport)t;
                return 0;
        }
        if (KEY("metadata", "credentials_directory"))
                return valid_absolute_path(value) ? set_string(&c->credentials_directory, value) : -EINVAL;
        if (KEY("metadata", "state_directory"))
                return valid_absolute_path(value) ? set_string(&c->state_directory, value) : -EINVAL;
        if (KEY("metadata", "https_address"))
                return valid_address_port(value) ? set_string(&c->https_address, value) : -EINVAL;
        if (KEY("metadata", "connect_timeout"))
                return parse_duration(value, &c->connect_timeout_usec);
        if (KEY("metadata", "timeout"))
                return parse_duration(value, &c->timeout_usec);
        if (KEY("metadata", "max_response_size"))
                return parse_size(value, &c->max_response_size);
        if (KEY("directory", "refresh_interval"))
                return parse_duration(value, &c->refresh_interval_usec);
        if (KEY("directory", "negative_ttl"))
                return parse_duration(value, &c->negative_ttl_usec);
        if (KEY("directory", "nss_timeout"))
                return parse_duration(value, &c->nss_timeout_usec);
        if (KEY("directory", "page_size"))
                return set_uint32(&c->page_size, value);
        if (KEY("directory", "uid_floor"))
                return set_uint32(&c->uid_floor, value);
        if (KEY("accounts", "groups")) {
                char **list = strv_split(value, ", ");
                if (!list)
                        return -ENOMEM;
                for (char **g = list; *g; g++)
                        if (!valid_group_name(*g)) {
                                strv_free(list);
                                return -EINVAL;
                        }
                strv_free(c->groups);
                c->groups = list;
                c->groups_set = true;
                return 0;
        }
        if (KEY("accounts", "deprovision_remove"))
                return set_bool(&c->deprovision_remove, &c->deprovision_remove_set, value);
        if (KEY("accounts", "reuse_homedir"))
                return set_bool(&c->reuse_homedir, &c->reuse_homedir_set, value);
        if (KEY("accounts", "metadata_accounts"))
                return set_bool(&c->metadata_accounts, NULL, value);
        if (KEY("host", "manage_host_config"))
                return set_bool(&c->manage_host_config, NULL, value);
        if (KEY("accounts", "uid_min"))
                return set_uint32(&c->uid_min, value);
        if (KEY("accounts", "uid_max"))
                return set_uint32(&c->uid_max, value);
        if (KEY("accounts", "home_base"))
                return valid_home(value) ? set_string(&c->home_base, value) : -EINVAL;
        if (KEY("accounts", "shell"))
                return valid_shell(value) ? set_string(&c->shell, value) : -EINVAL;
        if (KEY("sudo", "rule"))
                return valid_sudo_rule(value) ? set_string(&c->sudo_rule, value) : -EINVAL;
        if (KEY("sudo", "recheck_interval"))
                return parse_duration(value, &c->sudo_recheck_interval_usec);
        if (KEY("authorized_keys", "deadline"))
                return parse_duration(value, &c->akc_deadline_usec);
        if (KEY("authorized_keys", "user"))
                return valid_user_name(value) ? set_string(&c->akc_user, value) : -EINVAL;
        if (KEY("sshd", "cert_authentication"))
                return set_bool(&c->cert_authentication, NULL, value);
        if (KEY("sshd", "users_group"))
                return isempty(value) || valid_group_name(value) ? set_string(&c->users_group, value)
                                                                 : -EINVAL;
        if (KEY("sshd", "users_gid"))
                return set_uint32(&c->users_gid, value);
        if (KEY("broker", "answer_ttl"))
                return parse_duration(value, &c->answer_ttl_usec);
        if (KEY("broker", "admin_ttl"))
                return parse_duration(value, &c->admin_ttl_usec);
        if (KEY("broker", "max_connections"))
                return set_count(&c->max_connections, value);
        if (KEY("broker", "per_uid_connections"))
                return set_count(&c->per_uid_connections, value);
#undef KEY
        return -ENOKEY;
}

static char *read_line(char *buf, int size, void *stream)
{
        struct parse_state *s = stream;
        char *p = fgets(buf, size, s->file);
        if (p)
                s->line++;
        return p;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
        struct parse_state *s = user;
        int line = s->line;
        int r = set_value(s->config, section, key, value);

        if (r == -ENOKEY) {
                log_warning(
                        "%s:%d: unknown key \"%s\" in section [%s], ignoring.", s->path, line, key, section);
                return 1;
        }
        if (r < 0) {
                log_error("%s:%d: invalid value \"%s\" for %s.%s.", s->path, line, value, section, key);
                if (!s->error)
                        s->error = r == -ENOMEM ? -ENOMEM : -EINVAL;
        }
        return 1;
}

static int check_file_safe(int fd, const char *path)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "%s: cannot stat: %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "%s: not a regular file.", path);
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return log_error_errno(EPERM,
                        "%s: refusing a config file not owned by root or writable by group/others "
                        "(owner %u, mode %04o).",
                        path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return 0;
}

int config_load(const char *path, unsigned flags, struct oslogin_config *ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        struct oslogin_config c;
        struct parse_state state = {.config = &c};
        int fd, r;

        path = path ?: OSLOGIN_CONFIG_PATH;
        state.path = path;
        r = config_defaults(&c);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT) {
                        *ret = c;
                        return 0;
                }
                r = log_error_errno(errno, "%s: cannot open: %m", path);
                config_free(&c);
                return r;
        }
        f = fdopen(fd, "r");
        if (!f) {
                r = -errno;
                close(fd);
                config_free(&c);
                return r;
        }
        if (!(flags & CONFIG_LOAD_SKIP_OWNER_CHECK)) {
                r = check_file_safe(fd, path);
                if (r < 0) {
                        config_free(&c);
                        return r;
                }
        }
        state.file = f;
        r = ini_parse_stream(read_line, &state, handler, &state);
        if (r > 0 && !state.error) {
                log_error("%s:%d: syntax error.", path, r);
                state.error = -EINVAL;
        }
        if (!state.error && c.uid_min > c.uid_max) {
                log_error("%s: [accounts] uid_min (%u) is above uid_max (%u).", path, c.uid_min, c.uid_max);
                state.error = -EINVAL;
        }
        if (!state.error && c.page_size == 0) {
                log_error("%s: [directory] page_size must be positive.", path);
                state.error = -EINVAL;
        }
        if (state.error) {
                config_free(&c);
                return state.error;
        }
        *ret = c;
        return 0;
}
