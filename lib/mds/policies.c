/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "mds/json-util.h"
#include "mds/models.h"
#include "mds/policies.h"
#include "mds/ssh-keys.h"

void oslogin_key_list_done(struct oslogin_key_list *l)
{
        strv_free(l->keys);
        *l = (struct oslogin_key_list){};
}

bool ssh_key_type_is_security_key(const char *type)
{
        return type && (streq(type, "sk-ecdsa-sha2-nistp256@openssh.com") ||
                               streq(type, "sk-ssh-ed25519@openssh.com"));
}

static bool is_certificate_type(const char *type)
{
        size_t n = strlen(type), s = strlen("-cert-v01@openssh.com");
        return n > s && streq(type + n - s, "-cert-v01@openssh.com");
}

typedef bool (*key_filter)(const char *type);

static bool ca_type(const char *type)
{
        return !is_certificate_type(type);
}

/* Adds each ARRAY entry's publicKey that passes the checks and FILTER. */
static int collect(json_object *array, size_t max, key_filter filter, struct oslogin_key_list *l)
{
        size_t n = array ? json_object_array_length(array) : 0;

        for (size_t i = 0; i < n; i++) {
                json_object *entry = json_object_array_get_idx(array, i), *v;
                _cleanup_free_ char *type = NULL;
                const char *key = NULL;
                int r;

                if (json_object_is_type(entry, json_type_object) &&
                        json_object_object_get_ex(entry, "publicKey", &v) &&
                        json_object_is_type(v, json_type_string))
                        key = json_object_get_string(v);
                r = key ? ssh_public_key_check(key, &type) : -EBADMSG;
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !filter(type) || l->n_keys >= max || strv_contains(l->keys, key)) {
                        l->n_rejected++;
                        continue;
                }
                r = strv_extend(&l->keys, key);
                if (r < 0)
                        return r;
                l->n_keys++;
        }
        if (!l->keys) {
                l->keys = calloc(1, sizeof(char *));
                if (!l->keys)
                        return -ENOMEM;
        }
        return 0;
}

/* A member that is absent or null counts as an empty list; any other
 * non-array is a malformed answer. */
static int optional_array(json_object *o, const char *key, json_object **ret)
{
        json_object *v = NULL;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int parse_list(
        json_object *holder, const char *key, size_t max, key_filter filter, struct oslogin_key_list *ret)
{
        struct oslogin_key_list l = {};
        json_object *array;
        int r;

        if (!json_object_is_type(holder, json_type_object))
                return -EBADMSG;
        r = optional_array(holder, key, &array);
        if (r < 0)
                return r;
        r = collect(array, max, filter, &l);
        if (r < 0) {
                oslogin_key_list_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

int oslogin_certificates_parse(const char *json, size_t size, struct oslogin_key_list *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        int r = mds_json_parse(json, size, &o);

        if (r < 0)
                return r;
        return parse_list(o, "trustedCertificateAuthorities", OSLOGIN_MAX_CAS, ca_type, ret);
}

int oslogin_security_keys_parse(const char *json, size_t size, struct oslogin_key_list *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *profiles;
        int r = mds_json_parse(json, size, &o);

        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object) ||
                !json_object_object_get_ex(o, "loginProfiles", &profiles) ||
                !json_object_is_type(profiles, json_type_array) || json_object_array_length(profiles) == 0)
                return -EBADMSG;
        return parse_list(json_object_array_get_idx(profiles, 0), "securityKeys", OSLOGIN_MAX_SECURITY_KEYS,
                ssh_key_type_is_security_key, ret);
}
