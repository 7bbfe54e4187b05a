/* SPDX-License-Identifier: Apache-2.0 */
/* Starting and stopping the fake: the state, the libmicrohttpd daemon and
 * the waker thread. Shared by main.c and tests/fuzz/fuzz-fake-request.c. */

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/time-util.h"
#include "fake.h"

struct fake_state fake = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};

static pthread_t waker_thread;

static void *waker(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&fake.lock);
        while (!fake.stopping) {
                uint64_t next = fake_wake_waiters(false);
                uint64_t now = now_monotonic_usec();
                uint64_t until = next && next > now ? next : now + 1000000u;
                if (next && next <= now)
                        continue;
                struct timespec ts = {
                        .tv_sec = (time_t)(until / 1000000u), .tv_nsec = (long)(until % 1000000u) * 1000};
                pthread_cond_timedwait(&fake.changed, &fake.lock, &ts);
        }
        fake_wake_waiters(true);
        pthread_mutex_unlock(&fake.lock);
        return NULL;
}

int fake_reload(void)
{
        json_object *o;
        int r = fake_load_fixture_file(fake.data_path, &o);
        if (r < 0)
                return r;
        pthread_mutex_lock(&fake.lock);
        r = fake_set_data(o);
        pthread_mutex_unlock(&fake.lock);
        return r;
}

int fake_read_pem(const char *path, char **ret)
{
        FILE *f = fopen(path, "re");
        char *buf;
        size_t n;

        if (!f) {
                fprintf(stderr, "oslogin-fake-metadata: %s: %m\n", path);
                return -errno;
        }
        buf = calloc(1, 256 * 1024 + 1);
        n = buf ? fread(buf, 1, 256 * 1024, f) : 0;
        fclose(f);
        if (!buf || n == 0 || n == 256 * 1024) {
                fprintf(stderr, "oslogin-fake-metadata: %s: empty, unreadable or over 256 KiB\n", path);
                free(buf);
                return -EINVAL;
        }
        *ret = buf;
        return 0;
}

static gnutls_session_t tls_session(struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        return ci ? (gnutls_session_t)ci->tls_session : NULL;
}

/* Before the handshake: libmicrohttpd only asks for a client certificate
 * (GNUTLS_CERT_REQUEST) and lets one without a certificate through. Make it
 * required and verified by GnuTLS against the client CA, so such a client
 * fails in the handshake. */
static void notify_connection(
        void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
        gnutls_session_t s;
        (void)cls;
        (void)socket_context;
        if (code != MHD_CONNECTION_NOTIFY_STARTED || !fake.tls.cert || !(s = tls_session(c)))
                return;
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(s, NULL, 0);
}

bool fake_tls_peer_verified(struct MHD_Connection *c)
{
        gnutls_session_t s;
        unsigned status = 1;

        if (!fake.tls.cert)
                return true;
        s = tls_session(c);
        return s && gnutls_certificate_type_get(s) == GNUTLS_CRT_X509 &&
               gnutls_certificate_verify_peers2(s, &status) == GNUTLS_E_SUCCESS && status == 0;
}

static void free_tls(void)
{
        free(fake.tls.cert);
        free(fake.tls.key);
        free(fake.tls.client_ca);
        memset(&fake.tls, 0, sizeof(fake.tls));
}

static void free_data(void)
{
        fake_directory_free(&fake.dir);
        json_object_put(fake.tree);
        json_object_put(fake.fixture);
        json_object_put(fake.path_counts);
        fake.tree = fake.fixture = fake.path_counts = NULL;
}

int fake_start(
        const char *data_path, const struct sockaddr_in *addr, unsigned threads, struct MHD_Daemon **ret)
{
        pthread_condattr_t cattr;
        struct MHD_Daemon *d;
        int r;

        pthread_condattr_init(&cattr);
        pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
        pthread_cond_init(&fake.changed, &cattr);
        pthread_condattr_destroy(&cattr);
        fake.data_path = data_path;
        fake.path_counts = json_object_new_object();
        srand48((long)time(NULL));
        if (fake_reload() < 0) {
                json_object_put(fake.path_counts);
                fake.path_counts = NULL;
                return -EBADMSG;
        }

        struct MHD_OptionItem tls[] = {
                {MHD_OPTION_HTTPS_MEM_CERT, 0, fake.tls.cert},
                {MHD_OPTION_HTTPS_MEM_KEY, 0, fake.tls.key},
                {MHD_OPTION_HTTPS_MEM_TRUST, 0, fake.tls.client_ca},
                {MHD_OPTION_END, 0, NULL},
        };
        bool https = fake.tls.cert && fake.tls.key && fake.tls.client_ca;
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                                     MHD_USE_ERROR_LOG | (https ? MHD_USE_TLS : 0),
                0, NULL, NULL, fake_handle, NULL, MHD_OPTION_ARRAY, https ? tls : tls + 3,
                MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL, MHD_OPTION_SOCK_ADDR,
                (const struct sockaddr *)addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
                MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_CONNECTION_TIMEOUT, 600u,
                MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_NOTIFY_COMPLETED, fake_request_completed,
                NULL, MHD_OPTION_END);
        if (!d) {
                r = errno > 0 && errno != EBADMSG ? -errno : -EIO;
                free_data();
                free_tls();
                return r;
        }
        fake.stopping = false;
        pthread_create(&waker_thread, NULL, waker, NULL);
        *ret = d;
        return 0;
}

void fake_stop(struct MHD_Daemon *d)
{
        pthread_mutex_lock(&fake.lock);
        fake.stopping = true;
        pthread_cond_broadcast(&fake.changed);
        pthread_mutex_unlock(&fake.lock);
        pthread_join(waker_thread, NULL);
        /* The waker resumed every waiting connection; with fake.stopping set
         * none is suspended again (a keep-alive client such as accountsd's
         * long-poll asks again at once), since libmicrohttpd aborts when
         * stopped with a suspended connection. */
        MHD_stop_daemon(d);
        free_data();
        free_tls();
}
