/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-authorized-keys USER [FINGERPRINT]: sshd's AuthorizedKeysCommand
 * for OS Login users. One KEYS question to accountsd (which asks the
 * metadata server, checks the name against the host's accounts and logs
 * the decision); the keys it grants are printed, one per line. Exit
 * status: see helper.h and oslogin-authorized-keys(8). */

#include <stdio.h>
#include <string.h>

#include "authorized-keys-cmd/helper.h"
#include "basic/log.h"
#include "basic/version.h"

int main(int argc, char *argv[])
{
        struct broker_request q = {.kind = BROKER_KEYS};

        helper_setup("oslogin-authorized-keys");
        /* The one exception: no user name starts with '-' (valid_user_name),
         * so "--version" alone can never be a login name sshd passes. */
        if (argc == 2 && streq(argv[1], "--version")) {
                version_print("oslogin-authorized-keys");
                return 0;
        }
        /* No options: the arguments come from sshd and the user name is
         * chosen by whoever connects, so "-c…" must never be read as an
         * option. Not even --help: it would print to sshd. */
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "Usage: oslogin-authorized-keys USER [FINGERPRINT]\n");
                return 1;
        }
        /* A name no OS Login account can have, or root: no keys, for sure. */
        if (!valid_user_name(argv[1]) || streq(argv[1], "root")) {
                log_notice("user=(invalid) keys: invalid or reserved user name; no keys");
                return 0;
        }
        strcpy(q.user, argv[1]);
        if (argc == 3) {
                /* No key has such a fingerprint: the answer is "none". */
                if (!helper_valid_argument(argv[2], BROKER_MESSAGE_MAX)) {
                        log_notice("user=%s keys: invalid fingerprint; no keys", q.user);
                        return 0;
                }
                strcpy(q.fingerprint, argv[2]);
        }
        return helper_run(&q);
}
