/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon's events (log_event()) as native journal records, with their
 * MESSAGE_ID and OSLOGIN_* fields, when the journal is there; stderr with
 * priority prefixes otherwise (basic/log.h). */

/* 1 when events go to the journal from now on, 0 when it is not there. */
int journal_events_open(void);
