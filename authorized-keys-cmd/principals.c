/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-authorized-principals USER CERT_BASE64: sshd's
 * AuthorizedPrincipalsCommand (%u %k) for OS Login users. One PRINCIPALS
 * question to accountsd; the principals it grants are printed, one per
 * line. Exit status: see helper.h and oslogin-authorized-keys(8). */

#include <stdio.h>

#include "authorized-keys-cmd/helper.h"
#include "basic/log.h"
#include "basic/version.h"

int main(int argc, char *argv[])
{
        struct broker_request q = {.kind = BROKER_PRINCIPALS};

        helper_setup("oslogin-authorized-principals");
        /* No user name starts with '-': "--version" alone is never sshd's. */
        if (argc == 2 && streq(argv[1], "--version")) {
                version_print("oslogin-authorized-principals");
                return 0;
        }
        if (argc != 3) {
                fprintf(stderr, "Usage: oslogin-authorized-principals USER CERT_BASE64\n");
                return 1;
        }
        if (!valid_user_name(argv[1]) || streq(argv[1], "root")) {
                log_notice("user=(invalid) principals: invalid or reserved user name; no principals");
                return 0;
        }
        if (argv[2][0] == '\0' || !helper_valid_argument(argv[2], BROKER_CERTIFICATE_MAX)) {
                log_notice("user=%s principals: empty, oversized or invalid certificate; no principals",
                        argv[1]);
                return 0;
        }
        strcpy(q.user, argv[1]);
        q.certificate = argv[2];
        return helper_run(&q);
}
