/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The OS Login calls every authorization point makes (the key helper, the
 * PAM module, accountsd's sudo re-check): one profile by user name, one
 * authorize per policy, and metadata booleans. Each returns -ENOENT only
 * for a definite "no such thing" (404), so callers can tell "denied" from
 * "cannot know" (fail closed on the latter). */

#include <stdbool.h>
#include <stdint.h>

#include "mds/mds-client.h"
#include "mds/models.h"

/* users?username=USER. -EBADMSG also when the profile names another user. */
int oslogin_fetch_profile(
        struct mds_client *c, const char *user, uint32_t uid_floor, struct oslogin_profile **ret);

/* authorize?email=EMAIL&policy=POLICY ("login", "adminLogin"): 1 granted,
 * 0 denied (any answer but {"success": true}), -errno when unknown. */
int oslogin_authorize(struct mds_client *c, const char *email, const char *policy);
/* The same with &fingerprint=FINGERPRINT (a key's or a certificate's, as
 * the directory knows it): granted only when the directory vouches for it. */
int oslogin_authorize_fingerprint(struct mds_client *c, const char *email, const char *policy,
                                  const char *fingerprint);

/* instance/attributes/KEY, else project/attributes/KEY, as a metadata
 * boolean: 1/0, DEFAULT_VALUE when neither is set or parses; -errno when
 * the server cannot be asked. */
int metadata_fetch_bool(struct mds_client *c, const char *key, bool default_value);
