/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <security/pam_modules.h>
#include <stdbool.h>

#include "mds/mds-client.h"

struct pam_oslogin_args {
        bool debug;
        bool twofactor;
        const char *config_path; /* config=PATH; NULL: /etc/oslogin/oslogin.conf */
};

/* The two-factor challenge flow for EMAIL over the PAM conversation: a PAM
 * return code (PAM_SUCCESS only on an AUTHENTICATED answer). */
int pam_oslogin_two_factor(pam_handle_t *pamh, int flags, const struct pam_oslogin_args *args,
        struct mds_client *client, const char *email);
