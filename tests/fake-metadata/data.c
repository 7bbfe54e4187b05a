/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a fixture and indexing its OS Login directory. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake.h"

int fake_load_fixture_file(const char *path, json_object **ret)
{
        json_object *o = json_object_from_file(path);
        if (!o) {
                fprintf(stderr, "oslogin-fake-metadata: %s: cannot load fixture: %s\n", path,
                        json_util_get_last_err() ?: "unknown error");
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

void fake_directory_free(struct fake_directory *d)
{
        json_object_put(d->users);
        json_object_put(d->groups);
        json_object_put(d->by_name);
        json_object_put(d->by_uid);
        json_object_put(d->by_email);
        json_object_put(d->group_by_name);
        json_object_put(d->group_by_gid);
        memset(d, 0, sizeof(*d));
}

static json_object *member(json_object *o, const char *key, json_type type)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static json_object *primary_account(json_object *user)
{
        json_object *accounts = member(user, "posixAccounts", json_type_array);
        size_t n = accounts ? json_object_array_length(accounts) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(accounts, i);
                json_object *p = member(a, "primary", json_type_boolean);
                if (p && json_object_get_boolean(p))
                        return a;
        }
        return n ? json_object_array_get_idx(accounts, 0) : NULL;
}

static int index_directory(json_object *oslogin, struct fake_directory *d)
{
        json_object *users = oslogin ? member(oslogin, "users", json_type_array) : NULL;
        json_object *groups = oslogin ? member(oslogin, "groups", json_type_array) : NULL;

        d->users = users ? json_object_get(users) : json_object_new_array();
        d->groups = groups ? json_object_get(groups) : json_object_new_array();
        d->by_name = json_object_new_object();
        d->by_uid = json_object_new_object();
        d->by_email = json_object_new_object();
        d->group_by_name = json_object_new_object();
        d->group_by_gid = json_object_new_object();

        for (size_t i = 0; i < json_object_array_length(d->users); i++) {
                json_object *u = json_object_array_get_idx(d->users, i);
                json_object *email = member(u, "name", json_type_string), *a = primary_account(u), *v;
                if (!email) {
                        fprintf(stderr,
                                "oslogin-fake-metadata: oslogin.users[%zu]: \"name\" (e-mail) missing\n", i);
                        return -EINVAL;
                }
                json_object_object_add(d->by_email, json_object_get_string(email), json_object_get(u));
                if (!a)
                        continue;
                if (json_object_object_get_ex(a, "username", &v))
                        json_object_object_add(d->by_name, json_object_get_string(v), json_object_get(u));
                if (json_object_object_get_ex(a, "uid", &v))
                        json_object_object_add(d->by_uid, json_object_get_string(v), json_object_get(u));
        }
        for (size_t i = 0; i < json_object_array_length(d->groups); i++) {
                json_object *g = json_object_array_get_idx(d->groups, i), *name, *gid;
                if (!json_object_object_get_ex(g, "name", &name) ||
                        !json_object_object_get_ex(g, "gid", &gid)) {
                        fprintf(stderr,
                                "oslogin-fake-metadata: oslogin.groups[%zu]: \"name\" or \"gid\" missing\n",
                                i);
                        return -EINVAL;
                }
                json_object_object_add(d->group_by_name, json_object_get_string(name), json_object_get(g));
                json_object_object_add(d->group_by_gid, json_object_get_string(gid), json_object_get(g));
        }
        return 0;
}

/* Replaces the served data with FIXTURE (owned). Caller holds fake.lock. */
int fake_set_data(json_object *fixture)
{
        struct fake_directory d = {};
        json_object *tree, *v;

        if (!json_object_is_type(fixture, json_type_object)) {
                fprintf(stderr, "oslogin-fake-metadata: fixture is not a JSON object\n");
                json_object_put(fixture);
                return -EINVAL;
        }
        tree = json_object_new_object();
        for (const char *const *level = (const char *const[]){"instance", "project", NULL}; *level;
                level++) {
                v = member(fixture, *level, json_type_object);
                if (!v) {
                        v = json_object_new_object();
                        json_object_object_add(fixture, *level, v);
                }
                if (!member(v, "attributes", json_type_object))
                        json_object_object_add(v, "attributes", json_object_new_object());
                json_object_object_add(tree, *level, json_object_get(v));
        }
        if (index_directory(member(fixture, "oslogin", json_type_object), &d) < 0) {
                fake_directory_free(&d);
                json_object_put(tree);
                json_object_put(fixture);
                return -EINVAL;
        }
        fake_directory_free(&fake.dir);
        json_object_put(fake.tree);
        json_object_put(fake.fixture);
        fake.dir = d;
        fake.tree = tree;
        fake.fixture = fixture;
        fake.generation++;
        pthread_cond_broadcast(&fake.changed);
        return 0;
}
