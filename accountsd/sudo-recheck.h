/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Sudo revocation that does not wait for the next login: every [sudo]
 * recheck_interval (OS Login mode only), each user holding a drop-in
 * (sudoers_list) is checked with authorize?email=…&policy=adminLogin (the
 * e-mail from users?username=). The drop-in goes only on a definite
 * answer: a denial, or a user the directory no longer knows (404). A
 * metadata server that cannot be reached or answers garbage revokes
 * nothing. Runs in a worker thread. */

#include <stdbool.h>
#include <stdio.h>

#include "accountsd/context.h"

struct sudo_recheck;

/* ENABLED: the host is in OS Login mode (the manager keeps it so with
 * sudo_recheck_set_enabled()); off, the timer runs but checks nothing. */
int sudo_recheck_new(const struct daemon_context *ctx, bool enabled, struct sudo_recheck **ret);
void sudo_recheck_set_enabled(struct sudo_recheck *s, bool enabled);
void sudo_recheck_free(struct sudo_recheck *s);
void sudo_recheck_reconfigure(struct sudo_recheck *s);
void sudo_recheck_status(const struct sudo_recheck *s, FILE *f);
