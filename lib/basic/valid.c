/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/valid.h"

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-';
}

bool valid_user_name(const char *name)
{
        size_t n;
        bool all_digits = true;

        if (isempty(name) || name[0] == '-')
                return false;
        if (streq(name, ".") || streq(name, ".."))
                return false;
        for (n = 0; name[n]; n++) {
                if (n >= USER_NAME_MAX || !is_name_char(name[n]))
                        return false;
                if (name[n] < '0' || name[n] > '9')
                        all_digits = false;
        }
        return !all_digits;
}

bool valid_group_name(const char *name)
{
        return valid_user_name(name);
}

static bool has_control_or_colon(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ':')
                        return true;
        return false;
}

bool valid_gecos(const char *gecos)
{
        if (!gecos)
                return false;
        return strlen(gecos) <= GECOS_MAX && !has_control_or_colon(gecos);
}

static bool valid_absolute_path(const char *path)
{
        size_t n;

        if (!path || path[0] != '/')
                return false;
        n = strlen(path);
        if (n >= PATH_MAX || has_control_or_colon(path))
                return false;
        return true;
}

bool valid_home(const char *path)
{
        const char *p;

        if (!valid_absolute_path(path))
                return false;
        if (streq(path, "/"))
                return true;
        if (path[strlen(path) - 1] == '/')
                return false;
        /* Walk the components: none may be empty, "." or "..". */
        for (p = path; *p == '/';) {
                const char *c = p + 1;
                size_t len = strcspn(c, "/");

                if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                p = c + len;
        }
        return true;
}

bool valid_shell(const char *path)
{
        return valid_absolute_path(path) && !strstr(path, "/../") && !strstr(path, "//");
}

bool valid_network_uid(uint64_t uid, uint32_t floor)
{
        if (uid == 0 || uid < floor)
                return false;
        if (uid >= UINT32_MAX || uid == 65534)
                return false;
        return true;
}

bool valid_email(const char *email)
{
        const char *at;
        size_t n = 0;

        if (isempty(email))
                return false;
        at = strchr(email, '@');
        if (!at || at == email || at[1] == '\0' || strchr(at + 1, '@'))
                return false;
        for (const char *p = email; *p; p++, n++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || n >= 254)
                        return false;
        return true;
}

bool valid_sudo_rule(const char *rule)
{
        if (isempty(rule) || strlen(rule) > 512)
                return false;
        for (const char *p = rule; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
                        return false;
        return true;
}
