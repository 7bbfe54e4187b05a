/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What a new attribute document means for the host:
 * - enable-oslogin (instance overrides project) picks the mode. On a
 *   change, and only then: to OS Login, the metadata users are
 *   deprovisioned (a reconcile with no keys), sysconf_activate() edits
 *   sshd/nsswitch/pam and the directory cache is built; back to metadata
 *   keys, sysconf_deactivate(), the directory is switched off and the OS
 *   Login sudoers drop-ins are revoked. The mode last applied is kept in
 *   ROOT/var/lib/oslogin/mode, so a restart does not flap the host
 *   configuration.
 * - In metadata-keys mode the effective ssh-keys go to keys_reconcile().
 *   Rejected lines are logged once (not at every poll). Per-user failures
 *   are retried on a timer; another timer fires at the earliest key expiry.
 *   Both reuse the last document, independent of metadata changes.
 * An unparsable document changes nothing. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "accountsd/manager.h"
#include "hostconf/host-mode.h"

#define MODE_RETRY_USEC (30ull * 1000000u)
/* After a metadata change, when to look for the guest agent's rewrite of
 * its blocks (it reacts to the same change). */
#define MODE_TAKEOVER_RECHECK_USEC (5ull * 1000000u)


int mode_new(struct manager *m, struct mode **ret);
void mode_free(struct mode *mo);

void mode_handle_document(struct mode *mo, const char *json, size_t size);
/* The watch could not fetch the document (--once gives up). */
void mode_metadata_unreachable(struct mode *mo, int error);
/* Connection refused or no route to the metadata server: there is none
 * (not a cloud VM), as opposed to a slow or failing one. */
bool mode_no_metadata_server(int error);
/* The STATUS= text for that case. */
const char *mode_no_server_status(int error);
/* The mode last applied. */
enum host_mode mode_current(const struct mode *mo);
void mode_status(const struct mode *mo, FILE *f);
/* KEY of the last document as a metadata boolean (instance over project,
 * default false): 1/0, -1 when no document parsed yet. */
int mode_metadata_flag(const struct mode *mo, const char *key);

