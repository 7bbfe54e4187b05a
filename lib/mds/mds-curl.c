/* SPDX-License-Identifier: Apache-2.0 */
/* lib/mds/mds-curl.h: libcurl under the metadata client. */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "basic/alloc-util.h"
#include "basic/log.h"
#include "basic/time-util.h"
#include "mds/mds-curl.h"

/* A transfer uses one socket, two while happy eyeballs race. */
#define MAX_WATCHED 8
/* An ETag is a short token; anything longer is not kept. */
#define MAX_ETAG 256

struct watched {
        curl_socket_t fd;
        int what; /* CURL_POLL_IN, _OUT, _INOUT */
};

struct mds_curl {
        CURLM *multi;
        CURL *easy;
        struct curl_slist *get_headers, *post_headers, *connect_to;
        struct watched watched[MAX_WATCHED];
        size_t n_watched;
        uint64_t timer_usec; /* when curl wants CURL_SOCKET_TIMEOUT; 0: never */
        uint64_t connections;
        bool quickack;
        /* the answer being received */
        struct mds_curl_answer answer;
        size_t allocated, max_body;
        int write_error;
        bool flavor_google, flavor_other;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result;

/* Once per process and never cleaned up: curl_global_cleanup() is not
 * thread-safe and a daemon keeps libcurl until it exits. */
static void global_init(void)
{
        global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mds_curl_answer_done(struct mds_curl_answer *a)
{
        free(a->body);
        free(a->etag);
        memset(a, 0, sizeof(*a));
}

static void quickack(curl_socket_t fd)
{
        int one = 1;
        /* Not a TCP socket (a unix one in tests): nothing to do. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int socket_callback(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct mds_curl *h = userp;
        size_t i;
        (void)easy;
        (void)socketp;

        for (i = 0; i < h->n_watched && h->watched[i].fd != fd; i++)
                ;
        if (what == CURL_POLL_REMOVE) {
                if (i < h->n_watched)
                        h->watched[i] = h->watched[--h->n_watched];
                return 0;
        }
        if (i == h->n_watched) {
                if (i == MAX_WATCHED)
                        return -1;
                h->n_watched++;
        }
        h->watched[i] = (struct watched){.fd = fd, .what = what};
        /* curl waits for the answer: the request has left, which put the
         * socket back into delayed-ACK (pingpong) mode. Leave it again, so
         * the ACK of the answer's first segment goes out at once. */
        if (h->quickack && (what & CURL_POLL_IN))
                quickack(fd);
        return 0;
}

static int timer_callback(CURLM *multi, long timeout_ms, void *userp)
{
        struct mds_curl *h = userp;
        (void)multi;
        h->timer_usec = timeout_ms < 0 ? 0 : now_monotonic_usec() + (uint64_t)timeout_ms * 1000u;
        return 0;
}

static char *trimmed_dup(const char *s, size_t n)
{
        while (n > 0 && (*s == ' ' || *s == '\t'))
                s++, n--;
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                n--;
        return strndup(s, n);
}

static size_t header_callback(char *data, size_t size, size_t n, void *userp)
{
        struct mds_curl *h = userp;
        size_t len = size * n;
        const char *colon = memchr(data, ':', len);

        if (len >= 5 && strneq(data, "HTTP/", 5)) {
                /* A new status line (after a 1xx): forget what came before. */
                free(h->answer.etag);
                h->answer.etag = NULL;
                h->flavor_google = h->flavor_other = false;
                return len;
        }
        if (!colon)
                return len;
        size_t name_len = (size_t)(colon - data), value_len = len - name_len - 1;
        if (name_len == 15 && strncasecmp(data, "Metadata-Flavor", 15) == 0) {
                _cleanup_free_ char *v = trimmed_dup(colon + 1, value_len);
                if (!v)
                        return 0;
                if (streq(v, "Google"))
                        h->flavor_google = true;
                else
                        h->flavor_other = true;
        } else if (name_len == 4 && strncasecmp(data, "ETag", 4) == 0 && value_len <= MAX_ETAG) {
                char *v = trimmed_dup(colon + 1, value_len);
                if (!v)
                        return 0;
                free(h->answer.etag);
                h->answer.etag = v;
        }
        return len;
}

static size_t write_callback(char *data, size_t size, size_t n, void *userp)
{
        struct mds_curl *h = userp;
        struct mds_curl_answer *a = &h->answer;
        size_t len = size * n;

        if (len > h->max_body - a->size) {
                h->write_error = -EFBIG;
                return 0;
        }
        if (GROW_ARRAY(a->body, &h->allocated, a->size + len + 1) < 0) {
                h->write_error = -ENOMEM;
                return 0;
        }
        memcpy(a->body + a->size, data, len);
        a->size += len;
        a->body[a->size] = '\0';
        return len;
}

void mds_curl_free(struct mds_curl *h)
{
        if (!h)
                return;
        if (h->multi && h->easy)
                curl_multi_remove_handle(h->multi, h->easy);
        curl_easy_cleanup(h->easy);
        curl_multi_cleanup(h->multi);
        curl_slist_free_all(h->get_headers);
        curl_slist_free_all(h->post_headers);
        curl_slist_free_all(h->connect_to);
        mds_curl_answer_done(&h->answer);
        free(h);
}

static int set_fixed_options(struct mds_curl *h)
{
        CURL *e = h->easy;
        CURLcode r = CURLE_OK;

#define SET(opt, val)                                                                                       \
        do {                                                                                                \
                if (r == CURLE_OK)                                                                          \
                        r = curl_easy_setopt(e, opt, val);                                                  \
        } while (0)
        SET(CURLOPT_NOSIGNAL, 1L);
        /* "" disables proxies, the *_proxy variables included; "*" is belt and braces. */
        SET(CURLOPT_PROXY, "");
        SET(CURLOPT_NOPROXY, "*");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_MAXREDIRS, 0L);
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        SET(CURLOPT_TCP_NODELAY, 1L);
        SET(CURLOPT_USERAGENT, "oslogin");
        SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        /* Only the CA the request names (root.crt), never the system store. */
        SET(CURLOPT_CAPATH, NULL);
#if LIBCURL_VERSION_NUM >= 0x075700
        /* Read root.crt at each new connection, not a copy cached for a day:
         * the credentials are rotated on the host. */
        SET(CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEYTYPE, "PEM");
        SET(CURLOPT_HEADERFUNCTION, header_callback);
        SET(CURLOPT_HEADERDATA, h);
        SET(CURLOPT_WRITEFUNCTION, write_callback);
        SET(CURLOPT_WRITEDATA, h);
#undef SET
        return r == CURLE_OK ? 0 : r == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

int mds_curl_new(struct mds_curl **ret)
{
        _cleanup_(mds_curl_freep) struct mds_curl *h = NULL;
        struct curl_slist *l;
        int r;

        pthread_once(&global_once, global_init);
        if (global_result != CURLE_OK)
                return -ENOMEM;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->quickack = true;
        h->multi = curl_multi_init();
        h->easy = curl_easy_init();
        if (!h->multi || !h->easy)
                return -ENOMEM;
        if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_callback) != CURLM_OK ||
                curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
                curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_callback) != CURLM_OK ||
                curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK)
                return -EINVAL;
        l = curl_slist_append(NULL, "Metadata-Flavor: Google");
        if (!l)
                return -ENOMEM;
        h->get_headers = l;
        /* No "Expect: 100-continue" round trip before a POST body. */
        const char *post[] = {"Metadata-Flavor: Google", "Content-Type: application/json", "Expect:"};
        for (size_t i = 0; i < ELEMENTSOF(post); i++) {
                l = curl_slist_append(h->post_headers, post[i]);
                if (!l)
                        return -ENOMEM;
                h->post_headers = l;
        }
        r = set_fixed_options(h);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

uint64_t mds_curl_connections(const struct mds_curl *h)
{
        return h->connections;
}

void mds_curl_set_quickack(struct mds_curl *h, bool on)
{
        h->quickack = on;
}

static int set_request_options(struct mds_curl *h, const struct mds_curl_request *req)
{
        CURL *e = h->easy;
        uint64_t now = now_monotonic_usec();
        long total_ms = (long)MIN((req->deadline_usec - now + 999) / 1000, (uint64_t)LONG_MAX);
        long connect_ms = (long)MIN((req->connect_timeout_usec + 999) / 1000, (uint64_t)LONG_MAX);
        CURLcode r = CURLE_OK;

        curl_slist_free_all(h->connect_to);
        h->connect_to = NULL;
        if (req->connect_to) {
                h->connect_to = curl_slist_append(NULL, req->connect_to);
                if (!h->connect_to)
                        return -ENOMEM;
        }
#define SET(opt, val)                                                                                       \
        do {                                                                                                \
                if (r == CURLE_OK)                                                                          \
                        r = curl_easy_setopt(e, opt, val);                                                  \
        } while (0)
        SET(CURLOPT_URL, req->url);
        SET(CURLOPT_CONNECT_TO, h->connect_to);
        SET(CURLOPT_CAINFO, req->ca_file);
        SET(CURLOPT_SSLCERT, req->client_pem);
        SET(CURLOPT_SSLKEY, req->client_pem);
        SET(CURLOPT_CONNECTTIMEOUT_MS, MAX(connect_ms, 1L));
        SET(CURLOPT_TIMEOUT_MS, MAX(total_ms, 1L));
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MIN(req->max_body, (size_t)INT64_MAX));
        if (req->post_json) {
                SET(CURLOPT_POSTFIELDS, req->post_json);
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->post_json));
                SET(CURLOPT_HTTPHEADER, h->post_headers);
        } else {
                SET(CURLOPT_HTTPGET, 1L);
                SET(CURLOPT_HTTPHEADER, h->get_headers);
        }
#undef SET
        return r == CURLE_OK ? 0 : r == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

static int errno_from_curl(const struct mds_curl *h, CURLcode code)
{
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_WRITE_ERROR:
                return h->write_error ?: -EIO;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_UNKNOWN_OPTION:
                return -EINVAL;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                return -EKEYREJECTED;
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_BAD_CONTENT_ENCODING:
                return -EBADMSG;
        case CURLE_COULDNT_CONNECT: {
                /* Refused and no route say "no server here" (not a cloud
                 * VM): keep them apart from a slow or failing one. */
                long os_errno = 0;
                (void)curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &os_errno);
                return os_errno == ENETUNREACH || os_errno == ENETDOWN ? -ENETUNREACH : -ECONNREFUSED;
        }
        case CURLE_COULDNT_RESOLVE_HOST:
                return -EHOSTUNREACH;
        case CURLE_PARTIAL_FILE:
                return -EPIPE;
        case CURLE_SSL_CONNECT_ERROR:
                return -ECONNABORTED;
        default: /* GOT_NOTHING, RECV_ERROR, SEND_ERROR... */
                return -ECONNRESET;
        }
}

/* Drives the transfer until curl reports it done: 0 and *ret_code, or
 * -errno when our own loop fails or CANCEL_FD becomes readable (the
 * transfer is then abandoned: curl closes its connection when the handle
 * is removed mid-transfer). poll() ignores a negative CANCEL_FD. */
static int run(struct mds_curl *h, uint64_t deadline, int cancel_fd, CURLcode *ret_code)
{
        int running = 1;

        if (curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                return -EIO;
        for (;;) {
                CURLMsg *msg;
                int left;
                while ((msg = curl_multi_info_read(h->multi, &left)))
                        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->easy) {
                                *ret_code = msg->data.result;
                                return 0;
                        }
                if (running == 0)
                        return -EIO; /* done without a message: cannot happen */

                /* curl enforces the deadline itself (CURLOPT_TIMEOUT_MS); ours
                 * is the backstop a little later. */
                uint64_t now = now_monotonic_usec(), wake = deadline + 100000u;
                if (now >= wake)
                        return -ETIMEDOUT;
                if (h->timer_usec)
                        wake = MIN(wake, h->timer_usec);
                /* One more slot, last: the cancel descriptor. */
                struct pollfd pfd[MAX_WATCHED + 1];
                size_t n = h->n_watched;
                for (size_t i = 0; i < n; i++)
                        pfd[i] = (struct pollfd){
                                .fd = h->watched[i].fd,
                                .events = (short)(((h->watched[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                                                  ((h->watched[i].what & CURL_POLL_OUT) ? POLLOUT : 0)),
                        };
                pfd[n] = (struct pollfd){.fd = cancel_fd, .events = POLLIN};
                int timeout_ms = wake > now ? (int)MIN((wake - now + 999) / 1000, (uint64_t)INT32_MAX) : 0;
                int k = poll(pfd, (nfds_t)n + 1, timeout_ms);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0 && pfd[n].revents)
                        return -ECANCELED;
                for (size_t i = 0; k > 0 && i < n; i++) {
                        if (!pfd[i].revents)
                                continue;
                        int ev = ((pfd[i].revents & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
                                 ((pfd[i].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                                 ((pfd[i].revents & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
                        /* An earlier action of this round may have closed it. */
                        CURLMcode mc = curl_multi_socket_action(h->multi, pfd[i].fd, ev, &running);
                        if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET)
                                return -EIO;
                }
                if (h->timer_usec && now_monotonic_usec() >= h->timer_usec) {
                        h->timer_usec = 0;
                        if (curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                                return -EIO;
                }
        }
}

bool mds_curl_cancelled(int cancel_fd)
{
        struct pollfd p = {.fd = cancel_fd, .events = POLLIN};
        return cancel_fd >= 0 && poll(&p, 1, 0) > 0 && p.revents;
}

int mds_curl_transfer(struct mds_curl *h, const struct mds_curl_request *req, struct mds_curl_answer *ret)
{
        CURLcode code = CURLE_OK;
        long connects = 0;
        int r;

        if (mds_curl_cancelled(req->cancel_fd))
                return -ECANCELED;
        if (now_monotonic_usec() >= req->deadline_usec)
                return -ETIMEDOUT;
        r = set_request_options(h, req);
        if (r < 0)
                return r;
        mds_curl_answer_done(&h->answer);
        h->allocated = 0;
        h->max_body = req->max_body;
        h->write_error = 0;
        h->flavor_google = h->flavor_other = false;
        if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK)
                return -ENOMEM;
        r = run(h, req->deadline_usec, req->cancel_fd, &code);
        /* Removing the handle keeps the connection in the multi's cache. */
        curl_multi_remove_handle(h->multi, h->easy);
        if (r >= 0)
                r = errno_from_curl(h, code);
        if (r >= 0 && !h->answer.body && !(h->answer.body = strdup("")))
                r = -ENOMEM;
        if (curl_easy_getinfo(h->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
                h->connections += (uint64_t)connects;
        if (r < 0) {
                log_debug("%s: %s (%s)", req->url, curl_easy_strerror(code), strerror(-r));
                mds_curl_answer_done(&h->answer);
                return r;
        }
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->answer.status);
        h->answer.flavor = h->flavor_google && !h->flavor_other;
        *ret = h->answer;
        h->answer = (struct mds_curl_answer){};
        h->allocated = 0;
        return 0;
}
