/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The mode last applied to the host, kept in ROOT/var/lib/oslogin/mode so
 * a restart of the daemon does not flap the host configuration, and so
 * osloginctl can show it without the daemon. */

#define MODE_STATE_FILE "mode"

enum host_mode { HOST_MODE_UNKNOWN, HOST_MODE_METADATA_KEYS, HOST_MODE_OSLOGIN };

const char *host_mode_to_string(enum host_mode mode);
/* ROOT/var/lib/oslogin/mode: HOST_MODE_UNKNOWN when absent or unreadable. */
enum host_mode host_mode_load(const char *root);
int host_mode_save(const char *root, enum host_mode mode);
