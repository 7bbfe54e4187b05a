/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "mds/http.h"
#include "mds/mds-client.h"

#define BACKOFF_FIRST_USEC 50000u
#define BACKOFF_MAX_USEC 1000000u

struct mds_client {
        struct http_connection *connection;
        char *base_url;
        char *base_path; /* of base_url: "/computeMetadata/v1/" */
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec;
        size_t max_response_size;
        uint64_t deadline_usec; /* 0: each call gets timeout_usec */
        unsigned max_attempts;  /* 0: unlimited within the deadline */
        unsigned seed;
};

static bool valid_host_port(const char *s)
{
        if (isempty(s) || strlen(s) > 255)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr(".-:[]", *s))
                        return false;
        return true;
}

static int base_url_from(const struct oslogin_config *config, unsigned flags, char **ret)
{
        const char *host = (flags & MDS_CLIENT_IGNORE_ENVIRONMENT) ? NULL : secure_getenv("GCE_METADATA_HOST");
        const char *url = config && config->url ? config->url : OSLOGIN_DEFAULT_MDS_URL;
        char *s;

        if (host) {
                if (!valid_host_port(host)) {
                        log_debug("Ignoring invalid GCE_METADATA_HOST \"%s\".", host);
                } else if (asprintf(&s, "http://%s/computeMetadata/v1/", host) < 0)
                        return -ENOMEM;
                else {
                        *ret = s;
                        return 0;
                }
        }
        size_t n = strlen(url);
        if (asprintf(&s, "%s%s", url, n && url[n - 1] == '/' ? "" : "/") < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void mds_client_free(struct mds_client *c)
{
        if (!c)
                return;
        http_connection_free(c->connection);
        free(c->base_url);
        free(c->base_path);
        free(c);
}

int mds_client_new(const struct oslogin_config *config, unsigned flags, struct mds_client **ret)
{
        _cleanup_(mds_client_freep) struct mds_client *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = base_url_from(config, flags, &c->base_url);
        if (r < 0)
                return r;
        c->connect_timeout_usec = config ? config->connect_timeout_usec : 1000000;
        c->timeout_usec = config ? config->timeout_usec : 5000000;
        c->max_response_size = (size_t)MIN(config ? config->max_response_size : 1024 * 1024, (uint64_t)SIZE_MAX / 2);
        c->seed = (unsigned)now_monotonic_usec() ^ (unsigned)getpid();
        /* No proxy (http_proxy is never read), redirect or TLS: none exists in http.c. */
        r = http_connection_new(c->base_url, &c->connection, &c->base_path);
        if (r < 0) {
                log_debug("Unusable metadata URL \"%s\": %s", c->base_url, strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

const char *mds_client_base_url(const struct mds_client *c)
{
        return c->base_url;
}

uint64_t mds_client_request_count(const struct mds_client *c)
{
        return http_connection_requests(c->connection);
}

void mds_client_set_deadline(struct mds_client *c, uint64_t deadline_monotonic_usec)
{
        c->deadline_usec = deadline_monotonic_usec;
}

void mds_client_set_max_attempts(struct mds_client *c, unsigned n)
{
        c->max_attempts = n;
}

void mds_response_done(struct mds_response *r)
{
        free(r->body);
        free(r->etag);
        memset(r, 0, sizeof(*r));
}

/* RFC 3986 unreserved characters stay, every other byte is %XX. */
int mds_query_append(char **path, const char *key, const char *value)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(value);
        _cleanup_free_ char *escaped = malloc(n * 3 + 1);
        char *e = escaped, *s;

        if (!escaped)
                return -ENOMEM;
        for (const unsigned char *v = (const unsigned char *)value; *v; v++)
                if (isalnum(*v) || strchr("-._~", *v))
                        *e++ = (char)*v;
                else {
                        *e++ = '%';
                        *e++ = hex[*v >> 4];
                        *e++ = hex[*v & 15];
                }
        *e = '\0';
        if (asprintf(&s, "%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', key, escaped) < 0)
                return -ENOMEM;
        free(*path);
        *path = s;
        return 0;
}

/* Worth another attempt: the server could not be reached or the answer was
 * cut short. Not: a malformed answer, an oversized one, our own errors. */
static bool transient_error(int r)
{
        return r != -EBADMSG && r != -EFBIG && r != -ENOMEM && r != -EINVAL && r != -EPROTONOSUPPORT;
}

static int status_to_errno(long status)
{
        if (status == 404)
                return -ENOENT;
        if (status == 403)
                return -EACCES;
        if (status >= 400 && status < 500 && status != 429)
                return -EBADMSG;
        return -EHOSTUNREACH;
}

/* One attempt. 0 on a complete 200, 1 when worth retrying, else -errno. */
static int attempt(struct mds_client *c, const char *target, const char *post, uint64_t deadline,
                   struct http_response *ret, int *ret_no_server)
{
        const struct http_request req = {
                .method = post ? "POST" : "GET",
                .target = target,
                .headers = "Metadata-Flavor: Google\r\n",
                .content_type = "application/json",
                .body = post,
                .body_size = post ? strlen(post) : 0,
        };
        const struct http_limits limits = {
                .connect_timeout_usec = c->connect_timeout_usec,
                .deadline_usec = deadline,
                .max_body = c->max_response_size,
        };
        int r = http_exchange(c->connection, &req, &limits, ret);

        if (r == -EFBIG || r == -ENOMEM)
                return r;
        /* Refused or no route: no server there at all. Kept for the caller,
         * who may tell that apart from a slow or failing one. */
        *ret_no_server = r == -ECONNREFUSED || r == -ENETUNREACH || r == -ENETDOWN ? r : 0;
        if (r < 0) {
                log_debug("Metadata request %s failed: %s", target, strerror(-r));
                return transient_error(r) ? 1 : -EHOSTUNREACH;
        }
        if (ret->status == 429 || ret->status >= 500)
                return 1;
        if (!ret->flavor) {
                log_debug("Answer to %s lacks Metadata-Flavor: Google, ignoring it.", target);
                return -EPROTO;
        }
        if (ret->status != 200)
                return status_to_errno(ret->status);
        return 0;
}

static int request(struct mds_client *c, const char *path, const char *post, uint64_t extra_usec,
                   struct mds_response *ret)
{
        _cleanup_free_ char *target = NULL;
        struct http_response answer = {};
        uint64_t start = now_monotonic_usec(), backoff = BACKOFF_FIRST_USEC;
        uint64_t deadline = c->deadline_usec ? c->deadline_usec : start + c->timeout_usec + extra_usec;
        int status = 0, no_server = 0;
        unsigned attempts = 0;
        int r;

        if (asprintf(&target, "%s%s", c->base_path, path) < 0)
                return -ENOMEM;
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                http_response_done(&answer);
                r = attempt(c, target, post, deadline, &answer, &no_server);
                status = answer.status;
                if (r <= 0)
                        break;
                if (c->max_attempts && ++attempts >= c->max_attempts) {
                        r = no_server ?: -EHOSTUNREACH;
                        break;
                }
                /* Back off with jitter (50-150 %), never past the deadline. */
                uint64_t sleep_usec = backoff / 2 + (uint64_t)rand_r(&c->seed) % (backoff + 1);
                now = now_monotonic_usec();
                if (now + sleep_usec >= deadline) {
                        r = no_server ?: status >= 500 || status == 429 ? -EHOSTUNREACH : -ETIMEDOUT;
                        break;
                }
                struct timespec ts = {.tv_sec = (time_t)(sleep_usec / 1000000u),
                                      .tv_nsec = (long)(sleep_usec % 1000000u) * 1000};
                nanosleep(&ts, NULL);
                backoff = MIN(backoff * 2, (uint64_t)BACKOFF_MAX_USEC);
        }
        if (r < 0) {
                http_response_done(&answer);
                return r;
        }
        *ret = (struct mds_response){.status = status, .body = answer.body, .size = answer.size, .etag = answer.etag};
        return 0;
}

int mds_get(struct mds_client *c, const char *path_and_query, struct mds_response *ret)
{
        return request(c, path_and_query, NULL, 0, ret);
}

int mds_post_json(struct mds_client *c, const char *path_and_query, const char *json, struct mds_response *ret)
{
        return request(c, path_and_query, json, 0, ret);
}

int mds_wait_for_change(struct mds_client *c, const char *path, const char *last_etag, unsigned timeout_sec,
                        struct mds_response *ret)
{
        _cleanup_free_ char *p = strdup(path);
        char seconds[16];
        int r;

        if (!p)
                return -ENOMEM;
        snprintf(seconds, sizeof(seconds), "%u", timeout_sec);
        if ((r = mds_query_append(&p, "wait_for_change", "true")) < 0 ||
            (r = mds_query_append(&p, "last_etag", last_etag ?: "NONE")) < 0 ||
            (r = mds_query_append(&p, "timeout_sec", seconds)) < 0)
                return r;
        return request(c, p, NULL, (uint64_t)timeout_sec * 1000000u, ret);
}
