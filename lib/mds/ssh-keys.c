/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <json.h>
#include <openssl/evp.h>
#include <string.h>
#include <time.h>

#include "basic/alloc-util.h"
#include "basic/valid.h"
#include "mds/ssh-keys.h"

#define MAX_LINE 16384

static const char *const key_types[] = {
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "ssh-ed25519-cert-v01@openssh.com",
        "ssh-rsa-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com",
        "sk-ssh-ed25519-cert-v01@openssh.com",
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
};

bool ssh_key_type_known(const char *type)
{
        for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                if (streq(type, key_types[i]))
                        return true;
        return false;
}

/* Decodes strict base64 (padding allowed only at the end). Returns the length or -EBADMSG. */
static int base64_decode(const char *s, size_t len, unsigned char **ret)
{
        _cleanup_free_ unsigned char *out = NULL;
        size_t pad = 0;
        int n;

        if (len == 0 || len % 4 != 0 || len > MAX_LINE)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '=') {
                        if (i < len - 2)
                                return -EBADMSG;
                        pad++;
                } else if (pad || !(isalnum((unsigned char)c) || c == '+' || c == '/'))
                        return -EBADMSG;
        }
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
        if (n < 0)
                return -EBADMSG;
        *ret = TAKE_PTR(out);
        return n - (int)pad;
}

/* The blob must start with the key type as an SSH string. */
static bool blob_matches_type(const unsigned char *blob, size_t size, const char *type)
{
        size_t tl = strlen(type);
        if (size < 4)
                return false;
        uint32_t n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
        return n == tl && size >= 4 + tl && memcmp(blob + 4, type, tl) == 0;
}

/* Skips an options field: anything up to unquoted whitespace. */
static const char *skip_options(const char *p)
{
        bool quoted = false;
        for (; *p; p++) {
                if (*p == '\\' && quoted && p[1])
                        p++;
                else if (*p == '"')
                        quoted = !quoted;
                else if (!quoted && (*p == ' ' || *p == '\t'))
                        return p;
        }
        return quoted ? NULL : p;
}

static int parse_digits(const char **p, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++, (*p)++) {
                if (!isdigit((unsigned char)**p))
                        return -EINVAL;
                v = v * 10 + (**p - '0');
        }
        *ret = v;
        return 0;
}

int parse_expire_on(const char *s, uint64_t *ret_usec)
{
        int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
        const char *p = s;

        if (!s || parse_digits(&p, 4, &year) < 0 || *p++ != '-' || parse_digits(&p, 2, &mon) < 0 ||
                *p++ != '-' || parse_digits(&p, 2, &day) < 0 || (*p != 'T' && *p != 't') || !*p++ ||
                parse_digits(&p, 2, &hour) < 0 || *p++ != ':' || parse_digits(&p, 2, &min) < 0 ||
                *p++ != ':' || parse_digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                sign = *p++ == '+' ? 1 : -1;
                if (parse_digits(&p, 2, &oh) < 0)
                        return -EINVAL;
                if (*p == ':')
                        p++;
                if (parse_digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
                        return -EINVAL;
        } else
                return -EINVAL;
        if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 ||
                year < 1970)
                return -EINVAL;

        struct tm tm = {.tm_year = year - 1900,
                .tm_mon = mon - 1,
                .tm_mday = day,
                .tm_hour = hour,
                .tm_min = min,
                .tm_sec = sec};
        time_t t = timegm(&tm);
        if (t == (time_t)-1 || tm.tm_mday != day) /* timegm normalises 31 Feb: refuse it */
                return -EINVAL;
        t -= (time_t)sign * (oh * 3600 + om * 60);
        if (t <= 0)
                return -EINVAL;
        *ret_usec = (uint64_t)t * 1000000u;
        return 0;
}

/* `google-ssh {"userName":…,"expireOn":…}`: the expiry, or an error (fail closed). */
static int google_ssh_expiry(const char *comment, uint64_t *ret_usec)
{
        json_object *o, *v;
        uint64_t usec;
        int r = -EBADMSG;

        while (*comment == ' ' || *comment == '\t')
                comment++;
        if (mds_json_parse(comment, strlen(comment), &o) < 0)
                return -EBADMSG;
        if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "expireOn", &v) &&
                json_object_is_type(v, json_type_string) &&
                parse_expire_on(json_object_get_string(v), &usec) == 0) {
                *ret_usec = usec;
                r = 0;
        }
        json_object_put(o);
        return r;
}

void ssh_key_line_done(struct ssh_key_line *k)
{
        free(k->user);
        free(k->keyline);
        free(k->type);
        memset(k, 0, sizeof(*k));
}

static int reject(const char **ret_reason, const char *reason)
{
        *ret_reason = reason;
        return -EBADMSG;
}

int ssh_key_line_parse(const char *line, struct ssh_key_line *ret, const char **ret_reason)
{
        _cleanup_free_ char *copy = NULL, *type = NULL;
        _cleanup_free_ unsigned char *blob = NULL;
        char *start, *end, *colon, *key, *p;
        uint64_t expire = 0;
        int n;

        *ret_reason = NULL;
        if (strlen(line) > MAX_LINE)
                return reject(ret_reason, "line too long");
        copy = strdup(line);
        if (!copy)
                return -ENOMEM;
        for (start = copy; isspace((unsigned char)*start); start++)
                ;
        end = start + strlen(start);
        while (end > start && isspace((unsigned char)end[-1]))
                *--end = '\0';
        if (!*start)
                return -ENODATA;
        for (p = start; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\t')
                        return reject(ret_reason, "control character in line");
        colon = strchr(start, ':');
        if (!colon || colon == start)
                return reject(ret_reason, "no user name");
        *colon = '\0';
        if (!valid_user_name(start))
                return reject(ret_reason, "invalid user name");
        for (key = colon + 1; *key == ' ' || *key == '\t'; key++)
                ;
        if (!*key)
                return reject(ret_reason, "empty key");

        /* [options] type blob [comment] */
        p = key;
        size_t tl = strcspn(p, " \t");
        type = strndup(p, tl);
        if (!type)
                return -ENOMEM;
        if (!ssh_key_type_known(type)) {
                const char *after = skip_options(p);
                if (!after || !*after)
                        return reject(ret_reason, "unknown key type");
                for (p = (char *)after; *p == ' ' || *p == '\t'; p++)
                        ;
                tl = strcspn(p, " \t");
                free(type);
                type = strndup(p, tl);
                if (!type)
                        return -ENOMEM;
                if (!ssh_key_type_known(type))
                        return reject(ret_reason, "unknown key type");
        }
        p += tl;
        while (*p == ' ' || *p == '\t')
                p++;
        size_t bl = strcspn(p, " \t");
        n = base64_decode(p, bl, &blob);
        if (n == -ENOMEM)
                return n;
        if (n < 0 || !blob_matches_type(blob, (size_t)n, type))
                return reject(ret_reason, "invalid key data");
        const char *comment = p + bl;
        while (*comment == ' ' || *comment == '\t')
                comment++;
        if (strneq(comment, "google-ssh", 10) &&
                (comment[10] == ' ' || comment[10] == '\t' || !comment[10])) {
                if (google_ssh_expiry(comment + 10, &expire) < 0)
                        return reject(ret_reason, "invalid google-ssh expiry");
        }
        ret->user = strdup(start);
        ret->keyline = strdup(key);
        ret->type = TAKE_PTR(type);
        ret->expire_usec = expire;
        if (!ret->user || !ret->keyline) {
                ssh_key_line_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int ssh_public_key_check(const char *line, char **ret_type)
{
        _cleanup_free_ unsigned char *blob = NULL;
        _cleanup_free_ char *type = NULL;
        size_t tl, bl;
        int n;

        if (!line || strlen(line) > MAX_LINE)
                return -EBADMSG;
        for (const char *p = line; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\t')
                        return -EBADMSG;
        tl = strcspn(line, " \t");
        type = strndup(line, tl);
        if (!type)
                return -ENOMEM;
        if (!ssh_key_type_known(type))
                return -EBADMSG;
        line += tl;
        while (*line == ' ' || *line == '\t')
                line++;
        bl = strcspn(line, " \t");
        n = base64_decode(line, bl, &blob);
        if (n == -ENOMEM)
                return n;
        if (n < 0 || !blob_matches_type(blob, (size_t)n, type))
                return -EBADMSG;
        if (ret_type)
                *ret_type = TAKE_PTR(type);
        return 0;
}

void ssh_key_set_done(struct ssh_key_set *s)
{
        for (size_t i = 0; i < s->n_keys; i++)
                ssh_key_line_done(&s->keys[i]);
        free(s->keys);
        for (size_t i = 0; i < s->n_rejected; i++) {
                free(s->rejected[i].user);
                free(s->rejected[i].hint);
        }
        free(s->rejected);
        for (size_t i = 0; i < s->n_expired; i++) {
                free(s->expired[i].user);
                free(s->expired[i].hint);
        }
        free(s->expired);
        memset(s, 0, sizeof(*s));
}

/* Appends at most MAX bytes of the token at P (up to a blank) to OUT,
 * anything but [A-Za-z0-9+/=@._-] as '?'. */
static size_t hint_token(const char *p, size_t max, char *out)
{
        size_t n = 0;

        for (; p[n] && p[n] != ' ' && p[n] != '\t' && n < max; n++)
                out[n] = isalnum((unsigned char)p[n]) || strchr("+/=@._-", p[n]) ? p[n] : '?';
        out[n] = '\0';
        return n;
}

/* "TYPE AAAAC3Nz…" of LINE: its first word after "user:" (32 bytes at
 * most) and 8 bytes of the next; enough to find the line, never a whole key. */
static char *line_hint(const char *line)
{
        char type[33], key[9];
        const char *colon = strchr(line, ':'), *p = colon ? colon + 1 : line;
        char *ret = NULL;

        while (*p == ' ' || *p == '\t')
                p++;
        size_t tl = hint_token(p, sizeof(type) - 1, type);
        p += strcspn(p, " \t");
        while (*p == ' ' || *p == '\t')
                p++;
        size_t kl = hint_token(p, sizeof(key) - 1, key);
        if (asprintf(&ret, "%s%s%s%s", tl ? type : "(no key)", kl ? " " : "", key,
                    kl && strcspn(p, " \t") > kl ? "…" : "") < 0)
                return NULL;
        return ret;
}

static int add_rejection(
        struct ssh_key_rejection **list, size_t *n, const char *line, unsigned lineno, const char *reason)
{
        if (GROW_ARRAY(*list, NULL, *n + 1) < 0)
                return -ENOMEM;
        struct ssh_key_rejection *p = *list;
        const char *colon = strchr(line, ':');
        _cleanup_free_ char *user = colon ? strndup(line, (size_t)(colon - line)) : NULL;
        char *hint = line_hint(line);
        if (!hint)
                return -ENOMEM;
        p[*n] = (struct ssh_key_rejection){
                .user = user && valid_user_name(user) ? TAKE_PTR(user) : NULL,
                .reason = reason,
                .line = lineno,
                .hint = hint,
        };
        (*n)++;
        return 0;
}

int ssh_keys_parse_text(const char *text, uint64_t now_usec, struct ssh_key_set *s)
{
        _cleanup_free_ char *copy = strdup(text ?: "");

        if (!copy)
                return -ENOMEM;
        /* Line numbers as an editor shows them: strsep keeps empty lines. */
        char *next = copy;
        unsigned lineno = 0;
        for (char *line; (line = strsep(&next, "\n"));) {
                struct ssh_key_line k = {};
                const char *reason;
                lineno++;
                int r = ssh_key_line_parse(line, &k, &reason);
                if (r == -ENODATA)
                        continue;
                if (r == -EBADMSG) {
                        if ((r = add_rejection(&s->rejected, &s->n_rejected, line, lineno, reason)) < 0)
                                return r;
                        continue;
                }
                if (r < 0)
                        return r;
                if (k.expire_usec && k.expire_usec <= now_usec) {
                        r = add_rejection(
                                &s->expired, &s->n_expired, line, lineno, "expired (google-ssh expireOn)");
                        ssh_key_line_done(&k);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (GROW_ARRAY(s->keys, NULL, s->n_keys + 1) < 0) {
                        ssh_key_line_done(&k);
                        return -ENOMEM;
                }
                s->keys[s->n_keys++] = k;
        }
        return 0;
}

int ssh_keys_effective(const struct metadata_document *doc, uint64_t now_usec, struct ssh_key_set *ret)
{
        struct ssh_key_set s = {};
        const char *instance_legacy = metadata_attribute(doc, "instance", "sshKeys");
        bool blocked = metadata_bool(doc, "block-project-ssh-keys", false) || !isempty(instance_legacy);
        const char *sources[4] = {
                metadata_attribute(doc, "instance", "ssh-keys"),
                instance_legacy,
                blocked ? NULL : metadata_attribute(doc, "project", "ssh-keys"),
                blocked ? NULL : metadata_attribute(doc, "project", "sshKeys"),
        };
        int r;

        static const char *const names[4] = {
                "instance ssh-keys", "instance sshKeys", "project ssh-keys", "project sshKeys"};
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                size_t rejected = s.n_rejected, expired = s.n_expired;
                if (sources[i] && (r = ssh_keys_parse_text(sources[i], now_usec, &s)) < 0) {
                        ssh_key_set_done(&s);
                        return r;
                }
                for (size_t k = rejected; k < s.n_rejected; k++)
                        s.rejected[k].source = names[i];
                for (size_t k = expired; k < s.n_expired; k++)
                        s.expired[k].source = names[i];
        }
        *ret = s;
        return 0;
}

int ssh_key_fingerprint(const char *keyline, char **ret)
{
        _cleanup_free_ unsigned char *blob = NULL;
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned digest_len = 0;
        char encoded[128];
        const char *p = keyline;
        int n;

        /* Find "TYPE BLOB" after optional options. */
        for (int field = 0; field < 2 && *p; field++) {
                size_t tl = strcspn(p, " \t");
                _cleanup_free_ char *type = strndup(p, tl);
                if (!type)
                        return -ENOMEM;
                if (ssh_key_type_known(type)) {
                        p += tl;
                        while (*p == ' ' || *p == '\t')
                                p++;
                        n = base64_decode(p, strcspn(p, " \t"), &blob);
                        if (n < 0)
                                return n;
                        if (!EVP_Digest(blob, (size_t)n, digest, &digest_len, EVP_sha256(), NULL))
                                return -EIO;
                        n = EVP_EncodeBlock((unsigned char *)encoded, digest, (int)digest_len);
                        while (n > 0 && encoded[n - 1] == '=')
                                encoded[--n] = '\0';
                        return asprintf(ret, "SHA256:%s", encoded) < 0 ? -ENOMEM : 0;
                }
                const char *after = skip_options(p);
                if (!after)
                        return -EBADMSG;
                for (p = after; *p == ' ' || *p == '\t'; p++)
                        ;
        }
        return -EBADMSG;
}
