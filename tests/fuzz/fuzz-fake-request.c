/* SPDX-License-Identifier: Apache-2.0 */
/* The fake metadata server's request handling (tests/fake-metadata/).
 *
 * The routes read their query arguments through the libmicrohttpd
 * connection, so the fake runs for real: started once in this process on
 * 127.0.0.1 (ephemeral port) with tests/fixtures/basic.json, and every
 * input is sent as the raw bytes of one connection (method, target,
 * headers, body; several pipelined requests; /_fake/ control requests too).
 *
 * Checks: the first answer (after any 1xx) starts with "HTTP/1.1 " and a
 * 3-digit status; a 200 to a first request under /computeMetadata/v1/
 * carries "Metadata-Flavor: Google", and needs a Metadata-Flavor header
 * somewhere in the input; nothing crashes (ASan/UBSan).
 *
 * Between inputs the fake is put back in the same process: the faults
 * cleared, every suspended connection (long-poll, delay, black hole)
 * resumed until none is left, the fixture reloaded when the data changed.
 * So no input can make the later ones hang or see other data.
 *
 * The fixture: $OSLOGIN_FAKE_FIXTURE, else $OSLOGIN_SRC/tests/fixtures/
 * basic.json (tests/run-tests.sh sets it), else tests/fixtures/basic.json
 * in a parent directory of the binary or of the working directory. */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/fake-metadata/fake.h"

#define IDLE_MS 200         /* no byte moved for this long: the exchange is over */
#define BOUNDARY_MS 3       /* the same, right after a complete answer (see answers_complete) */
#define EXCHANGE_MS 1000    /* and never longer than this */
#define ANSWER_KEEP 65536   /* bytes of the answer kept for the checks */
#define SETTLE_MS 5000      /* the fake must be idle this soon after an exchange */
#define STATS_RESET 100000u /* forget the per-path counters after this many requests */

static struct MHD_Daemon *daemon_handle;
static struct sockaddr_in server;
static char *fixture_path;
static uint64_t clean_generation; /* fake.generation right after the fixture was loaded */

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *fixture_in_parents(const char *start)
{
        char dir[PATH_MAX], *path;

        if (!realpath(start, dir))
                return NULL;
        for (;;) {
                if (asprintf(&path, "%s/tests/fixtures/basic.json", dir) < 0)
                        return NULL;
                if (access(path, R_OK) == 0)
                        return path;
                free(path);
                char *slash = strrchr(dir, '/');
                if (!slash || slash == dir)
                        return NULL;
                *slash = '\0';
        }
}

static char *find_fixture(void)
{
        const char *env = secure_getenv("OSLOGIN_FAKE_FIXTURE");
        char exe[PATH_MAX], *path;
        ssize_t n;

        if (env)
                return strdup(env);
        env = secure_getenv("OSLOGIN_SRC");
        if (env && asprintf(&path, "%s/tests/fixtures/basic.json", env) >= 0) {
                if (access(path, R_OK) == 0)
                        return path;
                free(path);
        }
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                *strrchr(exe, '/') = '\0';
                if ((path = fixture_in_parents(exe)))
                        return path;
        }
        return fixture_in_parents(".");
}

static void stop(void)
{
        fake_stop(daemon_handle);
        free(fixture_path);
}

static void start(void)
{
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        const union MHD_DaemonInfo *info;
        int r;

        fixture_path = find_fixture();
        if (!fixture_path) {
                fprintf(stderr, "fuzz-fake-request: tests/fixtures/basic.json not found "
                                "(set OSLOGIN_FAKE_FIXTURE or OSLOGIN_SRC)\n");
                abort();
        }
        fake.log = NULL;
        r = fake_start(fixture_path, &addr, 2, &daemon_handle);
        if (r < 0) {
                fprintf(stderr, "fuzz-fake-request: cannot start the fake with %s: %s\n", fixture_path,
                        strerror(-r));
                abort();
        }
        info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
        if (!info || !info->port)
                abort();
        server = addr;
        server.sin_port = htons(info->port);
        clean_generation = fake.generation;
        atexit(stop);
}

static const char *find_bytes(const char *hay, size_t size, const char *needle, bool ignore_case)
{
        size_t n = strlen(needle);
        for (size_t i = 0; n <= size && i <= size - n; i++)
                if (ignore_case ? strncasecmp(hay + i, needle, n) == 0 : memcmp(hay + i, needle, n) == 0)
                        return hay + i;
        return NULL;
}

/* Whether ANSWER ends with a complete answer (head and Content-Length
 * body). libmicrohttpd may keep a half-closed keep-alive connection open
 * after its answer, so waiting for the close would cost IDLE_MS per input;
 * after a complete answer only BOUNDARY_MS is left for a pipelined next
 * one. An answer with "Connection: close" is complete when it closes. */
static bool answers_complete(const char *answer, size_t n)
{
        const char *p = answer, *end = answer + n;

        while (p < end) {
                const char *head_end = find_bytes(p, (size_t)(end - p), "\r\n\r\n", false);
                const char *length;
                unsigned long body;

                if (!head_end)
                        return false;
                length = find_bytes(p, (size_t)(head_end - p), "\r\nContent-Length:", true);
                if (!length || find_bytes(p, (size_t)(head_end - p), "\r\nConnection: close", true))
                        return false;
                body = strtoul(length + 17, NULL, 10);
                if (body > (unsigned long)(end - head_end - 4))
                        return false;
                p = head_end + 4 + body;
        }
        return true;
}

/* Sends DATA on a new connection, half-closes it and reads the answer
 * until the server closes or nothing moves for a while. Returns the number
 * of answer bytes kept in ANSWER. */
static size_t exchange(const uint8_t *data, size_t size, char *answer, size_t answer_max)
{
        struct linger no_linger = {.l_onoff = 1, .l_linger = 0};
        uint64_t deadline = now_ms() + EXCHANGE_MS;
        size_t sent = 0, kept = 0;
        char scratch[4096];
        int fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
                fprintf(stderr, "fuzz-fake-request: cannot connect to the fake: %m\n");
                abort();
        }
        /* Closed with a reset: no TIME_WAIT per input on either side. */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
        if (size == 0)
                shutdown(fd, SHUT_WR);
        for (;;) {
                struct pollfd p = {.fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0)};
                uint64_t now = now_ms();
                if (now >= deadline)
                        break;
                uint64_t idle = sent == size && answers_complete(answer, kept) ? BOUNDARY_MS : IDLE_MS;
                int n = poll(&p, 1, (int)(deadline - now < idle ? deadline - now : idle));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (p.revents & POLLOUT) {
                        ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (w > 0)
                                sent += (size_t)w;
                        else if (w < 0 && errno != EAGAIN && errno != EINTR)
                                sent = size; /* the server closed: read what it said */
                        if (sent == size)
                                shutdown(fd, SHUT_WR);
                }
                if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
                        char *to = kept < answer_max ? answer + kept : scratch;
                        size_t room = kept < answer_max ? answer_max - kept : sizeof(scratch);
                        ssize_t r = recv(fd, to, room, MSG_DONTWAIT);
                        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                                break;
                        if (r > 0 && to != scratch)
                                kept += (size_t)r;
                }
        }
        close(fd);
        return kept;
}

static unsigned open_connections(void)
{
        const union MHD_DaemonInfo *info =
                MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        return info ? info->num_connections : 0;
}

/* Puts the fake back as it was before the input: see the top comment. */
static void reset(void)
{
        uint64_t deadline = now_ms() + SETTLE_MS;

        for (;;) {
                pthread_mutex_lock(&fake.lock);
                memset(&fake.faults, 0, sizeof(fake.faults));
                fake_wake_waiters(true);
                pthread_mutex_unlock(&fake.lock);
                if (open_connections() == 0)
                        break;
                if (now_ms() > deadline) {
                        fprintf(stderr,
                                "fuzz-fake-request: %u connection(s) still open %d ms after the input\n",
                                open_connections(), SETTLE_MS);
                        abort();
                }
                usleep(100);
        }
        pthread_mutex_lock(&fake.lock);
        bool changed = fake.generation != clean_generation;
        if (fake.requests > STATS_RESET) {
                fake.requests = 0;
                json_object_put(fake.path_counts);
                fake.path_counts = json_object_new_object();
        }
        pthread_mutex_unlock(&fake.lock);
        if (changed) {
                if (fake_reload() < 0)
                        abort();
                clean_generation = fake.generation;
        }
}

/* Whether the first request line's target is under /computeMetadata/v1/. */
static bool first_target_is_api(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size, *target;
        size_t prefix = strlen(FAKE_API_PREFIX);

        while (p < end && (*p == '\r' || *p == '\n'))
                p++;
        while (p < end && *p != ' ' && *p != '\r' && *p != '\n')
                p++;
        if (p >= end || *p != ' ')
                return false;
        target = p + 1;
        return (size_t)(end - target) > prefix && memcmp(target, FAKE_API_PREFIX, prefix) == 0 &&
               (target[prefix] == '/' || target[prefix] == '?' || target[prefix] == ' ');
}

static void fail(const char *what, const char *answer, size_t size)
{
        fprintf(stderr, "fuzz-fake-request: %s; answer (%zu bytes): %.*s\n", what, size,
                (int)(size < 400 ? size : 400), answer);
        abort();
}

static void check_answer(const uint8_t *data, size_t size, const char *answer, size_t n)
{
        const char *p = answer, *end = answer + n, *head_end;
        unsigned status;

        if (n == 0)
                return; /* closed without an answer (e.g. a malformed request): allowed */
        for (;;) {
                if (end - p < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[9] < '1' || p[9] > '5' ||
                        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' || p[12] != ' ')
                        fail("the answer does not start with \"HTTP/1.1 NNN \"", answer, n);
                status = (unsigned)(p[9] - '0') * 100 + (unsigned)(p[10] - '0') * 10 +
                         (unsigned)(p[11] - '0');
                head_end = find_bytes(p, (size_t)(end - p), "\r\n\r\n", false);
                if (status >= 200 || !head_end || head_end + 4 == end)
                        break;
                p = head_end + 4; /* 100 Continue: the real answer follows */
        }
        if (status != 200 || !first_target_is_api(data, size))
                return;
        if (!head_end)
                fail("a 200 answer without the end of its header", answer, n);
        if (!find_bytes(p, (size_t)(head_end + 2 - p), "\r\nMetadata-Flavor: Google\r\n", false))
                fail("a 200 answer under " FAKE_API_PREFIX "/ without Metadata-Flavor: Google", answer, n);
        if (!find_bytes((const char *)data, size, "Metadata-Flavor", true))
                fail("a 200 answer under " FAKE_API_PREFIX "/ to a request without Metadata-Flavor", answer,
                        n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char answer[ANSWER_KEEP];
        size_t n;

        if (!daemon_handle)
                start();
        n = exchange(data, size, answer, sizeof(answer));
        reset();
        if (secure_getenv("FUZZ_FAKE_SHOW")) /* to look at what the seeds get */
                fprintf(stderr, "--- %zu answer bytes:\n%.*s\n", n, (int)n, answer);
        check_answer(data, size, answer, n);
        return 0;
}
