/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "basic/atomic-file.h"
#include "basic/log.h"
#include "mds/mds-client.h"
#include "mds/mds-curl.h"

#define BACKOFF_FIRST_USEC 50000u
#define BACKOFF_MAX_USEC 1000000u

#define HTTPS_HOST "metadata.google.internal"
#define HTTPS_BASE_URL "https://" HTTPS_HOST "/computeMetadata/v1/"

/* Which endpoint the next request goes to. */
enum channel {
        CHANNEL_HTTP,
        CHANNEL_HTTPS,
        CHANNEL_NONE, /* an outage: c->outage says why */
};

struct mds_client {
        struct mds_curl *curl;
        char *http_base;  /* "http://…/computeMetadata/v1/" */
        char *connect_to; /* "metadata.google.internal:443:ADDR:PORT" */
        char *ca_file, *client_pem;
        char *state_directory;
        enum mds_transport transport;
        enum channel channel;
        int outage; /* -ENOKEY, -EPERM with CHANNEL_NONE */
        bool pinned;
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec;
        size_t max_response_size;
        uint64_t deadline_usec; /* 0: each call gets timeout_usec */
        unsigned max_attempts;  /* 0: unlimited within the deadline */
        int cancel_fd;          /* readable: calls fail with -ECANCELED; -1: none */
        uint64_t requests;
        unsigned seed;
};

/* What the process last said about the channel: each change is logged once
 * by whichever client sees it first, never once per request or per thread. */
static _Atomic int logged_state = -1;

static void log_channel_once(const struct mds_client *c)
{
        int state = c->channel == CHANNEL_NONE ? 100 - c->outage : (int)c->channel;
        if (atomic_exchange(&logged_state, state) == state)
                return;
        if (c->channel == CHANNEL_HTTPS)
                log_info("Metadata server: HTTPS with mutual TLS (%s).", c->ca_file);
        else if (c->outage == -ENOKEY)
                log_warning("Metadata server: HTTPS is pinned in %s but the credentials %s and %s are not "
                            "readable; refusing plain HTTP until they are back.",
                        c->state_directory, c->ca_file, c->client_pem);
        else if (c->outage == -EPERM)
                log_warning(
                        "Metadata server: transport = http, but HTTPS is pinned in %s/" MDS_HTTPS_PIN_FILE
                        "; refusing plain HTTP.",
                        c->state_directory);
        else if (c->channel == CHANNEL_HTTP && c->transport == MDS_TRANSPORT_AUTO)
                log_debug("Metadata server: plain HTTP (no credentials in %s).", c->ca_file);
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

static int http_base_from(const struct oslogin_config *config, unsigned flags, char **ret)
{
        const char *host =
                (flags & MDS_CLIENT_IGNORE_ENVIRONMENT) ? NULL : secure_getenv("GCE_METADATA_HOST");
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
        if (strncasecmp(url, "http://", 7) != 0)
                return -EPROTONOSUPPORT; /* HTTPS is the transport's business, not the URL's */
        size_t n = strlen(url);
        if (asprintf(&s, "%s%s", url, n && url[n - 1] == '/' ? "" : "/") < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool pin_exists(const struct mds_client *c)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", c->state_directory, MDS_HTTPS_PIN_FILE) < 0)
                return false;
        return access(path, F_OK) == 0;
}

/* HTTPS has answered: from now on this host never uses plain HTTP again. */
static void pin_https(struct mds_client *c)
{
        static const char content[] =
                "HTTPS with mutual TLS has worked on this host; plain HTTP is refused.\n";
        _cleanup_close_ int dir = -1;
        int r;

        c->pinned = true;
        if (pin_exists(c))
                return;
        dir = open_dir_nofollow(AT_FDCWD, c->state_directory, 0);
        r = dir < 0 ? dir
                    : write_file_atomic(dir, MDS_HTTPS_PIN_FILE, content, sizeof(content) - 1, 0644,
                              (uid_t)-1, (gid_t)-1);
        if (r < 0)
                log_warning("Cannot record the HTTPS pin in %s/" MDS_HTTPS_PIN_FILE ": %s",
                        c->state_directory, strerror(-r));
        else
                log_info("Metadata server answered over HTTPS: pinned in %s/" MDS_HTTPS_PIN_FILE ".",
                        c->state_directory);
}

/* Looks at the credentials and the pin again: at creation, before each call
 * and between the attempts of a failing one (on a VM the credentials appear
 * a little after boot). */
static void choose_channel(struct mds_client *c)
{
        bool credentials = access(c->ca_file, R_OK) == 0 && access(c->client_pem, R_OK) == 0;

        c->pinned = c->pinned || pin_exists(c);
        c->outage = 0;
        switch (c->transport) {
        case MDS_TRANSPORT_HTTP:
                c->channel = c->pinned ? CHANNEL_NONE : CHANNEL_HTTP;
                c->outage = c->pinned ? -EPERM : 0;
                break;
        case MDS_TRANSPORT_HTTPS:
                c->channel = credentials ? CHANNEL_HTTPS : CHANNEL_NONE;
                c->outage = credentials ? 0 : -ENOKEY;
                break;
        case MDS_TRANSPORT_AUTO:
                c->channel = credentials ? CHANNEL_HTTPS : c->pinned ? CHANNEL_NONE : CHANNEL_HTTP;
                c->outage = c->channel == CHANNEL_NONE ? -ENOKEY : 0;
                break;
        }
        log_channel_once(c);
}

void mds_client_free(struct mds_client *c)
{
        if (!c)
                return;
        mds_curl_free(c->curl);
        free(c->http_base);
        free(c->connect_to);
        free(c->ca_file);
        free(c->client_pem);
        free(c->state_directory);
        free(c);
}

static int https_settings_from(const struct oslogin_config *config, struct mds_client *c)
{
        const char *dir = config && config->credentials_directory ? config->credentials_directory
                                                                  : OSLOGIN_DEFAULT_MTLS_DIR;
        const char *address =
                config && config->https_address ? config->https_address : OSLOGIN_DEFAULT_HTTPS_ADDRESS;
        const char *state =
                config && config->state_directory ? config->state_directory : OSLOGIN_DEFAULT_STATE_DIR;

        c->transport = config ? config->transport : MDS_TRANSPORT_AUTO;
        if (asprintf(&c->ca_file, "%s/root.crt", dir) < 0 ||
                asprintf(&c->client_pem, "%s/client.key", dir) < 0 ||
                asprintf(&c->connect_to, HTTPS_HOST ":443:%s", address) < 0 ||
                !(c->state_directory = strdup(state)))
                return -ENOMEM;
        return 0;
}

int mds_client_new(const struct oslogin_config *config, unsigned flags, struct mds_client **ret)
{
        _cleanup_(mds_client_freep) struct mds_client *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->cancel_fd = -EBADF;
        r = http_base_from(config, flags, &c->http_base);
        if (r < 0) {
                log_debug("Unusable metadata URL: %s", strerror(-r));
                return r;
        }
        r = https_settings_from(config, c);
        if (r < 0)
                return r;
        c->connect_timeout_usec = config ? config->connect_timeout_usec : 1000000;
        c->timeout_usec = config ? config->timeout_usec : 5000000;
        c->max_response_size =
                (size_t)MIN(config ? config->max_response_size : 1024 * 1024, (uint64_t)SIZE_MAX / 2);
        c->seed = (unsigned)now_monotonic_usec() ^ (unsigned)getpid();
        r = mds_curl_new(&c->curl);
        if (r < 0)
                return r;
        choose_channel(c);
        *ret = TAKE_PTR(c);
        return 0;
}

bool mds_client_uses_https(const struct mds_client *c)
{
        /* In an outage (-ENOKEY, -EPERM) HTTPS is what is required. */
        return c->channel != CHANNEL_HTTP;
}

const char *mds_client_base_url(const struct mds_client *c)
{
        return mds_client_uses_https(c) ? HTTPS_BASE_URL : c->http_base;
}

uint64_t mds_client_request_count(const struct mds_client *c)
{
        return c->requests;
}

uint64_t mds_client_connection_count(const struct mds_client *c)
{
        return mds_curl_connections(c->curl);
}

void mds_client_set_deadline(struct mds_client *c, uint64_t deadline_monotonic_usec)
{
        c->deadline_usec = deadline_monotonic_usec;
}

void mds_client_set_max_attempts(struct mds_client *c, unsigned n)
{
        c->max_attempts = n;
}

void mds_client_set_cancel_fd(struct mds_client *c, int fd)
{
        c->cancel_fd = fd < 0 ? -EBADF : fd;
}

int mds_client_cancel_fd(const struct mds_client *c)
{
        return c->cancel_fd;
}

void mds_client_set_quickack(struct mds_client *c, bool on)
{
        mds_curl_set_quickack(c->curl, on);
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
 * cut short. Not: a malformed answer, an oversized one, a server whose
 * certificate failed, our own errors. */
static bool transient_error(int r)
{
        return r != -EBADMSG && r != -EFBIG && r != -ENOMEM && r != -EINVAL && r != -EKEYREJECTED;
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
static int attempt(struct mds_client *c, const char *path, const char *post, uint64_t deadline,
        struct mds_curl_answer *ret, int *ret_no_server)
{
        _cleanup_free_ char *url = NULL;
        bool https = c->channel == CHANNEL_HTTPS;
        int r;

        if (asprintf(&url, "%s%s", https ? HTTPS_BASE_URL : c->http_base, path) < 0)
                return -ENOMEM;
        const struct mds_curl_request req = {
                .url = url,
                .post_json = post,
                .connect_to = https ? c->connect_to : NULL,
                .ca_file = https ? c->ca_file : NULL,
                .client_pem = https ? c->client_pem : NULL,
                .connect_timeout_usec = c->connect_timeout_usec,
                .deadline_usec = deadline,
                .max_body = c->max_response_size,
                .cancel_fd = c->cancel_fd,
        };
        c->requests++;
        r = mds_curl_transfer(c->curl, &req, ret);
        if (r == -EFBIG || r == -ENOMEM || r == -EKEYREJECTED || r == -ECANCELED)
                return r;
        /* Refused or no route: no server there at all. Kept for the caller,
         * who may tell that apart from a slow or failing one. */
        *ret_no_server = r == -ECONNREFUSED || r == -ENETUNREACH ? r : 0;
        if (r < 0)
                return transient_error(r) ? 1 : -EHOSTUNREACH;
        if (ret->status == 429 || ret->status >= 500)
                return 1;
        if (!ret->flavor) {
                log_debug("Answer to %s lacks Metadata-Flavor: Google, ignoring it.", path);
                return -EPROTO;
        }
        /* A complete answer from the metadata server over HTTPS: the channel works. */
        if (https && !c->pinned)
                pin_https(c);
        if (ret->status != 200)
                return status_to_errno(ret->status);
        return 0;
}

/* Sleeps USEC, or less when the cancel descriptor becomes readable
 * (-ECANCELED). */
static int backoff_sleep(struct mds_client *c, uint64_t usec)
{
        uint64_t until = now_monotonic_usec() + usec;

        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= until)
                        return 0;
                struct pollfd p = {.fd = c->cancel_fd, .events = POLLIN};
                /* poll() ignores a negative descriptor: then a plain sleep. */
                if (poll(&p, 1, (int)MIN((until - now + 999) / 1000, (uint64_t)INT32_MAX)) > 0 && p.revents)
                        return -ECANCELED;
        }
}

static int request(struct mds_client *c, const char *path, const char *post, uint64_t extra_usec,
        struct mds_response *ret)
{
        struct mds_curl_answer answer = {};
        uint64_t start = now_monotonic_usec(), backoff = BACKOFF_FIRST_USEC;
        uint64_t deadline = c->deadline_usec ? c->deadline_usec : start + c->timeout_usec + extra_usec;
        long status = 0;
        int no_server = 0;
        unsigned attempts = 0;
        int r;

        /* Three access() calls: the credentials can come (after boot) or go. */
        choose_channel(c);
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (c->channel == CHANNEL_NONE) {
                        r = c->outage;
                        break;
                }
                if (mds_curl_cancelled(c->cancel_fd)) {
                        r = -ECANCELED;
                        break;
                }
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                mds_curl_answer_done(&answer);
                r = attempt(c, path, post, deadline, &answer, &no_server);
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
                r = backoff_sleep(c, sleep_usec);
                if (r < 0)
                        break;
                backoff = MIN(backoff * 2, (uint64_t)BACKOFF_MAX_USEC);
                if (status == 0)
                        choose_channel(c); /* not reached: the credentials may have come or gone */
        }
        if (r < 0) {
                mds_curl_answer_done(&answer);
                if (r != -ENOENT && r != -EACCES)
                        choose_channel(c);
                return r;
        }
        *ret = (struct mds_response){
                .status = status, .body = answer.body, .size = answer.size, .etag = answer.etag};
        return 0;
}

int mds_get(struct mds_client *c, const char *path_and_query, struct mds_response *ret)
{
        return request(c, path_and_query, NULL, 0, ret);
}

int mds_post_json(
        struct mds_client *c, const char *path_and_query, const char *json, struct mds_response *ret)
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
