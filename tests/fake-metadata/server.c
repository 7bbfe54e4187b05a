/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP side: request state, the flavor checks, faults, long-polls.
 *
 * Long-polls, delays and black holes never hold an MHD thread: the
 * connection is suspended and listed in `waiters`; the waker thread resumes
 * it when the data changes, its deadline passes or the faults are cleared. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/alloc-util.h"
#include "basic/hash.h"
#include "basic/time-util.h"
#include "fake.h"

struct request {
        char *upload;
        size_t upload_size;
        bool upload_too_big;
        bool fault_decided;
        struct fake_faults fault; /* what applies to this request (active=false: none) */
        bool delayed;
        bool waited;
        bool suspended;
        uint64_t wake_at_usec; /* 0: no deadline */
        uint64_t generation;   /* data generation when the long-poll started */
        bool wait_for_change;
        bool blackholed;
        struct MHD_Connection *connection;
        struct request *next;
};

static struct request *waiters;

void fake_reply_json(struct fake_reply *r, unsigned status, json_object *o)
{
        r->status = status;
        r->body = strdup(
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        if (!r->body)
                abort();
        r->size = strlen(r->body);
        r->content_type = "application/json";
        r->etag = r->etag || status == MHD_HTTP_OK;
        json_object_put(o);
}

void fake_reply_text(struct fake_reply *r, unsigned status, const char *text)
{
        r->status = status;
        r->body = strdup(text ?: "");
        if (!r->body)
                abort();
        r->size = strlen(r->body);
        r->content_type = "text/plain; charset=utf-8";
        r->etag = r->etag || status == MHD_HTTP_OK;
}

/* Caller holds fake.lock and has marked REQ (delayed, waited, blackholed),
 * so the handler, called again, goes on. While stopping nothing is
 * suspended: libmicrohttpd aborts when stopped with a suspended connection,
 * and a keep-alive client (accountsd's long-poll) asks again at once. */
static void suspend(struct request *req, uint64_t wake_at_usec)
{
        if (fake.stopping)
                return;
        req->wake_at_usec = wake_at_usec;
        req->suspended = true;
        req->next = waiters;
        waiters = req;
        MHD_suspend_connection(req->connection);
        pthread_cond_broadcast(&fake.changed);
}

static bool should_wake(const struct request *req, uint64_t now)
{
        if (req->blackholed)
                return !fake.faults.active || !fake.faults.blackhole;
        if (req->wake_at_usec && now >= req->wake_at_usec)
                return true;
        return req->wait_for_change && req->generation != fake.generation;
}

uint64_t fake_wake_waiters(bool all)
{
        uint64_t now = now_monotonic_usec(), next = 0;
        for (struct request **p = &waiters; *p;) {
                struct request *req = *p;
                if (all || should_wake(req, now)) {
                        *p = req->next;
                        req->suspended = false;
                        MHD_resume_connection(req->connection);
                        continue;
                }
                if (req->wake_at_usec && (!next || req->wake_at_usec < next))
                        next = req->wake_at_usec;
                p = &req->next;
        }
        return next;
}

static void count_request(const char *url)
{
        json_object *n = NULL;
        fake.requests++;
        if (json_object_object_get_ex(fake.path_counts, url, &n))
                json_object_set_int64(n, json_object_get_int64(n) + 1);
        else
                json_object_object_add(fake.path_counts, url, json_object_new_int64(1));
}

static void decide_fault(struct request *req, const char *url)
{
        struct fake_faults *f = &fake.faults;
        req->fault_decided = true;
        if (!f->active || f->count == 0 || strncmp(url, f->path_prefix, strlen(f->path_prefix)) != 0)
                return;
        if (f->fraction > 0 && drand48() >= f->fraction)
                return;
        if (f->count > 0 && --f->count == 0)
                f->active = false;
        req->fault = *f;
        req->fault.active = true;
}

static ssize_t truncated_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct fake_reply *r = cls;
        size_t half = r->size / 2;
        if (pos >= half)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        size_t n = half - pos < max ? half - pos : max;
        memcpy(buf, r->body + pos, n);
        return (ssize_t)n;
}

static void free_reply(void *cls)
{
        struct fake_reply *r = cls;
        free(r->body);
        free(r);
}

static void apply_body_fault(struct fake_reply *r, const char *kind)
{
        static const char wrong_types[] =
                "{\"loginProfiles\":[{\"name\":42,\"posixAccounts\":{\"uid\":[]},\"sshPublicKeys\":[1]}],"
                "\"posixGroups\":\"x\",\"usernames\":7,\"success\":\"true\",\"nextPageToken\":5,"
                "\"instance\":[],\"project\":\"x\"}";
        if (strcmp(kind, "nonjson") == 0) {
                free(r->body);
                r->body = strdup("<html><body>Service Unavailable</body></html>");
        } else if (strcmp(kind, "wrongtypes") == 0) {
                free(r->body);
                r->body = strdup(wrong_types);
        } else if (strcmp(kind, "oversized") == 0) {
                const size_t size = 2u * 1024 * 1024;
                free(r->body);
                r->body = malloc(size + 1);
                if (r->body) {
                        memset(r->body, ' ', size);
                        r->body[0] = '"';
                        r->body[size - 1] = '"';
                        r->body[size] = '\0';
                }
        } else
                return;
        if (!r->body)
                abort();
        r->size = strlen(r->body);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct fake_reply *r,
        const struct fake_faults *fault, const char *method, const char *url)
{
        struct MHD_Response *resp;
        char etag[24];
        unsigned status = r->status;
        const char *content_type = r->content_type ?: "text/plain";
        bool want_etag = r->etag;
        enum MHD_Result ret;

        if (fault && fault->body[0])
                apply_body_fault(r, fault->body);
        snprintf(etag, sizeof(etag), "%016llx", (unsigned long long)fnv1a64(r->body, r->size));
        if (fault && strcmp(fault->body, "truncated") == 0)
                resp = MHD_create_response_from_callback(r->size, 4096, truncated_reader, r, free_reply);
        else
                resp = MHD_create_response_from_buffer(r->size, r->body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
                return MHD_NO;
        if (!(fault && strcmp(fault->body, "truncated") == 0)) {
                r->body = NULL; /* the response owns it now */
                free(r);
        }
        if (!(fault && fault->no_flavor))
                MHD_add_response_header(resp, "Metadata-Flavor", "Google");
        MHD_add_response_header(resp, "Content-Type", content_type);
        MHD_add_response_header(resp, "Server", "oslogin-fake-metadata");
        if (want_etag)
                MHD_add_response_header(resp, "ETag", etag);
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        if (fake.log) {
                fprintf(fake.log, "%s %s %u\n", method, url, status);
                fflush(fake.log);
        }
        return ret;
}

static void route(const char *url, const char *method, struct request *req, struct MHD_Connection *c,
        struct fake_reply *r)
{
        size_t prefix = strlen(FAKE_API_PREFIX);
        const char *path = url + prefix;

        if (strcmp(method, "GET") != 0 && strncmp(path, "/oslogin/authenticate/", 22) != 0)
                return fake_reply_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
        while (*path == '/')
                path++;
        if (strncmp(path, "oslogin/", 8) == 0)
                return fake_serve_oslogin(path + 8, method, req->upload, req->upload_size, c, r);
        fake_serve_tree(path, c, r);
}

static bool wants_long_poll(struct MHD_Connection *c, const char *etag_now, uint64_t *ret_timeout_usec)
{
        const char *last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last_etag");
        const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout_sec");
        long timeout = t ? strtol(t, NULL, 10) : 0;

        if (!fake_query_flag(c, "wait_for_change") || !last || strcmp(last, "NONE") == 0 ||
                strcmp(last, etag_now) != 0)
                return false;
        if (timeout <= 0 || timeout > 3600)
                timeout = 3600;
        *ret_timeout_usec = (uint64_t)timeout * 1000000u;
        return true;
}

static enum MHD_Result handle_api(
        struct MHD_Connection *c, const char *url, const char *method, struct request *req)
{
        struct fake_reply *r;
        enum MHD_Result ret;

        pthread_mutex_lock(&fake.lock);
        if (!req->fault_decided) {
                count_request(url);
                const char *flavor = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Metadata-Flavor");
                if (!flavor || strcmp(flavor, "Google") != 0 ||
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For")) {
                        req->fault_decided = true;
                        pthread_mutex_unlock(&fake.lock);
                        r = calloc(1, sizeof(*r));
                        if (!r)
                                return MHD_NO;
                        fake_reply_text(r, MHD_HTTP_FORBIDDEN, "Missing Metadata-Flavor:Google header.\n");
                        r->etag = false;
                        return send_reply(c, r, NULL, method, url);
                }
                decide_fault(req, url);
        }
        struct fake_faults *f = req->fault.active ? &req->fault : NULL;
        if (f && f->delay_ms && !req->delayed) {
                req->delayed = true;
                suspend(req, now_monotonic_usec() + (uint64_t)f->delay_ms * 1000u);
                pthread_mutex_unlock(&fake.lock);
                return MHD_YES;
        }
        if (f && f->blackhole && !req->blackholed) {
                req->blackholed = true;
                suspend(req, 0);
                pthread_mutex_unlock(&fake.lock);
                return MHD_YES;
        }
        if (f && (f->drop || f->blackhole)) {
                pthread_mutex_unlock(&fake.lock);
                return MHD_NO; /* closes the connection without an answer */
        }
        r = calloc(1, sizeof(*r));
        if (!r)
                abort();
        if (f && f->status) {
                fake_reply_text(r, f->status, "injected failure\n");
                r->etag = false;
        } else
                route(url, method, req, c, r);

        char etag[24];
        uint64_t timeout_usec;
        snprintf(etag, sizeof(etag), "%016llx", (unsigned long long)fnv1a64(r->body, r->size));
        if (r->status == MHD_HTTP_OK && !req->waited && wants_long_poll(c, etag, &timeout_usec)) {
                req->waited = true;
                req->wait_for_change = true;
                req->generation = fake.generation;
                suspend(req, now_monotonic_usec() + timeout_usec);
                pthread_mutex_unlock(&fake.lock);
                free(r->body);
                free(r);
                return MHD_YES;
        }
        pthread_mutex_unlock(&fake.lock);
        ret = send_reply(c, r, f, method, url);
        return ret;
}

static enum MHD_Result handle_control(
        struct MHD_Connection *c, const char *url, const char *method, struct request *req)
{
        struct fake_reply *r = calloc(1, sizeof(*r));
        if (!r)
                abort();
        if (req->upload_too_big)
                fake_reply_text(r, 413, "upload too large\n");
        else {
                pthread_mutex_lock(&fake.lock);
                fake_serve_control(url + strlen("/_fake/"), method, req->upload, req->upload_size, r);
                if (!fake.faults.active || !fake.faults.blackhole)
                        pthread_cond_broadcast(&fake.changed);
                pthread_mutex_unlock(&fake.lock);
        }
        r->etag = false;
        return send_reply(c, r, NULL, method, url);
}

enum MHD_Result fake_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
        struct request *req = *req_cls;
        (void)cls;
        (void)version;

        if (!req) {
                /* The handshake already required a verified client
                 * certificate; this is the check per connection that does
                 * not depend on how libmicrohttpd set GnuTLS up. */
                if (!fake_tls_peer_verified(c)) {
                        if (fake.log) {
                                fprintf(fake.log, "%s %s refused: no verified client certificate\n", method,
                                        url);
                                fflush(fake.log);
                        }
                        return MHD_NO;
                }
                req = calloc(1, sizeof(*req));
                if (!req)
                        return MHD_NO;
                req->connection = c;
                *req_cls = req;
                return MHD_YES;
        }
        if (*upload_data_size) {
                if (req->upload_size + *upload_data_size > FAKE_MAX_UPLOAD)
                        req->upload_too_big = true;
                else {
                        if (GROW_ARRAY(req->upload, NULL, req->upload_size + *upload_data_size + 1) < 0)
                                return MHD_NO;
                        memcpy(req->upload + req->upload_size, upload_data, *upload_data_size);
                        req->upload_size += *upload_data_size;
                        req->upload[req->upload_size] = '\0';
                }
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (strncmp(url, "/_fake/", 7) == 0)
                return handle_control(c, url, method, req);
        if (strncmp(url, FAKE_API_PREFIX, strlen(FAKE_API_PREFIX)) == 0 &&
                (url[strlen(FAKE_API_PREFIX)] == '/' || url[strlen(FAKE_API_PREFIX)] == '\0'))
                return handle_api(c, url, method, req);

        struct fake_reply *r = calloc(1, sizeof(*r));
        if (!r)
                return MHD_NO;
        fake_reply_text(r, MHD_HTTP_NOT_FOUND, "Not Found\n");
        r->etag = false;
        return send_reply(c, r, NULL, method, url);
}

void fake_request_completed(
        void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
        struct request *req = *req_cls;
        (void)cls;
        (void)c;
        (void)toe;
        if (!req)
                return;
        free(req->upload);
        free(req);
        *req_cls = NULL;
}
