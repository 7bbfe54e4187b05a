/* SPDX-License-Identifier: Apache-2.0 */
/* The OS Login endpoints, answered from the fixture's "oslogin" section.
 * Users: {"name": EMAIL, "login": bool, "adminLogin": bool, "posixAccounts": [...],
 * "sshPublicKeys": {...}, "securityKeys": [{"publicKey": ...}] (shown with view=securityKey),
 * "certifiedFingerprints": [...] (authorize&fingerprint= accepts them besides the keys'),
 * "twoFactor": {...} (two-factor.c)}.
 * Groups: {"name", "gid", "members": [usernames]}. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

#define DEFAULT_PAGE_SIZE 1000

static const char *arg(struct MHD_Connection *c, const char *key)
{
        return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Lists a fixture sent with PUT /_fake/data may have of any type: json-c
 * asserts (aborts) on array access to anything else. */
static json_object *get_array(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return json_object_is_type(v, json_type_array) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return v ? json_object_get_string(v) : NULL;
}

static json_object *primary_account(json_object *user)
{
        json_object *accounts = get_array(user, "posixAccounts");
        size_t n = accounts ? json_object_array_length(accounts) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(accounts, i);
                if (json_object_get_boolean(get(a, "primary")))
                        return a;
        }
        return n ? json_object_array_get_idx(accounts, 0) : NULL;
}

/* The profile as the real server shows it: no fixture-only fields. */
static json_object *profile(json_object *user, bool security_keys)
{
        json_object *p = json_object_new_object();
        json_object *v;
        json_object_object_add(p, "name", json_object_get(get(user, "name")));
        if ((v = get(user, "posixAccounts")))
                json_object_object_add(p, "posixAccounts", json_object_get(v));
        json_object_object_add(p, "sshPublicKeys",
                (v = get(user, "sshPublicKeys")) ? json_object_get(v) : json_object_new_object());
        /* Only view=securityKey shows them, always as an array. */
        if (security_keys)
                json_object_object_add(p, "securityKeys",
                        (v = get_array(user, "securityKeys")) ? json_object_get(v)
                                                              : json_object_new_array());
        return p;
}

static json_object *profiles_answer(json_object *user, bool security_keys)
{
        json_object *list = json_object_new_array(), *o = json_object_new_object();
        json_object_array_add(list, profile(user, security_keys));
        json_object_object_add(o, "loginProfiles", list);
        return o;
}

static size_t page_size(struct MHD_Connection *c)
{
        const char *s = arg(c, "pagesize");
        long n = s ? strtol(s, NULL, 10) : 0;
        return n > 0 && n <= 100000 ? (size_t)n : DEFAULT_PAGE_SIZE;
}

/* Page tokens are opaque to clients: "page-OFFSET". */
static size_t page_offset(struct MHD_Connection *c, bool *ret_bad)
{
        const char *t = arg(c, "pagetoken");
        *ret_bad = false;
        if (!t || !*t)
                return 0;
        if (strncmp(t, "page-", 5) != 0) {
                *ret_bad = true;
                return 0;
        }
        return strtoul(t + 5, NULL, 10);
}

/* The token of the last page: "0", or with "loopPageTokens": true in the
 * fixture's oslogin section "page-0", so that pagination never ends (a
 * server bug the clients must survive). */
static char *last_token(void)
{
        json_object *loop = get(get(fake.fixture, "oslogin"), "loopPageTokens");
        char *t = strdup(loop && json_object_get_boolean(loop) ? "page-0" : "0");
        if (!t)
                abort();
        return t;
}

static char *next_token(size_t offset)
{
        char *t;
        if (asprintf(&t, "page-%zu", offset) < 0)
                abort();
        return t;
}

static void users_page(struct MHD_Connection *c, struct fake_reply *ret)
{
        bool bad;
        size_t size = page_size(c), offset = page_offset(c, &bad),
               n = json_object_array_length(fake.dir.users);
        json_object *o = json_object_new_object(), *list = json_object_new_array();

        if (bad) {
                json_object_put(o);
                json_object_put(list);
                fake_reply_text(ret, MHD_HTTP_BAD_REQUEST, "bad page token\n");
                return;
        }
        /* Every page before the last carries a real token; the last is empty with "0". */
        for (size_t i = offset; i < n && i < offset + size; i++)
                json_object_array_add(list, profile(json_object_array_get_idx(fake.dir.users, i), false));
        if (json_object_array_length(list) > 0) {
                char *t = next_token(offset + json_object_array_length(list));
                json_object_object_add(o, "loginProfiles", list);
                json_object_object_add(o, "nextPageToken", json_object_new_string(t));
                free(t);
        } else {
                char *t = last_token();
                json_object_put(list);
                json_object_object_add(o, "nextPageToken", json_object_new_string(t));
                free(t);
        }
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

static json_object *group_json(json_object *g)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_get(get(g, "name")));
        json_object_object_add(o, "gid", json_object_get(get(g, "gid")));
        return o;
}

static bool group_has_member(json_object *g, const char *username)
{
        json_object *m = get_array(g, "members");
        for (size_t i = 0; m && i < json_object_array_length(m); i++) {
                const char *name = json_object_get_string(json_object_array_get_idx(m, i)); /* null: NULL */
                if (name && strcmp(name, username) == 0)
                        return true;
        }
        return false;
}

static void groups_page(struct MHD_Connection *c, json_object *only_member_of, struct fake_reply *ret)
{
        bool bad;
        size_t size = page_size(c), offset = page_offset(c, &bad),
               n = json_object_array_length(fake.dir.groups);
        json_object *o = json_object_new_object(), *list = json_object_new_array();
        const char *member = NULL;
        size_t i;

        if (only_member_of) {
                json_object *a = primary_account(only_member_of);
                member = a ? get_str(a, "username") : "";
        }
        /* Unlike users, the last ("0") page may still hold groups. */
        for (i = offset; i < n && json_object_array_length(list) < size; i++) {
                json_object *g = json_object_array_get_idx(fake.dir.groups, i);
                if (!member || group_has_member(g, member))
                        json_object_array_add(list, group_json(g));
        }
        char *t = i < n && !bad ? next_token(i) : last_token();
        json_object_object_add(o, "posixGroups", list);
        json_object_object_add(o, "nextPageToken", json_object_new_string(t));
        free(t);
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

static void group_members(struct MHD_Connection *c, json_object *g, struct fake_reply *ret)
{
        bool bad;
        size_t size = page_size(c), offset = page_offset(c, &bad);
        json_object *members = get_array(g, "members"), *o = json_object_new_object(),
                    *list = json_object_new_array();
        size_t n = members ? json_object_array_length(members) : 0, i;

        for (i = offset; i < n && i < offset + size; i++)
                json_object_array_add(list, json_object_get(json_object_array_get_idx(members, i)));
        char *t = i < n ? next_token(i) : last_token();
        json_object_object_add(o, "usernames", list);
        json_object_object_add(o, "nextPageToken", json_object_new_string(t));
        free(t);
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

static void one_group(json_object *g, struct fake_reply *ret)
{
        json_object *o = json_object_new_object(), *list = json_object_new_array();
        json_object_array_add(list, group_json(g));
        json_object_object_add(o, "posixGroups", list);
        json_object_object_add(o, "nextPageToken", json_object_new_string("0"));
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

/* Whether the directory vouches for FP for USER: a key of the profile (its
 * sshPublicKeys map key or "fingerprint" member) or a fingerprint the
 * fixture lists in "certifiedFingerprints" (keys the CA certified). */
static bool vouches_for(json_object *user, const char *fp)
{
        json_object *keys = get(user, "sshPublicKeys"),
                    *certified = get_array(user, "certifiedFingerprints");

        if (json_object_is_type(keys, json_type_object)) {
                json_object_object_foreach(keys, name, key)
                {
                        const char *f = get_str(key, "fingerprint");
                        if (strcmp(name, fp) == 0 || (f && strcmp(f, fp) == 0))
                                return true;
                }
        }
        for (size_t i = 0; certified && i < json_object_array_length(certified); i++) {
                const char *f = json_object_get_string(json_object_array_get_idx(certified, i));
                if (f && strcmp(f, fp) == 0)
                        return true;
        }
        return false;
}

/* authorize?email=E&policy=P[&fingerprint=F]: success only when the policy
 * holds and, with a fingerprint, the directory vouches for it. */
static void authorize(struct MHD_Connection *c, struct fake_reply *ret)
{
        const char *email = arg(c, "email"), *policy = arg(c, "policy"), *fp = arg(c, "fingerprint");
        json_object *user = email ? get(fake.dir.by_email, email) : NULL;
        bool granted = false;

        if (!policy || (strcmp(policy, "login") != 0 && strcmp(policy, "adminLogin") != 0)) {
                fake_reply_text(ret, MHD_HTTP_BAD_REQUEST, "unknown policy\n");
                return;
        }
        if (user)
                granted = json_object_get_boolean(get(user, policy)) && (!fp || vouches_for(user, fp));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "success", json_object_new_boolean(granted));
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

void fake_serve_oslogin(const char *path, const char *method, const char *upload, size_t upload_size,
        struct MHD_Connection *c, struct fake_reply *ret)
{
        const char *v;
        json_object *o;

        if (strncmp(path, "authenticate/sessions/", 22) == 0)
                return fake_serve_two_factor(path, method, upload, upload_size, ret);
        if (strcmp(path, "users") == 0) {
                if ((v = arg(c, "username")))
                        o = get(fake.dir.by_name, v);
                else if ((v = arg(c, "uid")))
                        o = get(fake.dir.by_uid, v);
                else if ((v = arg(c, "groupname"))) {
                        json_object *g = get(fake.dir.group_by_name, v);
                        if (g)
                                return group_members(c, g, ret);
                        return fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "no such group\n");
                } else
                        return users_page(c, ret);
                if (!o)
                        return fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "no such user\n");
                v = arg(c, "view");
                return fake_reply_json(
                        ret, MHD_HTTP_OK, profiles_answer(o, v && strcmp(v, "securityKey") == 0));
        }
        if (strcmp(path, "groups") == 0) {
                if ((v = arg(c, "groupname")) || (v = arg(c, "gid"))) {
                        o = get(arg(c, "groupname") ? fake.dir.group_by_name : fake.dir.group_by_gid, v);
                        if (!o)
                                return fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "no such group\n");
                        return one_group(o, ret);
                }
                if ((v = arg(c, "email"))) {
                        o = get(fake.dir.by_email, v);
                        if (!o)
                                return fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "no such user\n");
                        return groups_page(c, o, ret);
                }
                return groups_page(c, NULL, ret);
        }
        if (strcmp(path, "authorize") == 0)
                return authorize(c, ret);
        if (strcmp(path, "certificates") == 0) {
                json_object *certs = get(get(fake.fixture, "oslogin"), "certificates");
                o = json_object_new_object();
                json_object_object_add(o, "trustedCertificateAuthorities",
                        certs ? json_object_get(certs) : json_object_new_array());
                return fake_reply_json(ret, MHD_HTTP_OK, o);
        }
        fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "Not Found\n");
}
