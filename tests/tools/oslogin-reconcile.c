/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-reconcile --root DIR --input DESIRED.json [options]: applies a
 * desired state once, the way oslogin-accountsd does after a metadata
 * change, on the tree under DIR (DIR/etc, DIR/home, DIR/var/lib/...).
 * DESIRED.json is a metadata document ({"instance": {"attributes": {...}},
 * "project": {"attributes": {...}}}, the fake server's fixture shape): its
 * effective ssh-keys are reconciled, or with enable-oslogin true every
 * metadata user is deprovisioned. Used by the golden tests, the kill -9
 * test and the bench. Prints one line of counts and the time taken;
 * exit 0, 1 on error, 2 when some users failed (retry later). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "accounts/keys-reconcile.h"
#include "basic/atomic-file.h"
#include "basic/log.h"
#include "basic/parse-util.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "mds/models.h"
#include "mds/ssh-keys.h"

static void usage(FILE *f)
{
        fputs("usage: oslogin-reconcile --root DIR --input DESIRED.json [--uid-min N] [--uid-max N]\n"
              "       [--groups G1,G2] [--deprovision-remove] [--now USEC] [--quiet]\n",
                f);
}

struct args {
        struct reconcile_options o;
        const char *input;
        uint64_t now_usec;
        bool quiet;
};

static int parse_args(int argc, char **argv, struct args *a)
{
        static const struct option opts[] = {
                {"root", required_argument, NULL, 'r'},
                {"input", required_argument, NULL, 'i'},
                {"uid-min", required_argument, NULL, 'm'},
                {"uid-max", required_argument, NULL, 'M'},
                {"groups", required_argument, NULL, 'g'},
                {"deprovision-remove", no_argument, NULL, 'd'},
                {"now", required_argument, NULL, 'n'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'r':
                        a->o.root = optarg;
                        break;
                case 'i':
                        a->input = optarg;
                        break;
                case 'm':
                        if (safe_atou32(optarg, &a->o.uid_min) < 0)
                                return -EINVAL;
                        break;
                case 'M':
                        if (safe_atou32(optarg, &a->o.uid_max) < 0)
                                return -EINVAL;
                        break;
                case 'g':
                        strv_free(a->o.extra_groups);
                        a->o.extra_groups = strv_split(optarg, ",");
                        if (!a->o.extra_groups)
                                return -ENOMEM;
                        break;
                case 'd':
                        a->o.deprovision_remove = true;
                        break;
                case 'n':
                        if (safe_atou64(optarg, &a->now_usec) < 0)
                                return -EINVAL;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        return -EINVAL;
                }
        if (!a->o.root || !a->input || optind != argc || a->o.uid_min > a->o.uid_max)
                return -EINVAL;
        return 0;
}

int main(int argc, char **argv)
{
        struct args a = {
                .o = {.uid_min = 1000, .uid_max = 60000, .home_base = "/home", .shell = "/bin/bash"}};
        _cleanup_(metadata_document_freep) struct metadata_document *doc = NULL;
        _cleanup_free_ char *json = NULL;
        struct ssh_key_set keys = {};
        struct reconcile_result res = {};
        size_t size;
        int r;

        if (parse_args(argc, argv, &a) < 0) {
                usage(stderr);
                return 1;
        }
        log_open("oslogin-reconcile", LOG_TARGET_STDERR, LOG_DAEMON);
        if (a.quiet)
                log_set_max_level(LOG_ERR);
        if ((r = read_file_bounded(AT_FDCWD, a.input, 64u * 1024 * 1024, &json, &size)) < 0 ||
                (r = metadata_document_parse(json, size, &doc)) < 0) {
                log_error_errno(r, "Cannot read \"%s\": %m", a.input);
                return 1;
        }
        uint64_t start = now_monotonic_usec();
        if (metadata_bool(doc, "enable-oslogin", false))
                r = keys_deprovision_all(&a.o, &res);
        else if ((r = ssh_keys_effective(doc, a.now_usec ?: now_realtime_usec(), &keys)) >= 0) {
                for (size_t i = 0; i < keys.n_rejected; i++)
                        log_warning("Ignoring an ssh-keys line for \"%s\": %s.",
                                keys.rejected[i].user ?: "(invalid name)", keys.rejected[i].reason);
                r = keys_reconcile(&a.o, &keys, &res);
        }
        uint64_t took = now_monotonic_usec() - start;
        ssh_key_set_done(&keys);
        strv_free(a.o.extra_groups);
        if (r < 0) {
                log_error_errno(r, "Reconcile failed: %m");
                return 1;
        }
        printf("created=%u removed=%u keys_written=%u failed=%u refused=%u next_expiry_usec=%llu "
               "usec=%llu\n",
                res.created, res.removed, res.keys_written, res.failed, res.refused,
                (unsigned long long)res.next_expiry_usec, (unsigned long long)took);
        return res.failed ? 2 : 0;
}
