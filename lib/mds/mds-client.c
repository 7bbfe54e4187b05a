/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "basic/log.h"
#include "mds/http.h" /* now_monotonic_usec() */
#include "mds/mds-client.h"

#define BACKOFF_FIRST_USEC 50000u
#define BACKOFF_MAX_USEC 1000000u

struct mds_client {
        CURL *curl;
        struct curl_slist *headers;
        char *base_url;
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec;
        uint64_t max_response_size;
        uint64_t deadline_usec; /* 0: each call gets timeout_usec */
        uint64_t requests;
        unsigned max_attempts; /* 0: unlimited within the deadline */
        unsigned seed;
};

/* One transfer's worth of received data. */
struct transfer {
        char *body;
        size_t size, allocated;
        uint64_t cap;
        bool too_big;
        char *etag;
        bool flavor;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
        curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

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
        if (c->curl)
                curl_easy_cleanup(c->curl);
        curl_slist_free_all(c->headers);
        free(c->base_url);
        free(c);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct transfer *t = userdata;
        size_t n = size * nmemb;

        if (t->size + n > t->cap) {
                t->too_big = true;
                return 0; /* aborts the transfer */
        }
        if (t->size + n + 1 > t->allocated) {
                size_t want = MAX(t->allocated * 2, t->size + n + 1);
                char *p = realloc(t->body, MAX(want, (size_t)4096));
                if (!p)
                        return 0;
                t->body = p;
                t->allocated = MAX(want, (size_t)4096);
        }
        memcpy(t->body + t->size, data, n);
        t->size += n;
        t->body[t->size] = '\0';
        return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct transfer *t = userdata;
        size_t n = size * nmemb, name_len;
        const char *colon = memchr(data, ':', n);

        if (!colon)
                return n;
        name_len = (size_t)(colon - data);
        const char *value = colon + 1, *end = data + n;
        while (value < end && (*value == ' ' || *value == '\t'))
                value++;
        while (end > value && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        if (name_len == 15 && strncasecmp(data, "Metadata-Flavor", 15) == 0)
                t->flavor = (size_t)(end - value) == 6 && strncmp(value, "Google", 6) == 0;
        else if (name_len == 4 && strncasecmp(data, "ETag", 4) == 0) {
                free(t->etag);
                t->etag = strndup(value, (size_t)(end - value));
        }
        return n;
}

int mds_client_new(const struct oslogin_config *config, unsigned flags, struct mds_client **ret)
{
        _cleanup_(mds_client_freep) struct mds_client *c = NULL;
        int r;

        pthread_once(&curl_once, curl_init_once);
        if (curl_init_result != CURLE_OK)
                return -ENOMEM;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = base_url_from(config, flags, &c->base_url);
        if (r < 0)
                return r;
        c->connect_timeout_usec = config ? config->connect_timeout_usec : 1000000;
        c->timeout_usec = config ? config->timeout_usec : 5000000;
        c->max_response_size = config ? config->max_response_size : 1024 * 1024;
        c->seed = (unsigned)now_monotonic_usec() ^ (unsigned)getpid();
        c->curl = curl_easy_init();
        c->headers = curl_slist_append(NULL, "Metadata-Flavor: Google");
        if (!c->curl || !c->headers)
                return -ENOMEM;
        /* Never a proxy, a redirect, another protocol or a signal. */
        if (curl_easy_setopt(c->curl, CURLOPT_PROXY, "") != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*") != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "oslogin") != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

const char *mds_client_base_url(const struct mds_client *c)
{
        return c->base_url;
}

uint64_t mds_client_request_count(const struct mds_client *c)
{
        return c->requests;
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

int mds_query_append(char **path, const char *key, const char *value)
{
        char *escaped = curl_easy_escape(NULL, value, 0), *s;
        int n;

        if (!escaped)
                return -ENOMEM;
        n = asprintf(&s, "%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', key, escaped);
        curl_free(escaped);
        if (n < 0)
                return -ENOMEM;
        free(*path);
        *path = s;
        return 0;
}

static bool transient_curl_error(CURLcode e)
{
        switch (e) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
                return true;
        default:
                return false;
        }
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
static int attempt(struct mds_client *c, const char *url, const char *post, uint64_t remaining_usec,
                   struct transfer *t, long *ret_status)
{
        CURLcode e;
        long status = 0;

        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, t);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)MAX(remaining_usec / 1000, 1u));
        curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)MAX(MIN(c->connect_timeout_usec, remaining_usec) / 1000, 1u));
        if (post) {
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, post);
        } else
                curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        c->requests++;
        e = curl_easy_perform(c->curl);
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        *ret_status = status;
        if (t->too_big)
                return -EFBIG;
        if (e != CURLE_OK) {
                log_debug("Metadata request %s failed: %s", url, curl_easy_strerror(e));
                return transient_curl_error(e) ? 1 : -EHOSTUNREACH;
        }
        if (status == 429 || status >= 500)
                return 1;
        if (!t->flavor) {
                log_debug("Answer from %s lacks Metadata-Flavor: Google, ignoring it.", url);
                return -EPROTO;
        }
        if (status != 200)
                return status_to_errno(status);
        return 0;
}

static void transfer_reset(struct transfer *t, uint64_t cap)
{
        free(t->body);
        free(t->etag);
        *t = (struct transfer){.cap = cap};
}

static int request(struct mds_client *c, const char *path, const char *post, uint64_t extra_usec,
                   struct mds_response *ret)
{
        _cleanup_free_ char *url = NULL;
        struct transfer t = {};
        uint64_t start = now_monotonic_usec(), backoff = BACKOFF_FIRST_USEC;
        uint64_t deadline = c->deadline_usec ? c->deadline_usec : start + c->timeout_usec + extra_usec;
        long status = 0;
        unsigned attempts = 0;
        int r;

        if (asprintf(&url, "%s%s", c->base_url, path) < 0)
                return -ENOMEM;
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                transfer_reset(&t, c->max_response_size);
                r = attempt(c, url, post, deadline - now, &t, &status);
                if (r <= 0)
                        break;
                if (c->max_attempts && ++attempts >= c->max_attempts) {
                        r = -EHOSTUNREACH;
                        break;
                }
                /* Back off with jitter (50-150 %), never past the deadline. */
                uint64_t sleep_usec = backoff / 2 + (uint64_t)rand_r(&c->seed) % (backoff + 1);
                now = now_monotonic_usec();
                if (now + sleep_usec >= deadline) {
                        r = status >= 500 || status == 429 ? -EHOSTUNREACH : -ETIMEDOUT;
                        break;
                }
                struct timespec ts = {.tv_sec = (time_t)(sleep_usec / 1000000u),
                                      .tv_nsec = (long)(sleep_usec % 1000000u) * 1000};
                nanosleep(&ts, NULL);
                backoff = MIN(backoff * 2, (uint64_t)BACKOFF_MAX_USEC);
        }
        if (r < 0) {
                transfer_reset(&t, 0);
                return r;
        }
        if (!t.body && !(t.body = strdup(""))) {
                transfer_reset(&t, 0);
                return -ENOMEM;
        }
        *ret = (struct mds_response){.status = status, .body = t.body, .size = t.size, .etag = t.etag};
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
