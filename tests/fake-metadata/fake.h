/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* oslogin-fake-metadata: a metadata server that serves a JSON fixture.
 * One process-wide state guarded by one mutex; requests are short, so a
 * single lock keeps the code obvious and is still far above 10 000 req/s. */

#include <json-c/json.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FAKE_API_PREFIX "/computeMetadata/v1"
#define FAKE_MAX_UPLOAD (8u * 1024 * 1024)

struct fake_faults {
        bool active;
        unsigned delay_ms;
        unsigned status; /* answer this HTTP status instead */
        long count;      /* requests left to affect; < 0: until cleared */
        double fraction; /* probability a matching request is affected; 0 = always */
        char body[16];   /* "", truncated, nonjson, oversized, wrongtypes */
        bool no_flavor;
        bool drop;
        bool blackhole;
        char path_prefix[256];
};

struct fake_directory {
        json_object *users;   /* array of fixture user objects */
        json_object *groups;  /* array of fixture group objects */
        json_object *by_name; /* username -> user, by_uid, by_email: indexes into users */
        json_object *by_uid;
        json_object *by_email;
        json_object *group_by_name;
        json_object *group_by_gid;
};

/* HTTPS mode (--tls-cert, --tls-key, --tls-client-ca): PEM text, NULL for
 * plain HTTP. Every connection must present a client certificate that
 * chains to client_ca, checked in the handshake and again per connection. */
struct fake_tls {
        char *cert, *key, *client_ca;
};

struct fake_state {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        json_object *fixture; /* the whole fixture as loaded */
        json_object *tree;    /* {"instance":…, "project":…} served under /computeMetadata/v1/ */
        struct fake_directory dir;
        uint64_t generation; /* bumped on every data change: wakes long-polls */
        bool stopping;       /* SIGTERM: answer at once, suspend nothing */
        struct fake_faults faults;
        uint64_t requests;
        json_object *path_counts;
        const char *data_path;
        FILE *log;
        struct fake_tls tls; /* set before fake_start(); freed by fake_stop() */
};

extern struct fake_state fake;

/* A prepared answer. body is owned (freed after queueing). */
struct fake_reply {
        unsigned status;
        char *body;
        size_t size;
        const char *content_type;
        bool etag;
};

int fake_load_fixture_file(const char *path, json_object **ret);
int fake_set_data(json_object *fixture); /* takes ownership; caller holds lock */
void fake_directory_free(struct fake_directory *d);

/* tree.c: everything under /computeMetadata/v1/ except oslogin/ */
void fake_serve_tree(const char *path, struct MHD_Connection *c, struct fake_reply *ret);
bool fake_query_flag(struct MHD_Connection *c, const char *key);

/* oslogin.c: /computeMetadata/v1/oslogin/... */
void fake_serve_oslogin(const char *path, const char *method, const char *upload, size_t upload_size,
        struct MHD_Connection *c, struct fake_reply *ret);

/* two-factor.c: oslogin/authenticate/sessions/... (PATH below oslogin/) */
void fake_serve_two_factor(const char *path, const char *method, const char *upload, size_t upload_size,
        struct fake_reply *ret);

/* control.c: /_fake/... */
void fake_serve_control(const char *path, const char *method, const char *upload, size_t upload_size,
        struct fake_reply *ret);

void fake_reply_json(struct fake_reply *r, unsigned status, json_object *o); /* consumes o */
void fake_reply_text(struct fake_reply *r, unsigned status, const char *text);

/* server.c: the MHD callbacks and the waiter list. */
enum MHD_Result fake_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls);
void fake_request_completed(
        void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe);
/* Resumes due waiters (all of them when `all`); returns the next deadline (0: none). Caller holds the lock.
 */
uint64_t fake_wake_waiters(bool all);

/* daemon.c: loads DATA_PATH (kept, for fake_reload()) and serves it on ADDR
 * (port 0: an ephemeral one, see MHD_DAEMON_INFO_BIND_PORT) with THREADS
 * workers, the waker thread beside them. Threads inherit the caller's
 * signal mask. -EBADMSG: the fixture cannot be loaded (reported on
 * stderr); any other error: cannot listen. fake.log may be set before. */
int fake_start(
        const char *data_path, const struct sockaddr_in *addr, unsigned threads, struct MHD_Daemon **ret);
/* Reads PATH (a PEM file) into *RET: 0, or -errno (reported on stderr). */
int fake_read_pem(const char *path, char **ret);
/* Whether the connection's TLS peer presented a certificate that verifies
 * against the client CA (always true over plain HTTP). */
bool fake_tls_peer_verified(struct MHD_Connection *c);
/* Resumes every waiting connection, stops the daemon, frees the data. */
void fake_stop(struct MHD_Daemon *d);
/* Reads fake.data_path again and serves it (SIGHUP). */
int fake_reload(void);
