/* SPDX-License-Identifier: Apache-2.0 */
/* The two-factor flow (doc/oslogin-policies.md), from a user's fixture
 * "twoFactor": {"challenges": ["TOTP", {"type": "IDV_PREREGISTERED_PHONE",
 * "status": "PROPOSED"}], "code": "123456", "approve": true,
 * "rejectionReason": "..."}.
 *
 * A challenge given as a string is READY; one given as an object has the
 * status it names. A PROPOSED challenge becomes READY only after a
 * START_ALTERNATE continue for it in the same session; a RESPOND to it before
 * that fails, as the real server does not accept a code for a factor it never
 * sent. Challenge ids are the 1-based positions in the fixture's list.
 * Sessions live in a small ring (the oldest is forgotten), all under
 * fake.lock like every other handler. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

#define MAX_SESSIONS 64
#define MAX_CHALLENGES 32
#define DEFAULT_REJECTION "The code you entered is incorrect."

struct session {
        char id[32];
        char email[256];
        uint32_t started; /* bit i: challenge i+1 was started with START_ALTERNATE */
};

static struct session sessions[MAX_SESSIONS];
static unsigned long sessions_created;

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static json_object *challenge_list(json_object *tf)
{
        json_object *l = get(tf, "challenges");
        return json_object_is_type(l, json_type_array) ? l : NULL;
}

/* The type and fixture status of challenge I (0-based). */
static const char *challenge_type(json_object *ch)
{
        return json_object_is_type(ch, json_type_string) ? json_object_get_string(ch) : get_str(ch, "type");
}

static const char *challenge_status(json_object *ch, const struct session *s, size_t i)
{
        const char *st = json_object_is_type(ch, json_type_object) ? get_str(ch, "status") : NULL;
        if (s && i < MAX_CHALLENGES && (s->started & (1u << i)))
                return "READY";
        return st ?: "READY";
}

static bool supported(json_object *req, const char *type)
{
        json_object *types = get(req, "supportedChallengeTypes");
        if (!json_object_is_type(types, json_type_array))
                return true; /* a client that says nothing gets every type */
        for (size_t i = 0; i < json_object_array_length(types); i++) {
                const char *t = json_object_get_string(json_object_array_get_idx(types, i));
                if (t && type && strcmp(t, type) == 0)
                        return true;
        }
        return false;
}

static json_object *challenges_json(json_object *tf, json_object *req, const struct session *s)
{
        json_object *l = challenge_list(tf), *out = json_object_new_array();
        for (size_t i = 0; l && i < json_object_array_length(l) && i < MAX_CHALLENGES; i++) {
                json_object *ch = json_object_array_get_idx(l, i), *o;
                const char *type = challenge_type(ch);
                if (!type || (req && !supported(req, type)))
                        continue;
                o = json_object_new_object();
                json_object_object_add(o, "challengeId", json_object_new_int((int)i + 1));
                json_object_object_add(o, "challengeType", json_object_new_string(type));
                json_object_object_add(o, "status", json_object_new_string(challenge_status(ch, s, i)));
                json_object_array_add(out, o);
        }
        return out;
}

static struct session *find_session(const char *id, size_t len)
{
        for (size_t i = 0; i < MAX_SESSIONS; i++)
                if (sessions[i].id[0] && strlen(sessions[i].id) == len &&
                        strncmp(sessions[i].id, id, len) == 0)
                        return &sessions[i];
        return NULL;
}

static void start(json_object *req, const char *email, json_object *tf, struct fake_reply *ret)
{
        json_object *o = json_object_new_object(), *list = challenges_json(tf, req, NULL);
        struct session *s;

        if (json_object_array_length(list) == 0) {
                json_object_put(list);
                json_object_object_add(o, "status", json_object_new_string("NO_AVAILABLE_CHALLENGES"));
                return fake_reply_json(ret, MHD_HTTP_OK, o);
        }
        s = &sessions[sessions_created % MAX_SESSIONS];
        *s = (struct session){};
        snprintf(s->id, sizeof(s->id), "fake-session-%lu", ++sessions_created);
        snprintf(s->email, sizeof(s->email), "%s", email);
        json_object_object_add(o, "status", json_object_new_string("CHALLENGE_REQUIRED"));
        json_object_object_add(o, "sessionId", json_object_new_string(s->id));
        json_object_object_add(o, "challenges", list);
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

static void failed(json_object *tf, const char *reason, struct fake_reply *ret)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_string("FAILED"));
        json_object_object_add(o, "rejectionReason", json_object_new_string(reason ?: get_str(tf, "rejectionReason") ?: DEFAULT_REJECTION));
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

/* sessions/ID/continue: {"email", "challengeId", "action": "RESPOND"|"START_ALTERNATE",
 * "proposalResponse": {"credential"}} */
static void continue_session(const char *id, size_t id_len, json_object *req, const char *email,
        json_object *tf, struct fake_reply *ret)
{
        struct session *s = find_session(id, id_len);
        json_object *l = challenge_list(tf), *cid = get(req, "challengeId");
        const char *action = get_str(req, "action");
        int64_t n = json_object_is_type(cid, json_type_int) ? json_object_get_int64(cid) : 0;
        size_t count = l ? json_object_array_length(l) : 0;

        if (!s)
                return fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "no such session\n");
        if (strcmp(s->email, email) != 0)
                return fake_reply_text(ret, MHD_HTTP_BAD_REQUEST, "session of another user\n");
        if (n < 1 || (size_t)n > count || n > MAX_CHALLENGES)
                return fake_reply_text(ret, MHD_HTTP_BAD_REQUEST, "no such challenge\n");
        size_t i = (size_t)n - 1;
        json_object *ch = json_object_array_get_idx(l, i);
        const char *type = challenge_type(ch);

        if (action && strcmp(action, "START_ALTERNATE") == 0) {
                json_object *o = json_object_new_object();
                s->started |= 1u << i;
                json_object_object_add(o, "status", json_object_new_string("CHALLENGE_REQUIRED"));
                json_object_object_add(o, "sessionId", json_object_new_string(s->id));
                json_object_object_add(o, "challenges", challenges_json(tf, NULL, s));
                return fake_reply_json(ret, MHD_HTTP_OK, o);
        }
        if (!action || strcmp(action, "RESPOND") != 0)
                return fake_reply_text(ret, MHD_HTTP_BAD_REQUEST, "unknown action\n");
        if (strcmp(challenge_status(ch, s, i), "READY") != 0)
                return failed(tf, "This verification method was not started.", ret);

        json_object *resp = get(req, "proposalResponse");
        const char *code = get_str(resp, "credential"), *want = get_str(tf, "code");
        bool good;
        if (type && strcmp(type, "AUTHZEN") == 0)
                good = !resp && json_object_get_boolean(get(tf, "approve"));
        else
                good = code && want && strcmp(code, want) == 0;
        if (!good)
                return failed(tf, NULL, ret);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "status", json_object_new_string("AUTHENTICATED"));
        fake_reply_json(ret, MHD_HTTP_OK, o);
}

/* PATH is below oslogin/: authenticate/sessions/start or authenticate/sessions/ID/continue. */
void fake_serve_two_factor(
        const char *path, const char *method, const char *upload, size_t upload_size, struct fake_reply *ret)
{
        const char *rest = path + strlen("authenticate/sessions/"), *slash;
        json_object *req = upload_size ? json_tokener_parse(upload) : NULL;
        const char *email = get_str(req, "email");
        json_object *user = email ? get(fake.dir.by_email, email) : NULL;
        json_object *tf = user ? get(user, "twoFactor") : NULL;

        if (strcmp(method, "POST") != 0)
                fake_reply_text(ret, MHD_HTTP_METHOD_NOT_ALLOWED, "POST\n");
        else if (!tf || !json_object_is_type(tf, json_type_object))
                fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "no two-factor session\n");
        else if (strcmp(rest, "start") == 0)
                start(req, email, tf, ret);
        else if ((slash = strchr(rest, '/')) && slash > rest && strcmp(slash, "/continue") == 0)
                continue_session(rest, (size_t)(slash - rest), req, email, tf, ret);
        else
                fake_reply_text(ret, MHD_HTTP_NOT_FOUND, "Not Found\n");
        json_object_put(req);
}
