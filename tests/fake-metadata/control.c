/* SPDX-License-Identifier: Apache-2.0 */
/* The control interface under /_fake/ (see doc/fake-metadata.md). Runs with
 * fake.lock held; every data change bumps the generation so long-polls wake. */

#include <stdlib.h>
#include <string.h>

#include "fake.h"

static void changed(struct fake_reply *r)
{
        fake.generation++;
        fake_reply_text(r, 200, "ok\n");
}

static void put_data(const char *upload, size_t size, struct fake_reply *r)
{
        json_object *o = size ? json_tokener_parse(upload) : NULL;
        if (!o)
                return fake_reply_text(r, 400, "body is not a JSON fixture\n");
        if (fake_set_data(o) < 0)
                return fake_reply_text(r, 400, "invalid fixture (see the server log)\n");
        fake_reply_text(r, 200, "ok\n");
}

/* attributes/{instance|project}/KEY */
static void attribute(const char *path, const char *method, const char *upload, struct fake_reply *r)
{
        const char *level_end = strchr(path, '/');
        json_object *level, *attrs;
        char level_name[16];

        if (!level_end || level_end == path || (size_t)(level_end - path) >= sizeof(level_name) ||
                !level_end[1])
                return fake_reply_text(r, 400, "use /_fake/attributes/{instance|project}/KEY\n");
        memcpy(level_name, path, (size_t)(level_end - path));
        level_name[level_end - path] = '\0';
        if (!json_object_object_get_ex(fake.tree, level_name, &level) ||
                !json_object_object_get_ex(level, "attributes", &attrs))
                return fake_reply_text(r, 404, "no such level\n");
        if (strcmp(method, "PUT") == 0)
                json_object_object_add(attrs, level_end + 1, json_object_new_string(upload ?: ""));
        else if (strcmp(method, "DELETE") == 0)
                json_object_object_del(attrs, level_end + 1);
        else
                return fake_reply_text(r, 405, "PUT or DELETE\n");
        changed(r);
}

/* users/EMAIL/{login|adminLogin} with body true|false */
static void user_grant(const char *path, const char *upload, struct fake_reply *r)
{
        const char *slash = strrchr(path, '/');
        json_object *user;
        char *email;

        if (!slash || slash == path ||
                (strcmp(slash + 1, "login") != 0 && strcmp(slash + 1, "adminLogin") != 0))
                return fake_reply_text(r, 400, "use /_fake/users/EMAIL/{login|adminLogin}\n");
        email = strndup(path, (size_t)(slash - path));
        if (!email)
                abort();
        bool found = json_object_object_get_ex(fake.dir.by_email, email, &user);
        free(email);
        if (!found)
                return fake_reply_text(r, 404, "no such user\n");
        bool value = upload && strncmp(upload, "true", 4) == 0;
        if (!value && !(upload && strncmp(upload, "false", 5) == 0))
                return fake_reply_text(r, 400, "body must be true or false\n");
        json_object_object_add(user, slash + 1, json_object_new_boolean(value));
        changed(r);
}

static int parse_faults(const char *upload, size_t size, struct fake_faults *ret)
{
        json_object *o = size ? json_tokener_parse(upload) : NULL, *v;
        struct fake_faults f = {.active = true, .count = -1};

        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -1;
        }
        if (json_object_object_get_ex(o, "delay_ms", &v))
                f.delay_ms = (unsigned)json_object_get_int(v);
        if (json_object_object_get_ex(o, "status", &v))
                f.status = (unsigned)json_object_get_int(v);
        if (json_object_object_get_ex(o, "count", &v))
                f.count = json_object_get_int64(v);
        if (json_object_object_get_ex(o, "fraction", &v))
                f.fraction = json_object_get_double(v);
        if (json_object_object_get_ex(o, "body", &v))
                snprintf(f.body, sizeof(f.body), "%s", json_object_get_string(v));
        if (json_object_object_get_ex(o, "no_flavor", &v))
                f.no_flavor = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "drop", &v))
                f.drop = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "blackhole", &v))
                f.blackhole = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "path_prefix", &v))
                snprintf(f.path_prefix, sizeof(f.path_prefix), "%s", json_object_get_string(v));
        json_object_put(o);
        if (f.body[0] && strcmp(f.body, "truncated") != 0 && strcmp(f.body, "nonjson") != 0 &&
                strcmp(f.body, "oversized") != 0 && strcmp(f.body, "wrongtypes") != 0)
                return -1;
        if (f.status && (f.status < 100 || f.status > 599))
                return -1;
        *ret = f;
        return 0;
}

static void stats(struct fake_reply *r)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "requests", json_object_new_int64((int64_t)fake.requests));
        json_object_object_add(o, "paths", json_object_get(fake.path_counts));
        fake_reply_json(r, 200, o);
}

void fake_serve_control(
        const char *path, const char *method, const char *upload, size_t upload_size, struct fake_reply *r)
{
        bool put = strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0;
        bool del = strcmp(method, "DELETE") == 0, get = strcmp(method, "GET") == 0;

        if (strcmp(path, "data") == 0 && put)
                return put_data(upload, upload_size, r);
        if (strcmp(path, "data") == 0 && get)
                return fake_reply_json(r, 200, json_object_get(fake.fixture));
        if (strncmp(path, "attributes/", 11) == 0)
                return attribute(path + 11, method, upload, r);
        if (strncmp(path, "users/", 6) == 0 && put)
                return user_grant(path + 6, upload, r);
        if (strcmp(path, "faults") == 0 && put) {
                struct fake_faults f;
                if (parse_faults(upload, upload_size, &f) < 0)
                        return fake_reply_text(r, 400, "bad faults JSON (see doc/fake-metadata.md)\n");
                fake.faults = f;
                return fake_reply_text(r, 200, "ok\n");
        }
        if (strcmp(path, "faults") == 0 && del) {
                memset(&fake.faults, 0, sizeof(fake.faults));
                return fake_reply_text(r, 200, "ok\n");
        }
        if (strcmp(path, "stats") == 0 && get)
                return stats(r);
        if (strcmp(path, "stats") == 0 && del) {
                fake.requests = 0;
                json_object_put(fake.path_counts);
                fake.path_counts = json_object_new_object();
                return fake_reply_text(r, 200, "ok\n");
        }
        fake_reply_text(r, 404, "unknown control request\n");
}
