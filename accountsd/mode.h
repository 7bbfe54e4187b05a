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

#include "accountsd/context.h"
#include "hostconf/host-mode.h"

#define MODE_RETRY_USEC (30ull * 1000000u)
/* After a metadata change, when to look for the guest agent's rewrite of
 * its blocks (it reacts to the same change). */
#define MODE_TAKEOVER_RECHECK_USEC (5ull * 1000000u)

struct mode;

/* What the mode tells the part above it (the manager wires it). */
struct mode_callbacks {
        /* A pass puts the host in MODE, at the point where the parts that
         * follow the mode must follow (OS Login: after the metadata users
         * are gone; metadata keys: before they come back). Every pass calls
         * it, a change or not. */
        void (*mode_applied)(enum host_mode mode, void *userdata);
        /* A document was handled: R is 0 or -errno, APPLIED the mode the
         * host is in now. STATUS says what this means for the logins
         * waiting on the first pass (a STATUS= line); NULL when the
         * document did not parse and nothing was tried. */
        void (*pass_done)(int r, enum host_mode applied, const char *status, void *userdata);
};

/* CALLBACKS (may be NULL) is copied. */
int mode_new(const struct daemon_context *ctx, const struct mode_callbacks *callbacks, void *userdata,
        struct mode **ret);
void mode_free(struct mode *mo);

void mode_handle_document(struct mode *mo, const char *json, size_t size);
/* Whether a document has parsed yet. */
bool mode_has_document(const struct mode *mo);
/* The mode last applied. */
enum host_mode mode_current(const struct mode *mo);
void mode_status(const struct mode *mo, FILE *f);
/* KEY of the last document as a metadata boolean (instance over project,
 * default false): 1/0, -1 when no document parsed yet. */
int mode_metadata_flag(const struct mode *mo, const char *key);
