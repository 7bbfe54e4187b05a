/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/two-factor-types.h"
#include "mds/json-util.h"
#include "mds/models.h"
#include "mds/two-factor.h"

const char *two_factor_prompt(const char *type)
{
        const struct two_factor_type *t = two_factor_type_find(type);
        return t ? t->prompt : NULL;
}

const char *two_factor_label(const char *type)
{
        const struct two_factor_type *t = two_factor_type_find(type);
        return t ? t->label : type;
}

/* Wipes json-c's own copies of SECRET (the string object, the printed
 * buffer) before they are freed: a two-factor code must not linger in
 * freed heap. */
static void wipe_secret(json_object *secret, const char *printed)
{
        if (secret)
                explicit_bzero(
                        (char *)json_object_get_string(secret), (size_t)json_object_get_string_len(secret));
        if (printed)
                explicit_bzero((char *)printed, strlen(printed));
}

static int to_string_wiped(json_object *o, json_object *secret, char **ret)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        char *copy = s ? strdup(s) : NULL;

        wipe_secret(secret, s);
        json_object_put(o);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static int to_string(json_object *o, char **ret)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        char *copy = s ? strdup(s) : NULL;

        json_object_put(o);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

int two_factor_start_request(const char *email, char **ret_json)
{
        json_object *o = json_object_new_object(), *types = json_object_new_array();

        if (!o || !types) {
                json_object_put(o);
                json_object_put(types);
                return -ENOMEM;
        }
        json_object_object_add(o, "email", json_object_new_string(email));
        for (size_t i = 0; i < two_factor_types_n; i++)
                json_object_array_add(types, json_object_new_string(two_factor_types[i].type));
        json_object_object_add(o, "supportedChallengeTypes", types);
        return to_string(o, ret_json);
}

int two_factor_continue_request_action(const char *email, int challenge_id, enum two_factor_action action,
        const char *credential, char **ret_json)
{
        json_object *o, *secret = NULL;

        if (action != TWO_FACTOR_RESPOND && action != TWO_FACTOR_START_ALTERNATE)
                return -EINVAL;
        if (action == TWO_FACTOR_START_ALTERNATE && credential)
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "email", json_object_new_string(email));
        json_object_object_add(o, "challengeId", json_object_new_int(challenge_id));
        json_object_object_add(o, "action",
                json_object_new_string(action == TWO_FACTOR_RESPOND ? "RESPOND" : "START_ALTERNATE"));
        if (credential) {
                json_object *resp = json_object_new_object();
                secret = json_object_new_string(credential);
                json_object_object_add(resp, "credential", secret);
                json_object_object_add(o, "proposalResponse", resp);
        }
        return to_string_wiped(o, secret, ret_json);
}

int two_factor_continue_request(const char *email, int challenge_id, const char *credential, char **ret_json)
{
        return two_factor_continue_request_action(
                email, challenge_id, TWO_FACTOR_RESPOND, credential, ret_json);
}

int two_factor_alternate_request(const char *email, int challenge_id, char **ret_json)
{
        return two_factor_continue_request_action(
                email, challenge_id, TWO_FACTOR_START_ALTERNATE, NULL, ret_json);
}

static const char *string_member(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

static enum two_factor_status parse_status(const char *s)
{
        if (s && streq(s, "AUTHENTICATED"))
                return TWO_FACTOR_AUTHENTICATED;
        if (s && streq(s, "CHALLENGE_REQUIRED"))
                return TWO_FACTOR_CHALLENGE_REQUIRED;
        if (s && streq(s, "NO_AVAILABLE_CHALLENGES"))
                return TWO_FACTOR_NO_AVAILABLE_CHALLENGES;
        return TWO_FACTOR_FAILED;
}

static bool valid_session_id(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 512)
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* challengeId as a JSON number or a decimal string, 1..INT_MAX. */
static int challenge_id(json_object *ch, int *ret)
{
        json_object *v;
        uint64_t id;

        if (!json_object_object_get_ex(ch, "challengeId", &v) || mds_json_get_u64(v, &id) < 0 || id == 0 ||
                id > INT32_MAX)
                return -EBADMSG;
        *ret = (int)id;
        return 0;
}

void two_factor_session_done(struct two_factor_session *s)
{
        free(s->session_id);
        for (size_t i = 0; i < s->n_challenges; i++)
                free(s->challenges[i].type);
        *s = (struct two_factor_session){};
}

int two_factor_start_parse(const char *json, size_t size, struct two_factor_session *ret)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        struct two_factor_session s = {};
        json_object *list;
        int r = mds_json_parse(json, size, &o);

        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        s.status = parse_status(string_member(o, "status"));
        if (s.status != TWO_FACTOR_CHALLENGE_REQUIRED) {
                *ret = s;
                return 0;
        }
        const char *id = string_member(o, "sessionId");
        if (!valid_session_id(id) || !(s.session_id = strdup(id)))
                return id && valid_session_id(id) ? -ENOMEM : -EBADMSG;
        if (json_object_object_get_ex(o, "challenges", &list) && json_object_is_type(list, json_type_array))
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        json_object *ch = json_object_array_get_idx(list, i);
                        const char *type = string_member(ch, "challengeType");
                        int cid;
                        if (!two_factor_prompt(type) || challenge_id(ch, &cid) < 0)
                                continue; /* a type we cannot drive is not offered */
                        if (s.n_challenges == TWO_FACTOR_MAX_CHALLENGES)
                                break;
                        const char *st = string_member(ch, "status");
                        if (!(s.challenges[s.n_challenges].type = strdup(type))) {
                                two_factor_session_done(&s);
                                return -ENOMEM;
                        }
                        s.challenges[s.n_challenges].ready = st && streq(st, "READY");
                        s.challenges[s.n_challenges++].id = cid;
                }
        *ret = s;
        return 0;
}

int two_factor_continue_parse(const char *json, size_t size)
{
        return two_factor_continue_parse_reason(json, size, NULL);
}

/* Server text shown to a user: no C0 or C1 control characters (a terminal
 * escape or a fake prompt line), bounded, never cut inside a UTF-8 sequence. */
static char *safe_reason(const char *s)
{
        size_t n = strlen(s);
        char *copy;

        if (n > TWO_FACTOR_MAX_REASON) {
                n = TWO_FACTOR_MAX_REASON;
                while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                        n--;
        }
        copy = strndup(s, n);
        if (!copy)
                return NULL;
        for (unsigned char *p = (unsigned char *)copy; *p; p++) {
                if (*p < 0x20 || *p == 0x7F)
                        *p = '?';
                else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) /* C1 controls (CSI) */
                        p[0] = p[1] = '?';
        }
        return copy;
}

int two_factor_continue_parse_reason(const char *json, size_t size, char **ret_reason)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *reason;
        int r = mds_json_parse(json, size, &o);

        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                r = 0;
        else
                r = parse_status(string_member(o, "status")) == TWO_FACTOR_AUTHENTICATED;
        if (!ret_reason)
                return r;
        *ret_reason = NULL;
        reason = r == 0 && json_object_is_type(o, json_type_object) ? string_member(o, "rejectionReason")
                                                                    : NULL;
        if (!isempty(reason) && !(*ret_reason = safe_reason(reason)))
                return -ENOMEM;
        return r;
}
