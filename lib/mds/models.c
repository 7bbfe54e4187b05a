/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "basic/parse-util.h"
#include "basic/valid.h"
#include "mds/json-util.h"
#include "mds/models.h"

#define MAX_STRING 16384

int mds_json_parse(const char *json, size_t size, json_object **ret)
{
        json_tokener *tok;
        json_object *o;
        size_t used;

        if (!json || size > INT32_MAX || memchr(json, '\0', size))
                return -EBADMSG;
        tok = json_tokener_new_ex(MDS_JSON_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, json, (int)size);
        used = json_tokener_get_parse_end(tok);
        bool complete = o && json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        for (; complete && used < size; used++)
                if (!strchr(" \t\r\n", json[used]))
                        complete = false;
        if (!complete) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

int mds_json_get_u64(json_object *v, uint64_t *ret)
{
        if (json_object_is_type(v, json_type_int)) {
                if (json_object_get_int64(v) < 0)
                        return -ERANGE;
                *ret = json_object_get_uint64(v);
                return 0;
        }
        if (json_object_is_type(v, json_type_string))
                return safe_atou64(json_object_get_string(v), ret) < 0 ? -EBADMSG : 0;
        return -EBADMSG;
}

static json_object *member(json_object *o, const char *key, json_type type)
{
        json_object *v;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
                !json_object_is_type(v, type))
                return NULL;
        return v;
}

static const char *member_string(json_object *o, const char *key)
{
        json_object *v = member(o, key, json_type_string);
        const char *s = v ? json_object_get_string(v) : NULL;
        return s && strlen(s) <= MAX_STRING ? s : NULL;
}

static int member_id(json_object *o, const char *key, uint32_t floor, uint32_t *ret)
{
        json_object *v;
        uint64_t n;

        if (!json_object_object_get_ex(o, key, &v) || mds_json_get_u64(v, &n) < 0 ||
                !valid_network_uid(n, floor))
                return -EBADMSG;
        *ret = (uint32_t)n;
        return 0;
}

static char *strdup_or_default(const char *s, const char *fallback)
{
        return strdup(!isempty(s) ? s : fallback);
}

void oslogin_profile_free(struct oslogin_profile *p)
{
        if (!p)
                return;
        free(p->email);
        free(p->account.username);
        free(p->account.home);
        free(p->account.shell);
        free(p->account.gecos);
        for (size_t i = 0; i < p->n_keys; i++) {
                free(p->keys[i].key);
                free(p->keys[i].fingerprint);
        }
        free(p->keys);
        free(p);
}

static json_object *pick_account(json_object *accounts)
{
        size_t n = json_object_array_length(accounts);
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(accounts, i),
                            *primary = member(a, "primary", json_type_boolean);
                if (primary && json_object_get_boolean(primary))
                        return a;
        }
        for (size_t i = 0; i < n; i++) {
                const char *os =
                        member_string(json_object_array_get_idx(accounts, i), "operatingSystemType");
                if (os && streq(os, "LINUX"))
                        return json_object_array_get_idx(accounts, i);
        }
        return NULL;
}

/* Each -EBADMSG says why in *REASON (a static string, for the build's log). */
static int refuse(const char **reason, const char *why)
{
        *reason = why;
        return -EBADMSG;
}

static int parse_account(
        json_object *a, uint32_t floor, struct oslogin_posix_account *ret, const char **reason)
{
        const char *name = member_string(a, "username"), *home = member_string(a, "homeDirectory");
        const char *shell = member_string(a, "shell"), *gecos = member_string(a, "gecos");
        _cleanup_free_ char *default_home = NULL;

        if (!name || !valid_user_name(name) || streq(name, "root"))
                return refuse(reason, "invalid or reserved username");
        if (member_id(a, "uid", floor, &ret->uid) < 0 || member_id(a, "gid", floor, &ret->gid) < 0)
                return refuse(reason, "UID or GID missing, invalid or below the floor");
        if ((!isempty(home) && !valid_home(home)) || (!isempty(shell) && !valid_shell(shell)))
                return refuse(reason, "invalid home directory or shell");
        if (asprintf(&default_home, "/home/%s", name) < 0)
                return -ENOMEM;
        ret->username = strdup(name);
        ret->home = strdup_or_default(home, default_home);
        ret->shell = strdup_or_default(shell, "/bin/bash");
        /* GECOS is decoration: an unsafe one is dropped, not fatal. */
        ret->gecos = strdup(gecos && valid_gecos(gecos) ? gecos : "");
        if (!ret->username || !ret->home || !ret->shell || !ret->gecos)
                return -ENOMEM;
        return 0;
}

static bool single_line(const char *s)
{
        return s && !strpbrk(s, "\r\n") && *s;
}

static int parse_keys(json_object *keys, struct oslogin_profile *p)
{
        if (!keys)
                return 0;
        p->keys = calloc(MIN((size_t)json_object_object_length(keys), (size_t)MDS_MAX_KEYS_PER_USER) + 1,
                sizeof(*p->keys));
        if (!p->keys)
                return -ENOMEM;
        json_object_object_foreach(keys, fingerprint, entry)
        {
                if (p->n_keys >= MDS_MAX_KEYS_PER_USER)
                        break;
                const char *key = member_string(entry, "key");
                json_object *exp;
                if (!single_line(key))
                        continue;
                struct oslogin_ssh_key *k = &p->keys[p->n_keys];
                k->key = strdup(key);
                k->fingerprint = single_line(fingerprint) ? strdup(fingerprint) : NULL;
                if (!k->key)
                        return -ENOMEM;
                if (json_object_object_get_ex(entry, "expirationTimeUsec", &exp) &&
                        mds_json_get_u64(exp, &k->expiration_usec) < 0)
                        k->invalid = true; /* a non-numeric expiry counts as expired */
                p->n_keys++;
        }
        return 0;
}

static int profile_from_json(
        json_object *lp, uint32_t uid_floor, struct oslogin_profile **ret, const char **reason)
{
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = calloc(1, sizeof(*p));
        json_object *accounts = member(lp, "posixAccounts", json_type_array), *a;
        const char *email = member_string(lp, "name");
        int r;

        if (!p)
                return -ENOMEM;
        if (!email || !valid_email(email))
                return refuse(reason, "invalid email");
        if (!accounts || !(a = pick_account(accounts)))
                return refuse(reason, "no primary or Linux POSIX account");
        p->email = strdup(email);
        if (!p->email)
                return -ENOMEM;
        r = parse_account(a, uid_floor, &p->account, reason);
        if (r < 0)
                return r;
        r = parse_keys(member(lp, "sshPublicKeys", json_type_object), p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int oslogin_profile_parse(const char *json, size_t size, uint32_t uid_floor, struct oslogin_profile **ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *profiles;
        int r;

        r = mds_json_parse(json, size, &o);
        if (r < 0)
                return r;
        profiles = member(o, "loginProfiles", json_type_array);
        if (!profiles || json_object_array_length(profiles) == 0)
                return -EBADMSG;
        const char *reason;
        return profile_from_json(json_object_array_get_idx(profiles, 0), uid_floor, ret, &reason);
}

bool oslogin_key_usable(const struct oslogin_ssh_key *key, uint64_t now_usec)
{
        return !key->invalid && (key->expiration_usec == 0 || key->expiration_usec > now_usec);
}

bool oslogin_last_page(const char *token)
{
        return isempty(token) || streq(token, "0");
}

static int page_token(json_object *o, char **ret)
{
        json_object *v;
        if (!json_object_object_get_ex(o, "nextPageToken", &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 1024 ||
                !single_line(json_object_get_string(v)))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* What every page (users, groups, usernames) shares: a JSON object whose
 * LIST_KEY array holds the items (at most MDS_MAX_PAGE_ITEMS of them are
 * read; absent or not an array: none), and a nextPageToken. *RET_ITEMS is
 * a zeroed array of *RET_N + 1 items of ITEM_SIZE; the caller owns it,
 * *RET_TOKEN and *RET_O (the items point into it) on success only. */
static int page_open(const char *json, size_t size, const char *list_key, size_t item_size,
        json_object **ret_o, json_object **ret_list, size_t *ret_n, void **ret_items, char **ret_token)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *token = NULL;
        int r;

        if ((r = mds_json_parse(json, size, &o)) < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        json_object *list = member(o, list_key, json_type_array);
        size_t n = list ? MIN(json_object_array_length(list), (size_t)MDS_MAX_PAGE_ITEMS) : 0;
        if ((r = page_token(o, &token)) < 0)
                return r;
        void *items = calloc(n + 1, item_size);
        if (!items)
                return -ENOMEM;
        *ret_o = TAKE_PTR(o);
        *ret_list = list;
        *ret_n = n;
        *ret_items = items;
        *ret_token = TAKE_PTR(token);
        return 0;
}

void oslogin_users_page_done(struct oslogin_users_page *p)
{
        for (size_t i = 0; i < p->n_profiles; i++)
                oslogin_profile_free(p->profiles[i]);
        free(p->profiles);
        for (size_t i = 0; i < p->n_rejections; i++)
                free(p->rejections[i].who);
        free(p->next_page_token);
        memset(p, 0, sizeof(*p));
}

int oslogin_users_page_parse(
        const char *json, size_t size, uint32_t uid_floor, struct oslogin_users_page *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct oslogin_users_page p = {};
        json_object *list;
        size_t n;
        int r;

        if ((r = page_open(json, size, "loginProfiles", sizeof(*p.profiles), &o, &list, &n,
                     (void **)&p.profiles, &p.next_page_token)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *lp = json_object_array_get_idx(list, i);
                const char *reason = "invalid";
                r = profile_from_json(lp, uid_floor, &p.profiles[p.n_profiles], &reason);
                if (r == -ENOMEM) {
                        oslogin_users_page_done(&p);
                        return r;
                }
                if (r < 0 && p.n_rejections < OSLOGIN_REJECTIONS_MAX) {
                        /* Named by what identifies it safely: the email, the username, or its place. */
                        const char *email = member_string(lp, "name");
                        json_object *accounts = member(lp, "posixAccounts", json_type_array), *a;
                        const char *user = accounts && (a = pick_account(accounts))
                                                   ? member_string(a, "username")
                                                   : NULL;
                        struct oslogin_rejection *x = &p.rejections[p.n_rejections];
                        if (email && valid_email(email))
                                x->who = strdup(email);
                        else if (user && valid_user_name(user))
                                x->who = strdup(user);
                        else if (asprintf(&x->who, "(entry %zu of the page)", i + 1) < 0)
                                x->who = NULL;
                        if (!x->who) {
                                oslogin_users_page_done(&p);
                                return -ENOMEM;
                        }
                        x->reason = reason;
                        p.n_rejections++;
                }
                if (r < 0)
                        p.n_rejected++;
                else
                        p.n_profiles++;
        }
        *ret = p;
        return 0;
}

void oslogin_groups_page_done(struct oslogin_groups_page *p)
{
        for (size_t i = 0; i < p->n_groups; i++)
                free(p->groups[i].name);
        free(p->groups);
        free(p->next_page_token);
        memset(p, 0, sizeof(*p));
}

int oslogin_groups_page_parse(
        const char *json, size_t size, uint32_t gid_floor, struct oslogin_groups_page *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct oslogin_groups_page p = {};
        json_object *list;
        size_t n;
        int r;

        if ((r = page_open(json, size, "posixGroups", sizeof(*p.groups), &o, &list, &n, (void **)&p.groups,
                     &p.next_page_token)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(list, i);
                const char *name = member_string(g, "name");
                uint32_t gid;
                if (!name || !valid_group_name(name) || member_id(g, "gid", gid_floor, &gid) < 0) {
                        p.n_rejected++;
                        continue;
                }
                p.groups[p.n_groups].name = strdup(name);
                if (!p.groups[p.n_groups].name) {
                        oslogin_groups_page_done(&p);
                        return -ENOMEM;
                }
                p.groups[p.n_groups++].gid = gid;
        }
        *ret = p;
        return 0;
}

void oslogin_usernames_page_done(struct oslogin_usernames_page *p)
{
        strv_free(p->usernames);
        free(p->next_page_token);
        memset(p, 0, sizeof(*p));
}

int oslogin_usernames_page_parse(const char *json, size_t size, struct oslogin_usernames_page *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct oslogin_usernames_page p = {};
        json_object *list;
        size_t n, k = 0;
        int r;

        if ((r = page_open(json, size, "usernames", sizeof(char *), &o, &list, &n, (void **)&p.usernames,
                     &p.next_page_token)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(list, i);
                const char *name =
                        json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
                if (!name || !valid_user_name(name)) {
                        p.n_rejected++;
                        continue;
                }
                if (!(p.usernames[k++] = strdup(name))) {
                        oslogin_usernames_page_done(&p);
                        return -ENOMEM;
                }
        }
        *ret = p;
        return 0;
}

int oslogin_authorize_parse(const char *json, size_t size)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *success;
        int r = mds_json_parse(json, size, &o);

        if (r < 0)
                return r;
        success = member(o, "success", json_type_boolean);
        return success && json_object_get_boolean(success) ? 1 : 0;
}

struct metadata_document {
        json_object *root;
        char *instance_id;
        char *project_id;
};

void metadata_document_free(struct metadata_document *d)
{
        if (!d)
                return;
        json_object_put(d->root);
        free(d->instance_id);
        free(d->project_id);
        free(d);
}

static char *id_string(json_object *o, const char *key)
{
        json_object *v;
        uint64_t n;
        char *s;

        if (!json_object_object_get_ex(o, key, &v) || mds_json_get_u64(v, &n) < 0)
                return NULL;
        return asprintf(&s, "%llu", (unsigned long long)n) < 0 ? NULL : s;
}

int metadata_document_parse(const char *json, size_t size, struct metadata_document **ret)
{
        _cleanup_(metadata_document_freep) struct metadata_document *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        if ((r = mds_json_parse(json, size, &d->root)) < 0)
                return r;
        if (!member(d->root, "instance", json_type_object) || !member(d->root, "project", json_type_object))
                return -EBADMSG;
        d->instance_id = id_string(member(d->root, "instance", json_type_object), "id");
        d->project_id = id_string(member(d->root, "project", json_type_object), "numericProjectId");
        *ret = TAKE_PTR(d);
        return 0;
}

const char *metadata_attribute(const struct metadata_document *d, const char *level, const char *key)
{
        json_object *attrs =
                member(member(d->root, level, json_type_object), "attributes", json_type_object);
        json_object *v = attrs ? member(attrs, key, json_type_string) : NULL;
        return v ? json_object_get_string(v) : NULL;
}

const char *metadata_instance_id(const struct metadata_document *d)
{
        return d->instance_id;
}

const char *metadata_project_id(const struct metadata_document *d)
{
        return d->project_id;
}

bool metadata_bool(const struct metadata_document *d, const char *key, bool default_value)
{
        int b = parse_metadata_boolean(metadata_attribute(d, "instance", key));
        if (b >= 0)
                return b;
        b = parse_metadata_boolean(metadata_attribute(d, "project", key));
        return b >= 0 ? b : default_value;
}
