/* SPDX-License-Identifier: Apache-2.0 */
/* sudoers-tool ROOT grant USER UID [RULE] | uid USER | revoke USER | list | include:
 * lib/accounts/sudoers.c from the shell, for the integration tests. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "basic/parse-util.h"
#include "basic/strv.h"
#include "accounts/sudoers.h"

int main(int argc, char *argv[])
{
        int r = -EINVAL;

        if (argc >= 5 && argc <= 6 && streq(argv[2], "grant")) {
                uint32_t uid;
                r = safe_atou32(argv[4], &uid);
                if (r >= 0)
                        r = sudoers_grant(argv[1], NULL, argv[3], uid, argc > 5 ? argv[5] : NULL);
        } else if (argc == 4 && streq(argv[2], "uid")) {
                uint32_t uid;
                r = sudoers_granted_uid(argv[1], argv[3], &uid);
                if (r >= 0) {
                        printf("%" PRIu32 "\n", uid);
                        return 0;
                }
        } else if (argc == 4 && streq(argv[2], "revoke"))
                r = sudoers_revoke(argv[1], argv[3]);
        else if (argc == 3 && streq(argv[2], "include"))
                r = sudoers_ensure_include(argv[1], NULL);
        else if (argc == 3 && streq(argv[2], "list")) {
                char **users = NULL;
                r = sudoers_list(argv[1], &users);
                for (char **u = users; u && *u; u++)
                        printf("%s\n", *u);
                strv_free(users);
                return r < 0;
        } else {
                fprintf(stderr,
                        "usage: %s ROOT grant USER UID [RULE] | uid USER | revoke USER | list | include\n",
                        argv[0]);
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "sudoers-tool: %s\n", strerror(-r));
                return 1;
        }
        printf("%s\n", r > 0 ? "changed" : "unchanged");
        return 0;
}
