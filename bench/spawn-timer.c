/* SPDX-License-Identifier: Apache-2.0 */
/* spawn-timer N LABEL CMD [ARG...] [--- LABEL CMD [ARG...]]...
 *
 * Wall time of whole commands, as a caller that spawns them sees it: each
 * command is posix_spawn()ed with stdin and stdout on /dev/null (stderr
 * kept, so failures show) and waited for. The commands take turns (one
 * round runs each once) so that load from other processes on the machine
 * falls on all of them alike; 3 rounds of warm-up are not counted. Prints
 * one line per command:
 *   label=L n=N median_us=… p90_us=… p99_us=… min_us=… max_us=… failed=F
 * Exits 1 if any run exited non-zero or was killed. Timing with a shell's
 * `date` would add a fork+exec of its own to every sample. */

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/macro.h"

#define WARMUP 3
#define MAX_COMMANDS 16

extern char **environ;

struct command {
        const char *label;
        char **argv;
        double *us;
        unsigned failed;
};

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least Q of them at or below it. */
static double percentile(const double *sorted, unsigned n, double q)
{
        unsigned rank = (unsigned)(q * n + 0.999999);
        return sorted[rank ? rank - 1 : 0];
}

/* Runs ARGV once; returns its wall time in microseconds, or a negative
 * number if it could not be run or did not exit 0. */
static double run_once(char **argv, const posix_spawn_file_actions_t *fa)
{
        pid_t pid;
        int status;
        double t0 = now_us();
        int r = posix_spawnp(&pid, argv[0], fa, NULL, argv, environ);
        if (r != 0) {
                fprintf(stderr, "spawn-timer: cannot run %s: %s\n", argv[0], strerror(r));
                return -1;
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        double t = now_us() - t0;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -t;
}

int main(int argc, char *argv[])
{
        struct command cmds[MAX_COMMANDS] = {};
        unsigned n_cmds = 0, n;
        char *end;
        posix_spawn_file_actions_t fa;
        int ret = 0;

        if (argc < 4 || (n = strtoul(argv[1], &end, 10)) == 0 || *end || n > 1000000) {
                fprintf(stderr, "Usage: spawn-timer N LABEL CMD [ARG...] [--- LABEL CMD [ARG...]]...\n");
                return 2;
        }
        for (int i = 2; i < argc; i++) {
                if (n_cmds == MAX_COMMANDS || i + 1 >= argc || streq(argv[i + 1], "---")) {
                        fprintf(stderr, "spawn-timer: each group needs a label and a command (at most %d)\n",
                                MAX_COMMANDS);
                        return 2;
                }
                struct command *c = &cmds[n_cmds++];
                c->label = argv[i];
                c->argv = &argv[i + 1];
                int j = i + 1;
                while (j < argc && !streq(argv[j], "---"))
                        j++;
                argv[j < argc ? j : argc] = NULL; /* argv[argc] is NULL already */
                c->us = calloc(n, sizeof(double));
                if (!c->us)
                        return 2;
                i = j;
        }

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

        for (unsigned round = 0; round < WARMUP + n; round++)
                for (unsigned k = 0; k < n_cmds; k++) {
                        double t = run_once(cmds[k].argv, &fa);
                        if (t < 0)
                                cmds[k].failed++;
                        if (round >= WARMUP)
                                cmds[k].us[round - WARMUP] = t < 0 ? -t : t;
                }

        for (unsigned k = 0; k < n_cmds; k++) {
                struct command *c = &cmds[k];
                qsort(c->us, n, sizeof(double), cmp_double);
                printf("label=%s n=%u median_us=%.0f p90_us=%.0f p99_us=%.0f min_us=%.0f max_us=%.0f "
                       "failed=%u\n",
                        c->label, n, percentile(c->us, n, 0.5), percentile(c->us, n, 0.9),
                        percentile(c->us, n, 0.99), c->us[0], c->us[n - 1], c->failed);
                if (c->failed)
                        ret = 1;
                free(c->us);
        }
        posix_spawn_file_actions_destroy(&fa);
        return ret;
}
