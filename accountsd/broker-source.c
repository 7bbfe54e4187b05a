/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's decisions asking the real metadata server (lib/mds), for
 * the worker thread that owns CLIENT. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/broker-decide.h"
#include "mds/mds-client.h"
#include "mds/oslogin-api.h"

static int source_get_profile(void *userdata, const char *user, char **ret_body, size_t *ret_size)
{
        struct mds_client *client = userdata;
        _cleanup_mds_response_ struct mds_response resp = {};
        _cleanup_free_ char *path = strdup("oslogin/users");
        int r;

        if (!path)
                return -ENOMEM;
        if ((r = mds_query_append(&path, "username", user)) < 0 || (r = mds_get(client, path, &resp)) < 0)
                return r;
        *ret_size = resp.size;
        *ret_body = TAKE_PTR(resp.body);
        return 0;
}

static int source_get_security_key_profile(
        void *userdata, const char *user, char **ret_body, size_t *ret_size)
{
        struct mds_client *client = userdata;
        _cleanup_mds_response_ struct mds_response resp = {};
        _cleanup_free_ char *path = strdup("oslogin/users");
        int r;

        if (!path)
                return -ENOMEM;
        if ((r = mds_query_append(&path, "username", user)) < 0 ||
                (r = mds_query_append(&path, "view", "securityKey")) < 0 ||
                (r = mds_get(client, path, &resp)) < 0)
                return r;
        *ret_size = resp.size;
        *ret_body = TAKE_PTR(resp.body);
        return 0;
}

static int source_authorize(void *userdata, const char *email, const char *policy)
{
        struct mds_client *client = userdata;
        return oslogin_authorize(client, email, policy);
}

static int source_authorize_fingerprint(
        void *userdata, const char *email, const char *policy, const char *fingerprint)
{
        struct mds_client *client = userdata;
        return oslogin_authorize_fingerprint(client, email, policy, fingerprint);
}

static int source_metadata_bool(void *userdata, const char *key, bool default_value)
{
        struct mds_client *client = userdata;
        return metadata_fetch_bool(client, key, default_value);
}

static int source_post(void *userdata, const char *path, const char *json, char **ret_body, size_t *ret_size)
{
        struct mds_client *client = userdata;
        struct mds_response resp = {};
        int r = mds_post_json(client, path, json, &resp);

        if (r >= 0) {
                *ret_size = resp.size;
                *ret_body = TAKE_PTR(resp.body);
        }
        if (resp.body)
                explicit_bzero(resp.body, resp.size);
        mds_response_done(&resp);
        return r;
}

void broker_source_mds(struct mds_client *client, struct broker_source *ret)
{
        *ret = (struct broker_source){
                .get_profile = source_get_profile,
                .authorize = source_authorize,
                .get_security_key_profile = source_get_security_key_profile,
                .authorize_fingerprint = source_authorize_fingerprint,
                .metadata_bool = source_metadata_bool,
                .post = source_post,
                .userdata = client,
        };
}
