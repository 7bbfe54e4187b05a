/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The fake metadata server (tests/fake-metadata/) for unit tests of the
 * daemon's parts: started from the build tree beside the test program,
 * on a free loopback port, serving a fixture the test writes; its control
 * interface (/_fake/..., doc/fake-metadata.md) spoken with plain sockets.
 * Include after unit.h. Call these from the test's main thread only. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mds/config.h"

struct fake_mds {
        pid_t pid;
        unsigned port;
};

/* One request to the control interface (no Metadata-Flavor): the HTTP
 * status, and the body in RET (may be NULL); -errno when unreachable. */
static inline int fake_mds_http(const struct fake_mds *f, const char *method, const char *path,
        const char *body, char *ret, size_t size)
{
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
        char buf[4096];
        size_t n = 0;
        ssize_t k;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status = -1;

        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        int len = snprintf(buf, sizeof(buf),
                "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n%s", method, path,
                body ? strlen(body) : 0, body ?: "");
        if (write(fd, buf, (size_t)len) != len) {
                close(fd);
                return -EIO;
        }
        while (n < sizeof(buf) - 1 && (k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
                n += (size_t)k;
        close(fd);
        buf[n] = '\0';
        if (sscanf(buf, "HTTP/%*s %d", &status) != 1)
                return -EBADMSG;
        const char *b = strstr(buf, "\r\n\r\n");
        if (ret)
                snprintf(ret, size, "%s", b ? b + 4 : "");
        return status;
}

/* How many metadata requests the fake has answered. */
static inline unsigned fake_mds_requests(const struct fake_mds *f)
{
        char body[2048];
        unsigned n = 0;
        assert_int_equal(fake_mds_http(f, "GET", "/_fake/stats", NULL, body, sizeof(body)), 200);
        const char *p = strstr(body, "\"requests\"");
        assert_non_null(p);
        assert_int_equal(sscanf(p, "\"requests\":%u", &n), 1); /* %u skips the blanks */
        return n;
}

/* Writes FIXTURE to DIR/fixture.json and serves it (the fake's own log:
 * DIR/fake.log). 0, or -1 with a line on stderr. */
static inline int fake_mds_start(const char *dir, const char *fixture, struct fake_mds *ret)
{
        char exe[PATH_MAX], fake[PATH_MAX + 64], listen_at[32], data[PATH_MAX], log[PATH_MAX];
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t len = sizeof(a);
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        FILE *out;
        int fd;

        *ret = (struct fake_mds){.pid = -1};
        snprintf(data, sizeof(data), "%s/fixture.json", dir);
        snprintf(log, sizeof(log), "%s/fake.log", dir);
        if (n <= 0 || !(out = fopen(data, "we")))
                return -1;
        fputs(fixture, out);
        if (fclose(out) != 0)
                return -1;
        exe[n] = '\0';
        /* BUILD/tests/unit/test-X → BUILD/tests/fake-metadata/oslogin-fake-metadata */
        *strrchr(exe, '/') = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(fake, sizeof(fake), "%s/fake-metadata/oslogin-fake-metadata", exe);
        /* A free port: the kernel picks one, the fake takes it over. */
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
                getsockname(fd, (struct sockaddr *)&a, &len) < 0)
                return -1;
        close(fd);
        ret->port = ntohs(a.sin_port);
        snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%u", ret->port);
        fflush(NULL);
        ret->pid = fork();
        if (ret->pid < 0)
                return -1;
        if (ret->pid == 0) {
                /* Its lines stay out of our TAP output. */
                int log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
                if (log_fd < 0 || dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)
                        _exit(127);
                execl(fake, fake, "--listen", listen_at, "--data", data, "--log", log, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 400; i++) {
                if (fake_mds_http(ret, "GET", "/_fake/stats", NULL, NULL, 0) == 200)
                        return 0;
                usleep(25000);
        }
        fprintf(stderr, "# %s did not start (see %s)\n", fake, log);
        return -1;
}

static inline void fake_mds_stop(struct fake_mds *f)
{
        if (f->pid > 0) {
                kill(f->pid, SIGTERM);
                waitpid(f->pid, NULL, 0);
        }
        f->pid = -1;
}

/* http://127.0.0.1:PORT/computeMetadata/v1/ and plain HTTP for CONFIG,
 * with no credentials (under DIR) to switch to HTTPS. */
static inline int fake_mds_configure(
        const struct fake_mds *f, const char *dir, struct oslogin_config *config)
{
        char url[64];

        snprintf(url, sizeof(url), "http://127.0.0.1:%u/computeMetadata/v1/", f->port);
        free(config->url);
        free(config->credentials_directory);
        free(config->state_directory);
        config->url = strdup(url);
        config->credentials_directory = strdup(dir);
        config->state_directory = strdup(dir);
        config->transport = MDS_TRANSPORT_HTTP;
        return config->url && config->credentials_directory && config->state_directory ? 0 : -1;
}
