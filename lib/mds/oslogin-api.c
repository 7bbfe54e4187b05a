/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/parse-util.h"
#include "mds/oslogin-api.h"

int oslogin_fetch_profile(
        struct mds_client *c, const char *user, uint32_t uid_floor, struct oslogin_profile **ret)
{
        _cleanup_mds_response_ struct mds_response resp = {};
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *p = NULL;
        _cleanup_free_ char *path = strdup("oslogin/users");
        int r;

        if (!path)
                return -ENOMEM;
        if ((r = mds_query_append(&path, "username", user)) < 0)
                return r;
        if ((r = mds_get(c, path, &resp)) < 0)
                return r;
        if ((r = oslogin_profile_parse(resp.body, resp.size, uid_floor, &p)) < 0)
                return r;
        /* The answer decides who gets in as USER: a profile for anyone else
         * is a broken (or hostile) server, never a near match. */
        if (!streq(p->account.username, user) || !p->email)
                return -EBADMSG;
        *ret = TAKE_PTR(p);
        return 0;
}

int oslogin_authorize(struct mds_client *c, const char *email, const char *policy)
{
        return oslogin_authorize_fingerprint(c, email, policy, NULL);
}

int oslogin_authorize_fingerprint(
        struct mds_client *c, const char *email, const char *policy, const char *fingerprint)
{
        _cleanup_mds_response_ struct mds_response resp = {};
        _cleanup_free_ char *path = strdup("oslogin/authorize");
        int r;

        if (!path)
                return -ENOMEM;
        if ((r = mds_query_append(&path, "email", email)) < 0 ||
                (r = mds_query_append(&path, "policy", policy)) < 0 ||
                (fingerprint && (r = mds_query_append(&path, "fingerprint", fingerprint)) < 0))
                return r;
        if ((r = mds_get(c, path, &resp)) < 0)
                return r;
        r = oslogin_authorize_parse(resp.body, resp.size);
        return r == -EBADMSG ? 0 : r; /* garbage grants nothing */
}

static int fetch_attribute(struct mds_client *c, const char *level, const char *key, char **ret)
{
        _cleanup_mds_response_ struct mds_response resp = {};
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/attributes/%s", level, key) < 0)
                return -ENOMEM;
        if ((r = mds_get(c, path, &resp)) < 0)
                return r;
        *ret = TAKE_PTR(resp.body);
        return 0;
}

int metadata_fetch_bool(struct mds_client *c, const char *key, bool default_value)
{
        static const char *const levels[] = {"instance", "project"};

        for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
                _cleanup_free_ char *value = NULL;
                int r = fetch_attribute(c, levels[i], key, &value);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if ((r = parse_metadata_boolean(value)) >= 0)
                        return r;
        }
        return default_value;
}

int oslogin_get(struct mds_client *c, const char *what, const char *key, const char *value,
        uint32_t page_size, const char *token, struct mds_response *ret)
{
        _cleanup_free_ char *path = NULL;
        char size[16];
        int r;

        if (asprintf(&path, "oslogin/%s", what) < 0)
                return -ENOMEM;
        snprintf(size, sizeof(size), "%u", page_size);
        if ((key && (r = mds_query_append(&path, key, value)) < 0) ||
                (page_size && (r = mds_query_append(&path, "pagesize", size)) < 0) ||
                (token && (r = mds_query_append(&path, "pagetoken", token)) < 0))
                return r;
        return mds_get(c, path, ret);
}

int oslogin_pager_more(struct oslogin_pager *p)
{
        if (p->pages == 0)
                return 1;
        if (oslogin_last_page(p->token))
                return 0;
        if (p->mark && streq(p->mark, p->token))
                return -ELOOP;
        if ((p->pages & (p->pages - 1)) == 0) {
                free(p->mark);
                if (!(p->mark = strdup(p->token)))
                        return -ENOMEM;
        }
        return p->pages < p->max_pages ? 1 : -E2BIG;
}

void oslogin_pager_next(struct oslogin_pager *p, char *token)
{
        free(p->token);
        p->token = token;
        p->pages++;
}

void oslogin_pager_done(struct oslogin_pager *p)
{
        free(p->token);
        free(p->mark);
        p->token = p->mark = NULL;
}
