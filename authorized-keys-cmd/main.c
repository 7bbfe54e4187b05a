/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-authorized-keys USER [FINGERPRINT]: sshd's AuthorizedKeysCommand
 * for OS Login users.
 *
 * Prints the user's unexpired keys, one per line, only when the metadata
 * server says the user may log in, in at most two requests (profile, then
 * authorize). Anything else (unknown user, denied, server down or broken)
 * prints nothing and exits 0: sshd reads empty output as "no keys".
 * Runs as an unprivileged AuthorizedKeysCommandUser; every decision is
 * logged to LOG_AUTHPRIV as an audit trail. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "basic/log.h"
#include "basic/time-util.h"
#include "basic/valid.h"
#include "mds/config.h"
#include "mds/mds-client.h"
#include "mds/models.h"
#include "mds/oslogin-api.h"
#include "mds/ssh-keys.h"

#define MAX_AUDIT_FINGERPRINTS 1024

struct decision {
        const char *user;
        const char *email;
        const char *verdict; /* "granted", "denied", "unavailable" */
        const char *reason;
        char fingerprints[MAX_AUDIT_FINGERPRINTS];
};

static void audit(const struct decision *d)
{
        log_info("user=%s email=%s decision=%s reason=\"%s\" keys=[%s]", d->user, d->email ?: "-",
                d->verdict, d->reason, d->fingerprints);
}

/* Prints the usable keys (only the one matching WANT_FP, if given). */
static void print_keys(const struct oslogin_profile *p, const char *want_fp, struct decision *d)
{
        uint64_t now = now_realtime_usec();
        size_t printed = 0;

        for (size_t i = 0; i < p->n_keys; i++) {
                _cleanup_free_ char *fp = NULL;
                if (!oslogin_key_usable(&p->keys[i], now) || ssh_key_fingerprint(p->keys[i].key, &fp) < 0)
                        continue;
                if (want_fp && !streq(want_fp, fp))
                        continue;
                if (printf("%s\n", p->keys[i].key) < 0)
                        break; /* sshd closed the pipe: nothing more to say */
                size_t used = strlen(d->fingerprints);
                snprintf(
                        d->fingerprints + used, sizeof(d->fingerprints) - used, "%s%s", used ? " " : "", fp);
                printed++;
        }
        fflush(stdout);
        d->reason = printed   ? "login granted"
                    : want_fp ? "no usable key with that fingerprint"
                              : "no usable key";
}

static int usage(FILE *f, int status)
{
        fprintf(f, "Usage: oslogin-authorized-keys USER [FINGERPRINT]\n"
                   "sshd AuthorizedKeysCommand printing the OS Login keys of USER (see "
                   "oslogin-authorized-keys(8)).\n");
        return status;
}

int main(int argc, char *argv[])
{
        _cleanup_(config_free) struct oslogin_config config = {};
        _cleanup_mds_client_ struct mds_client *client = NULL;
        _cleanup_(oslogin_profile_freep) struct oslogin_profile *profile = NULL;
        struct decision d = {.verdict = "denied"};
        int r;

        signal(SIGPIPE, SIG_IGN);
        /* No options: the arguments come from sshd and the user name is chosen
         * by whoever connects, so "-c…" must never be read as an option. The
         * config file can be moved for tests with OSLOGIN_CONFIG (sshd runs us
         * with a clean environment). Not even --help: it would print to sshd. */
        if (argc < 2 || argc > 3)
                return usage(stderr, 1);
        d.user = argv[1];
        const char *want_fp = argc == 3 ? argv[2] : NULL;

        log_open("oslogin-authorized-keys", LOG_TARGET_SYSLOG, LOG_AUTHPRIV);
        if (config_load(secure_getenv("OSLOGIN_CONFIG"), 0, &config) < 0) {
                fprintf(stderr, "oslogin-authorized-keys: cannot load the configuration, see syslog.\n");
                return 1;
        }
        uint64_t deadline = now_monotonic_usec() + config.akc_deadline_usec;

        if (!valid_user_name(d.user) || streq(d.user, "root")) {
                d.user = "(invalid)";
                d.reason = "invalid or reserved user name";
                audit(&d);
                return 0;
        }
        r = mds_client_new(&config, 0, &client);
        if (r < 0) {
                d.verdict = "unavailable";
                d.reason = "cannot create metadata client";
                audit(&d);
                return 0;
        }
        mds_client_set_deadline(client, deadline);

        r = oslogin_fetch_profile(client, d.user, config.uid_floor, &profile);
        if (r == -ENOENT)
                d.reason = "no such OS Login user";
        else if (r == -EBADMSG)
                d.reason = "invalid profile (or one for another user) from the metadata server";
        else if (r < 0) {
                d.verdict = "unavailable";
                d.reason = "metadata server unavailable";
        }
        if (r < 0) {
                audit(&d);
                return 0;
        }
        d.email = profile->email;

        r = oslogin_authorize(client, profile->email, "login");
        if (r < 0) {
                d.verdict = r == -ENOENT ? "denied" : "unavailable";
                d.reason = "authorize check failed";
        } else if (r == 0)
                d.reason = "login policy denies";
        else {
                d.verdict = "granted";
                print_keys(profile, want_fp, &d);
        }
        audit(&d);
        return 0;
}
