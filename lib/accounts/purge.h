/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Revocation when the product is removed (osloginctl revoke, run by the
 * packages' prerm/%preun once the daemon is stopped and deactivate ran):
 * everything the accounts daemon granted is taken back, so no managed user
 * keeps a working key or sudo right once it is gone:
 *   - the managed ("# Added by Google") key pairs of every managed user's
 *     authorized_keys (the user's own lines stay);
 *   - google-sudoers membership of every managed user, and for the
 *     accounts we created the configured [accounts] groups (a local account
 *     keeps them: nothing records whether it had them before);
 *   - /etc/sudoers.d/google_sudoers, the OS Login admins' drop-ins under
 *     /var/lib/oslogin/sudoers.d and their include /etc/sudoers.d/oslogin;
 *   - the accounts we created are expired (shadow expiry day 1, through
 *     usermod) and listed in /var/lib/oslogin/expired so that reinstalling
 *     can lift exactly those; with deprovision_remove they are deleted.
 * Local users that never had metadata keys are not touched. */

#include <stdbool.h>
#include <stdint.h>

#define REVOKE_EXPIRED_FILE "expired"

struct revoke_options {
        const char *root;        /* "/" in production */
        char **groups;           /* [accounts] groups: left by the accounts we created */
        bool deprovision_remove; /* delete the accounts we created instead of expiring them */
        uint32_t uid_min, uid_max;
        const char *usermod; /* NULL: /usr/sbin/usermod */
};

struct revoke_result {
        unsigned keys, memberships, sudoers_files, expired, removed, failed;
};

/* 0 when everything was revoked, < 0 when something could not be (the
 * rest is still done; ret->failed counts the users concerned). */
int oslogin_revoke(const struct revoke_options *o, struct revoke_result *ret);
