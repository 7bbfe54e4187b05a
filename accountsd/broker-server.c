/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accountsd/broker-answers.h"
#include "accountsd/broker-decide.h"
#include "accountsd/audit.h"
#include "accountsd/broker-peers.h"
#include "accountsd/broker-server.h"
#include "accountsd/broker-sessions.h"
#include "accountsd/mode.h"
#include "accountsd/worker.h"
#include "basic/local-db.h"
#include "basic/log.h"

enum listener_kind { LISTENER_KEYS, LISTENER_PAM, _LISTENER_MAX };

struct listener {
        struct broker_server *server;
        enum listener_kind kind;
        int fd;
        sd_event_source *io;
        struct peer_table peers;
        uint64_t accepted, answered, refused, malformed;
};

struct conn {
        struct listener *listener;
        int fd;
        uint32_t uid;
        uint32_t pid; /* SO_PEERCRED: the audit record joins a login's questions by it */
        sd_event_source *io, *deadline;
        uint8_t header[BROKER_PROTO_HEADER_SIZE];
        uint8_t *in; /* header + payload, once the header is read */
        size_t in_size, in_need;
        struct byte_buffer out;
        size_t out_done;
        struct broker_job *job;
        struct conn *prev, *next;
};

struct broker_job {
        struct job job;
        struct broker_server *server; /* NULL once the server is gone */
        struct conn *conn;            /* NULL once the client is gone */
        struct broker_request q;
        struct broker_facts facts;
        struct broker_reply reply;
        char *root, *sudo_rule;
        uint32_t uid_floor;
        int security_keys; /* enable-oslogin-sk of the watched document, -1: unknown */
        char *email, *mds_session; /* AUTH_*: the session behind the token */
        int result;
        uint32_t sshd_pid;      /* the sshd session the question is for; 0: unknown */
        uint32_t parent_pid;    /* PAM: the peer's parent (keyboard-interactive runs in a child) */
        uint64_t received_usec; /* CLOCK_MONOTONIC */
        struct broker_outcome outcome;
};

struct broker_server {
        struct manager *manager;
        struct listener listeners[_LISTENER_MAX];
        struct conn *conns;
        struct broker_answers answers;
        struct broker_sessions sessions;
        uint32_t akc_uid;
        bool akc_known;
        uint64_t akc_checked;
        struct peer_seen refused_logged;
        uint64_t decisions, requests;
};

static const char *const socket_names[_LISTENER_MAX] = {KEYS_SOCKET_NAME, PAM_SOCKET_NAME};

static void job_free(struct broker_job *j)
{
        broker_request_done(&j->q);
        explicit_bzero(&j->q, sizeof(j->q));
        broker_facts_done(&j->facts);
        broker_reply_done(&j->reply);
        free(j->root);
        free(j->sudo_rule);
        free(j->email);
        if (j->mds_session)
                explicit_bzero(j->mds_session, strlen(j->mds_session));
        free(j->mds_session);
        free(j);
}

/* A decision never finished when the pool is freed (teardown): its
 * connection and server are gone, nobody is told. */
static void job_drop(struct job *job)
{
        job_free((struct broker_job *)job);
}

static void conn_free(struct conn *c)
{
        struct listener *l = c->listener;
        struct broker_server *s = l->server;

        if (c->job)
                c->job->conn = NULL; /* the decision finishes; nobody is told */
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->deadline);
        safe_close(c->fd);
        /* The request may hold a two-factor code. */
        explicit_bzero(c->header, sizeof(c->header));
        if (c->in)
                explicit_bzero(c->in, c->in_need);
        free(c->in);
        byte_buffer_done(&c->out);
        peer_table_release(&l->peers, c->uid);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
}

/* Writes what the socket takes; 1 when all is out. */
static int flush_reply(struct conn *c)
{
        while (c->out_done < c->out.size) {
                ssize_t n = send(c->fd, c->out.data + c->out_done, c->out.size - c->out_done,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                c->out_done += (size_t)n;
        }
        return 1;
}

/* Sends R for KIND and closes when written; frees C on any error. */
static void conn_reply(struct conn *c, enum broker_kind kind, const struct broker_reply *r)
{
        c->out = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);
        if (broker_reply_encode(kind, r, &c->out) < 0) {
                log_error("Cannot encode the %s reply (%s); closing.", broker_kind_to_string(kind),
                          broker_status_to_string(r->status));
                conn_free(c);
                return;
        }
        c->listener->answered++;
        int k = flush_reply(c);
        if (k != 0)
                conn_free(c);
        else
                sd_event_source_set_io_events(c->io, EPOLLOUT);
}

static void conn_reply_status(struct conn *c, enum broker_kind kind, enum broker_status status, const char *message)
{
        struct broker_reply r = {.status = status};
        snprintf(r.message, sizeof(r.message), "%s", message);
        conn_reply(c, kind, &r);
}

static void log_refused_once(struct broker_server *s, const struct listener *l, uint32_t uid, const char *what)
{
        if (peer_seen_before(&s->refused_logged, uid))
                return;
        log_warning("Refused %s from UID %" PRIu32 " on %s (logged once per UID).", what, uid,
                    socket_names[l->kind]);
}

/* Whether UID may ask keys.sock: root, or the AuthorizedKeysCommandUser
 * (looked up in /etc/passwd, again at most once a second while it does
 * not match: the user may be created after the daemon started). */
static bool akc_peer(struct broker_server *s, uint32_t uid)
{
        uint64_t now = now_monotonic_usec();

        if (uid == 0 || (s->akc_known && uid == s->akc_uid))
                return true;
        if (s->akc_checked && now - s->akc_checked < 1000000u)
                return false;
        s->akc_checked = now;
        _cleanup_local_db_ struct local_db *db = NULL;
        uint32_t akc;
        s->akc_known = local_db_load(s->manager->root, &db) >= 0 &&
                       local_db_user_uid(db, s->manager->config.akc_user, &akc) >= 0 && akc != 0;
        if (s->akc_known)
                s->akc_uid = akc;
        return s->akc_known && uid == s->akc_uid;
}

static bool kind_served(enum listener_kind l, enum broker_kind k)
{
        if (l == LISTENER_KEYS)
                return k == BROKER_KEYS || k == BROKER_PRINCIPALS;
        return k == BROKER_ACCOUNT || k == BROKER_AUTH_START || k == BROKER_AUTH_CONTINUE;
}

static void job_run(struct job *job, struct mds_client *client)
{
        struct broker_job *j = (struct broker_job *)job;
        _cleanup_local_db_ struct local_db *db = NULL;
        struct broker_source source;
        struct broker_context ctx = {.root = j->root, .sudo_rule = j->sudo_rule, .uid_floor = j->uid_floor,
                                     .source = &source, .security_keys = j->security_keys,
                                     .sshd_pid = j->sshd_pid, .received_usec = j->received_usec,
                                     .outcome = &j->outcome};
        int r = 0;

        broker_source_mds(client, &source);
        /* Read now, for this decision: an account added a second ago is local. */
        if (j->q.kind != BROKER_AUTH_CONTINUE && (r = local_db_load(j->root, &db)) < 0)
                log_error_errno(r, "Cannot read the host's accounts under \"%s\": %m", j->root);
        ctx.local = db;
        switch (j->q.kind) {
        case BROKER_KEYS: r = broker_decide_keys(&ctx, &j->facts, &j->q, &j->reply); break;
        case BROKER_PRINCIPALS: r = broker_decide_principals(&ctx, &j->facts, &j->q, &j->reply); break;
        case BROKER_ACCOUNT: r = broker_decide_account(&ctx, &j->facts, &j->q, &j->reply); break;
        case BROKER_AUTH_START:
                r = broker_decide_auth_start(&ctx, &j->facts, &j->q, &j->reply, &j->email, &j->mds_session);
                break;
        case BROKER_AUTH_CONTINUE: {
                char *next = NULL;
                r = broker_decide_auth_continue(&ctx, &j->q, j->email, j->mds_session, &j->reply, &next);
                free(j->mds_session);
                j->mds_session = next;
                break;
        }
        default: r = -EINVAL;
        }
        j->result = r;
}

/* What the decision learned goes into the shared answers. */
static void share_facts(struct broker_server *s, struct broker_job *j, uint64_t now)
{
        const struct oslogin_config *cfg = &s->manager->config;
        struct broker_facts *f = &j->facts;

        s->requests += f->requests;
        if (f->profile_learned)
                broker_answers_put_profile(&s->answers, j->q.user, f->profile, f->profile_size, now,
                                           cfg->answer_ttl_usec);
        if (f->policy_learned[BROKER_POLICY_LOGIN])
                broker_answers_put_policy(&s->answers, j->q.user, BROKER_POLICY_LOGIN,
                                          f->policy[BROKER_POLICY_LOGIN], now, cfg->answer_ttl_usec);
        if (f->policy_learned[BROKER_POLICY_ADMIN])
                broker_answers_put_policy(&s->answers, j->q.user, BROKER_POLICY_ADMIN,
                                          f->policy[BROKER_POLICY_ADMIN], now, cfg->admin_ttl_usec);
}

/* AUTH_*: the session behind the token. -errno: the reply becomes UNAVAILABLE. */
static int keep_session(struct broker_server *s, struct broker_job *j, uint64_t now)
{
        struct broker_session *sess = NULL;
        const char *token;
        int r;

        if (j->q.kind == BROKER_AUTH_CONTINUE) {
                sess = broker_sessions_find(&s->sessions, j->q.session, j->q.user, now);
                if (!sess)
                        return -ESTALE;
                sess->busy = false;
                if (j->reply.status != BROKER_CHALLENGE) {
                        broker_sessions_remove(&s->sessions, sess);
                        return 0;
                }
                free(sess->mds_session);
                sess->mds_session = TAKE_PTR(j->mds_session);
                snprintf(j->reply.session, sizeof(j->reply.session), "%s", sess->token);
                return 0;
        }
        if (j->q.kind != BROKER_AUTH_START || j->reply.status != BROKER_CHALLENGE)
                return 0;
        r = broker_sessions_add(&s->sessions, j->q.user, TAKE_PTR(j->email), TAKE_PTR(j->mds_session), now, &token);
        if (r < 0)
                return log_warning_errno(r, "Cannot keep a two-factor session for \"%s\": %m", j->q.user);
        snprintf(j->reply.session, sizeof(j->reply.session), "%s", token);
        return 0;
}

/* The decision, as a note of its login's audit record. */
static void audit_job(struct broker_server *s, const struct broker_job *j, uint64_t now)
{
        const struct broker_outcome *o = &j->outcome;
        struct audit_note n = {
                .kind = j->q.kind, .status = j->reply.status, .user = j->q.user, .email = o->email,
                .fingerprint = o->fingerprint, .remote = j->q.rhost, .message = j->reply.message,
                .two_factor = o->two_factor, .sshd_pid = j->sshd_pid, .parent_pid = j->parent_pid,
                .n_keys = o->n_keys, .admin = o->admin,
                .sudo = o->sudo, .now_usec = now_realtime_usec(), .latency_usec = now - j->received_usec,
        };

        if (j->result < 0)
                n.status = BROKER_UNAVAILABLE;
        audit_log_note(s->manager->audit, &n);
}

static void job_done(struct job *job)
{
        struct broker_job *j = (struct broker_job *)job;
        struct broker_server *s = j->server;
        struct conn *c = j->conn;
        uint64_t now = now_monotonic_usec();

        s->decisions++;
        share_facts(s, j, now);
        if (j->result >= 0 && keep_session(s, j, now) < 0)
                j->result = -ESTALE;
        else if (j->result < 0 && j->q.kind == BROKER_AUTH_CONTINUE) {
                /* Undecided: the flow is over (a busy session would never expire). */
                struct broker_session *sess = broker_sessions_find(&s->sessions, j->q.session, j->q.user, now);
                if (sess)
                        broker_sessions_remove(&s->sessions, sess);
        }
        if (c) {
                c->job = NULL;
                if (j->result < 0) {
                        broker_reply_done(&j->reply);
                        j->reply = (struct broker_reply){.status = BROKER_UNAVAILABLE};
                        snprintf(j->reply.message, sizeof(j->reply.message), "the daemon could not decide (%s)",
                                 strerror(-j->result));
                }
                conn_reply(c, j->q.kind, &j->reply);
        }
        audit_job(s, j, now);
        job_free(j);
}

/* A job for Q with what the shared answers know already. */
static int submit(struct conn *c, struct broker_request *q)
{
        struct broker_server *s = c->listener->server;
        const struct oslogin_config *cfg = &s->manager->config;
        uint64_t now = now_monotonic_usec();
        struct broker_job *j;
        int r;

        if (worker_pool_queued(s->manager->pool) >= BROKER_QUEUED_MAX) {
                conn_reply_status(c, q->kind, BROKER_UNAVAILABLE, "the daemon is busy");
                return 0;
        }
        if (!(j = calloc(1, sizeof(*j))))
                return -ENOMEM;
        *j = (struct broker_job){.job = {.run = job_run, .done = job_done, .drop = job_drop},
                                 .server = s, .conn = c, .q = *q,
                                 .uid_floor = cfg->uid_floor, .received_usec = now,
                                 .security_keys = s->manager->mode ? mode_metadata_flag(s->manager->mode,
                                                                                         "enable-oslogin-sk")
                                                                   : -1,
                                 /* The key helper is sshd's child; PAM runs in sshd itself. */
                                 .sshd_pid = c->listener->kind == LISTENER_KEYS ? peer_parent_pid(c->pid) : c->pid,
                                 .parent_pid = c->listener->kind == LISTENER_PAM ? peer_parent_pid(c->pid) : 0};
        *q = (struct broker_request){}; /* the job owns the certificate and the code now */
        broker_facts_init(&j->facts);
        j->root = strdup(s->manager->root);
        j->sudo_rule = strdup(cfg->sudo_rule);
        if (!j->root || !j->sudo_rule) {
                job_free(j);
                return -ENOMEM;
        }
        if (j->q.kind == BROKER_AUTH_CONTINUE) {
                struct broker_session *sess = broker_sessions_find(&s->sessions, j->q.session, j->q.user, now);
                if (!sess || sess->busy) {
                        conn_reply_status(c, j->q.kind, BROKER_DENIED,
                                          sess ? "a two-factor step is in progress" : "no such two-factor session");
                        job_free(j);
                        return 0;
                }
                if (!(j->email = strdup(sess->email)) || !(j->mds_session = strdup(sess->mds_session))) {
                        job_free(j);
                        return -ENOMEM;
                }
                sess->busy = true;
        } else {
                r = broker_answers_get_profile(&s->answers, j->q.user, now, &j->facts.profile, &j->facts.profile_size);
                if (r < 0) {
                        job_free(j);
                        return r;
                }
                for (int p = 0; p < _BROKER_POLICY_MAX; p++)
                        j->facts.policy[p] = broker_answers_get_policy(&s->answers, j->q.user, p, now);
        }
        c->job = j;
        worker_pool_submit(s->manager->pool, &j->job);
        return 0;
}

static int on_request(struct conn *c)
{
        struct listener *l = c->listener;
        struct broker_server *s = l->server;
        struct broker_request q = {};
        int r = broker_request_decode(c->in, c->in_size, &q);

        explicit_bzero(c->in, c->in_size);
        if (r < 0)
                return r;
        sd_event_source_set_io_events(c->io, 0);
        sd_event_source_set_time_relative(c->deadline, s->manager->config.timeout_usec + BROKER_DECISION_MARGIN_USEC);
        bool peer_ok = l->kind == LISTENER_PAM ? c->uid == 0 : akc_peer(s, c->uid);
        if (!peer_ok || !kind_served(l->kind, q.kind)) {
                l->refused++;
                log_refused_once(s, l, c->uid, peer_ok ? "a request of the wrong kind" : "a peer it does not serve");
                conn_reply_status(c, q.kind, BROKER_REFUSED,
                                  peer_ok ? "not served on this socket" : "this peer may not ask here");
                broker_request_done(&q);
                return 1;
        }
        r = submit(c, &q);
        broker_request_done(&q);
        return r < 0 ? r : 1;
}

/* <0 to close, 1 when C was handed on (and may be freed already), 0 for more. */
static int read_request(struct conn *c)
{
        for (;;) {
                uint8_t *into = c->in ? c->in : c->header;
                ssize_t n = recv(c->fd, into + c->in_size, c->in_need - c->in_size, MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                if (n == 0)
                        return -ECONNRESET;
                c->in_size += (size_t)n;
                if (c->in_size < c->in_need)
                        continue;
                if (!c->in) {
                        uint16_t kind;
                        uint32_t payload;
                        if (broker_header_decode(c->header, false, &kind, &payload) < 0 ||
                            payload > BROKER_REQUEST_MAX)
                                return -EBADMSG;
                        c->in_need = BROKER_PROTO_HEADER_SIZE + payload;
                        if (!(c->in = malloc(c->in_need)))
                                return -ENOMEM;
                        memcpy(c->in, c->header, BROKER_PROTO_HEADER_SIZE);
                        if (payload > 0)
                                continue;
                }
                return on_request(c);
        }
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        struct conn *c = userdata;
        int r;

        (void)src, (void)fd;
        if (c->out.size > 0) {
                if (flush_reply(c) != 0)
                        conn_free(c);
                return 0;
        }
        if (!(revents & EPOLLIN) && (revents & (EPOLLHUP | EPOLLERR))) {
                conn_free(c);
                return 0;
        }
        r = read_request(c);
        if (r < 0) {
                if (r == -EBADMSG)
                        c->listener->malformed++;
                conn_free(c);
        }
        return 0;
}

static int on_conn_deadline(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src, (void)usec;
        conn_free(userdata);
        return 0;
}

static void conn_new(struct listener *l, int cfd)
{
        struct broker_server *s = l->server;
        struct conn *c;
        uint32_t uid;
        int r;

        if (peer_uid(cfd, &uid) < 0 || peer_table_acquire(&l->peers, uid) < 0) {
                l->refused++;
                safe_close(cfd);
                return;
        }
        if (!(c = calloc(1, sizeof(*c)))) {
                peer_table_release(&l->peers, uid);
                safe_close(cfd);
                return;
        }
        *c = (struct conn){.listener = l, .fd = cfd, .uid = uid, .pid = peer_pid(cfd),
                           .in_need = BROKER_PROTO_HEADER_SIZE, .next = s->conns};
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        l->accepted++;
        r = sd_event_add_io(s->manager->event, &c->io, cfd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->manager->event, &c->deadline, CLOCK_MONOTONIC,
                                               BROKER_READ_TIMEOUT_MS * 1000ull, 1000, on_conn_deadline, c);
        if (r < 0)
                conn_free(c);
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        (void)src, (void)revents;
        /* A bounded batch per wake-up, so a flood cannot starve the rest of the loop. */
        for (unsigned i = 0; i < 64; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0;
                conn_new(userdata, cfd);
        }
        return 0;
}

static void apply_limits(struct broker_server *s)
{
        for (int i = 0; i < _LISTENER_MAX; i++) {
                s->listeners[i].peers.max_total = s->manager->config.max_connections;
                s->listeners[i].peers.max_per_uid = s->manager->config.per_uid_connections;
        }
}

int broker_server_new(struct manager *m, struct broker_server **ret)
{
        struct broker_server *s = calloc(1, sizeof(*s));
        static const mode_t modes[_LISTENER_MAX] = {0666, 0600};
        int r = 0;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        for (int i = 0; i < _LISTENER_MAX; i++)
                s->listeners[i] = (struct listener){.server = s, .kind = i, .fd = -EBADF};
        apply_limits(s);
        for (int i = 0; i < _LISTENER_MAX && r >= 0; i++) {
                r = listen_socket(m->runtime_dir, socket_names[i], modes[i], &s->listeners[i].fd);
                if (r >= 0)
                        r = sd_event_add_io(m->event, &s->listeners[i].io, s->listeners[i].fd, EPOLLIN, on_accept,
                                            &s->listeners[i]);
        }
        if (r < 0) {
                broker_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void broker_server_free(struct broker_server *s)
{
        if (!s)
                return;
        while (s->conns)
                conn_free(s->conns);
        /* Our jobs never finished stay with the stopped pool, which drops them (main.c). */
        for (int i = 0; i < _LISTENER_MAX; i++) {
                sd_event_source_disable_unref(s->listeners[i].io);
                safe_close(s->listeners[i].fd);
                peer_table_done(&s->listeners[i].peers);
        }
        broker_answers_clear(&s->answers);
        broker_sessions_clear(&s->sessions);
        free(s);
}

void broker_server_reconfigure(struct broker_server *s)
{
        if (!s)
                return;
        apply_limits(s);
        broker_answers_clear(&s->answers);
        s->akc_known = false;
        s->akc_checked = 0;
}

void broker_server_stop_accepting(struct broker_server *s)
{
        for (int i = 0; s && i < _LISTENER_MAX; i++)
                sd_event_source_set_enabled(s->listeners[i].io, SD_EVENT_OFF);
}

unsigned broker_server_open(const struct broker_server *s)
{
        unsigned n = 0;
        for (int i = 0; s && i < _LISTENER_MAX; i++)
                n += s->listeners[i].peers.total;
        return n;
}

void broker_server_status(const struct broker_server *s, FILE *f)
{
        if (!s)
                return;
        for (int i = 0; i < _LISTENER_MAX; i++) {
                const struct listener *l = &s->listeners[i];
                fprintf(f, "broker-%s: accepted %" PRIu64 ", answered %" PRIu64 ", refused %" PRIu64
                           " (per-uid %" PRIu64 ", total %" PRIu64 "), malformed %" PRIu64 ", open %u\n",
                        socket_names[i], l->accepted, l->answered, l->refused, l->peers.refused_per_uid,
                        l->peers.refused_total, l->malformed, l->peers.total);
        }
        fprintf(f, "broker-decisions: %" PRIu64 ", metadata requests %" PRIu64 "\n", s->decisions, s->requests);
        fprintf(f, "broker-answers: %zu users, hits %" PRIu64 ", misses %" PRIu64 "\n", s->answers.n,
                s->answers.hits, s->answers.misses);
        fprintf(f, "broker-2fa-sessions: %zu\n", s->sessions.n);
}
