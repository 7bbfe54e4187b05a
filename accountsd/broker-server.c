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
#include "accountsd/conn.h"
#include "accountsd/mode.h"
#include "accountsd/worker.h"
#include "basic/local-db.h"
#include "basic/log.h"

enum listener_kind { LISTENER_KEYS, LISTENER_PAM, _LISTENER_MAX };

/* One socket. Its connections (conn.h) each carry their job (conn_data). */
struct listener {
        struct broker_server *server;
        enum listener_kind kind;
        struct conn_server *conns;
        uint64_t answered, refused; /* refused: after the request (the peer, the kind) */
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
        int security_keys;         /* enable-oslogin-sk of the watched document, -1: unknown */
        char *email, *mds_session; /* AUTH_*: the session behind the token */
        int result;
        uint32_t sshd_pid;      /* the sshd session the question is for; 0: unknown */
        uint32_t parent_pid;    /* PAM: the peer's parent (keyboard-interactive runs in a child) */
        uint64_t received_usec; /* CLOCK_MONOTONIC */
        struct broker_outcome outcome;
};

struct broker_server {
        const struct daemon_context *ctx;
        const struct mode *mode; /* the watched document's switches */
        struct listener listeners[_LISTENER_MAX];
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

/* Sends R for KIND; C is closed once it is written. */
static void conn_reply_broker(struct conn *c, enum broker_kind kind, const struct broker_reply *r)
{
        struct listener *l = conn_userdata(c);
        _cleanup_byte_buffer_ struct byte_buffer out = BYTE_BUFFER_INIT(BROKER_REPLY_MAX);

        if (broker_reply_encode(kind, r, &out) < 0) {
                log_error("Cannot encode the %s reply (%s); closing.", broker_kind_to_string(kind),
                        broker_status_to_string(r->status));
                conn_close(c);
                return;
        }
        l->answered++;
        conn_reply(c, out.data, out.size);
}

static void conn_reply_status(
        struct conn *c, enum broker_kind kind, enum broker_status status, const char *message)
{
        struct broker_reply r = {.status = status};
        snprintf(r.message, sizeof(r.message), "%s", message);
        conn_reply_broker(c, kind, &r);
}

static void log_refused_once(
        struct broker_server *s, const struct listener *l, uint32_t uid, const char *what)
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
        s->akc_known = local_db_load(s->ctx->root, &db) >= 0 &&
                       local_db_user_uid(db, s->ctx->config.akc_user, &akc) >= 0 && akc != 0;
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
        struct broker_context ctx = {.root = j->root,
                .sudo_rule = j->sudo_rule,
                .uid_floor = j->uid_floor,
                .source = &source,
                .security_keys = j->security_keys,
                .sshd_pid = j->sshd_pid,
                .received_usec = j->received_usec,
                .outcome = &j->outcome};
        int r = 0;

        broker_source_mds(client, &source);
        /* Read now, for this decision: an account added a second ago is local. */
        if (j->q.kind != BROKER_AUTH_CONTINUE && (r = local_db_load(j->root, &db)) < 0)
                log_error_errno(r, "Cannot read the host's accounts under \"%s\": %m", j->root);
        ctx.local = db;
        switch (j->q.kind) {
        case BROKER_KEYS:
                r = broker_decide_keys(&ctx, &j->facts, &j->q, &j->reply);
                break;
        case BROKER_PRINCIPALS:
                r = broker_decide_principals(&ctx, &j->facts, &j->q, &j->reply);
                break;
        case BROKER_ACCOUNT:
                r = broker_decide_account(&ctx, &j->facts, &j->q, &j->reply);
                break;
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
        default:
                r = -EINVAL;
        }
        j->result = r;
}

/* What the decision learned goes into the shared answers. */
static void share_facts(struct broker_server *s, struct broker_job *j, uint64_t now)
{
        const struct oslogin_config *cfg = &s->ctx->config;
        struct broker_facts *f = &j->facts;

        s->requests += f->requests;
        if (f->profile_learned)
                broker_answers_put_profile(
                        &s->answers, j->q.user, f->profile, f->profile_size, now, cfg->answer_ttl_usec);
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
        r = broker_sessions_add(
                &s->sessions, j->q.user, TAKE_PTR(j->email), TAKE_PTR(j->mds_session), now, &token);
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
                .kind = j->q.kind,
                .status = j->reply.status,
                .user = j->q.user,
                .email = o->email,
                .fingerprint = o->fingerprint,
                .remote = j->q.rhost,
                .message = j->reply.message,
                .two_factor = o->two_factor,
                .sshd_pid = j->sshd_pid,
                .parent_pid = j->parent_pid,
                .n_keys = o->n_keys,
                .admin = o->admin,
                .sudo = o->sudo,
                .now_usec = now_realtime_usec(),
                .latency_usec = now - j->received_usec,
        };

        if (j->result < 0)
                n.status = BROKER_UNAVAILABLE;
        audit_log_note(s->ctx->audit, &n);
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
                struct broker_session *sess =
                        broker_sessions_find(&s->sessions, j->q.session, j->q.user, now);
                if (sess)
                        broker_sessions_remove(&s->sessions, sess);
        }
        if (c) {
                conn_set_data(c, NULL);
                if (j->result < 0) {
                        broker_reply_done(&j->reply);
                        j->reply = (struct broker_reply){.status = BROKER_UNAVAILABLE};
                        snprintf(j->reply.message, sizeof(j->reply.message),
                                "the daemon could not decide (%s)", strerror(-j->result));
                }
                conn_reply_broker(c, j->q.kind, &j->reply);
        }
        audit_job(s, j, now);
        job_free(j);
}

/* A job for Q with what the shared answers know already. */
static int submit(struct conn *c, struct listener *l, struct broker_request *q)
{
        struct broker_server *s = l->server;
        const struct oslogin_config *cfg = &s->ctx->config;
        uint64_t now = now_monotonic_usec();
        struct broker_job *j;
        int r;

        if (worker_pool_queued(s->ctx->pool) >= BROKER_QUEUED_MAX) {
                conn_reply_status(c, q->kind, BROKER_UNAVAILABLE, "the daemon is busy");
                return 0;
        }
        if (!(j = calloc(1, sizeof(*j))))
                return -ENOMEM;
        *j = (struct broker_job){.job = {.run = job_run, .done = job_done, .drop = job_drop},
                .server = s,
                .conn = c,
                .q = *q,
                .uid_floor = cfg->uid_floor,
                .received_usec = now,
                .security_keys = s->mode ? mode_metadata_flag(s->mode, "enable-oslogin-sk") : -1,
                /* The key helper is sshd's child; PAM runs in sshd itself. */
                .sshd_pid = l->kind == LISTENER_KEYS ? peer_parent_pid(conn_pid(c)) : conn_pid(c),
                .parent_pid = l->kind == LISTENER_PAM ? peer_parent_pid(conn_pid(c)) : 0};
        *q = (struct broker_request){}; /* the job owns the certificate and the code now */
        broker_facts_init(&j->facts);
        j->root = strdup(s->ctx->root);
        j->sudo_rule = strdup(cfg->sudo_rule);
        if (!j->root || !j->sudo_rule) {
                job_free(j);
                return -ENOMEM;
        }
        if (j->q.kind == BROKER_AUTH_CONTINUE) {
                struct broker_session *sess =
                        broker_sessions_find(&s->sessions, j->q.session, j->q.user, now);
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
                r = broker_answers_get_profile(
                        &s->answers, j->q.user, now, &j->facts.profile, &j->facts.profile_size);
                if (r < 0) {
                        job_free(j);
                        return r;
                }
                for (int p = 0; p < _BROKER_POLICY_MAX; p++)
                        j->facts.policy[p] = broker_answers_get_policy(&s->answers, j->q.user, p, now);
        }
        conn_set_data(c, j);
        worker_pool_submit(s->ctx->pool, &j->job);
        return 0;
}

static ssize_t frame_request(const uint8_t *in, size_t size)
{
        uint16_t kind;
        uint32_t payload;

        if (size < BROKER_PROTO_HEADER_SIZE)
                return 0;
        if (broker_header_decode(in, false, &kind, &payload) < 0)
                return -EBADMSG;
        if (payload > BROKER_REQUEST_MAX)
                return -EMSGSIZE;
        return size >= BROKER_PROTO_HEADER_SIZE + payload ? (ssize_t)(BROKER_PROTO_HEADER_SIZE + payload)
                                                          : 0;
}

static int on_request(struct conn *c, const uint8_t *in, size_t size, void *userdata)
{
        struct listener *l = userdata;
        struct broker_server *s = l->server;
        struct broker_request q = {};
        uint32_t uid = conn_uid(c);
        int r = broker_request_decode(in, size, &q);

        if (r < 0)
                return r;
        (void)conn_set_deadline(c, s->ctx->config.timeout_usec + BROKER_DECISION_MARGIN_USEC);
        bool peer_ok = l->kind == LISTENER_PAM ? uid == 0 : akc_peer(s, uid);
        if (!peer_ok || !kind_served(l->kind, q.kind)) {
                l->refused++;
                log_refused_once(
                        s, l, uid, peer_ok ? "a request of the wrong kind" : "a peer it does not serve");
                conn_reply_status(c, q.kind, BROKER_REFUSED,
                        peer_ok ? "not served on this socket" : "this peer may not ask here");
                broker_request_done(&q);
                return 0;
        }
        r = submit(c, l, &q);
        broker_request_done(&q);
        return r < 0 ? r : 0;
}

/* The decision finishes; nobody is told. */
static void on_closed(struct conn *c, void *userdata)
{
        struct broker_job *j = conn_data(c);

        (void)userdata;
        if (j)
                j->conn = NULL;
}

static const struct conn_server_ops broker_ops = {
        .request_max = BROKER_PROTO_HEADER_SIZE + BROKER_REQUEST_MAX,
        .read_usec = BROKER_READ_TIMEOUT_MS * 1000ull,
        .frame = frame_request,
        .request = on_request,
        .closed = on_closed,
};

static void apply_limits(struct broker_server *s)
{
        for (int i = 0; i < _LISTENER_MAX; i++)
                if (s->listeners[i].conns)
                        conn_server_set_limits(s->listeners[i].conns, s->ctx->config.max_connections,
                                s->ctx->config.per_uid_connections);
}

int broker_server_new(const struct daemon_context *ctx, const struct mode *mode, struct broker_server **ret)
{
        struct broker_server *s = calloc(1, sizeof(*s));
        static const mode_t modes[_LISTENER_MAX] = {0666, 0600};
        int r = 0;

        if (!s)
                return -ENOMEM;
        s->ctx = ctx;
        s->mode = mode;
        for (int i = 0; i < _LISTENER_MAX; i++)
                s->listeners[i] = (struct listener){.server = s, .kind = i};
        for (int i = 0; i < _LISTENER_MAX && r >= 0; i++) {
                int fd;
                r = listen_socket(ctx->runtime_dir, socket_names[i], modes[i], &fd);
                if (r >= 0)
                        r = conn_server_new(
                                ctx->event, fd, &broker_ops, &s->listeners[i], &s->listeners[i].conns);
        }
        if (r < 0) {
                broker_server_free(s);
                return r;
        }
        apply_limits(s);
        *ret = s;
        return 0;
}

void broker_server_free(struct broker_server *s)
{
        if (!s)
                return;
        /* Open connections are closed first: their jobs lose their conn. */
        for (int i = 0; i < _LISTENER_MAX; i++)
                conn_server_free(s->listeners[i].conns);
        /* Our jobs never finished stay with the stopped pool, which drops them (main.c). */
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
                conn_server_stop_accepting(s->listeners[i].conns);
}

unsigned broker_server_open(const struct broker_server *s)
{
        unsigned n = 0;
        for (int i = 0; s && i < _LISTENER_MAX; i++)
                n += conn_server_open(s->listeners[i].conns);
        return n;
}

void broker_server_status(const struct broker_server *s, FILE *f)
{
        if (!s)
                return;
        for (int i = 0; i < _LISTENER_MAX; i++) {
                const struct listener *l = &s->listeners[i];
                struct conn_server_stats st;
                conn_server_get_stats(l->conns, &st);
                fprintf(f,
                        "broker-%s: accepted %" PRIu64 ", answered %" PRIu64 ", refused %" PRIu64
                        " (per-uid %" PRIu64 ", total %" PRIu64 "), malformed %" PRIu64 ", open %u\n",
                        socket_names[i], st.accepted, l->answered, st.refused + l->refused,
                        st.refused_per_uid, st.refused_total, st.malformed + st.oversized,
                        conn_server_open(l->conns));
        }
        fprintf(f, "broker-decisions: %" PRIu64 ", metadata requests %" PRIu64 "\n", s->decisions,
                s->requests);
        fprintf(f, "broker-answers: %zu users, hits %" PRIu64 ", misses %" PRIu64 "\n", s->answers.n,
                s->answers.hits, s->answers.misses);
        fprintf(f, "broker-2fa-sessions: %zu\n", s->sessions.n);
}
