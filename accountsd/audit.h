/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One audit record per login. sshd asks the daemon several questions for
 * one login: KEYS (the AuthorizedKeysCommand, a child of the sshd session
 * process), maybe AUTH_START/AUTH_CONTINUE (two-factor, from PAM in the
 * session process) and ACCOUNT (PAM's account step, same process). Each
 * decision is a note; notes of one login are joined into one record by
 * the sshd session's PID (the key helper's parent; the PAM peer itself, or
 * its parent: keyboard-interactive PAM runs in a child of the session) and
 * user, or, when a PID is unknown, by user within seconds.
 *
 * A record closes at the ACCOUNT decision (sshd's last question), or when
 * no question came for AUDIT_JOIN_USEC (a refused key: sshd never asks
 * the account). Closed records are appended, one JSON object per line, to
 * DIR/audit.log (/var/lib/oslogin, 0600, rotated to audit.log.1 past AUDIT_FILE_MAX), and
 * the last AUDIT_RING_SIZE records, open or closed, stay in memory for
 * `osloginctl audit` and `osloginctl why`. The schema of a record is in
 * osloginctl(8) (AUDIT RECORDS); fields are only ever added. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/broker-proto.h"
#include "basic/control-proto.h"

#define AUDIT_RING_SIZE 128u
#define AUDIT_JOIN_USEC (120ull * 1000000u)

struct audit_log;

struct audit_note {
        enum broker_kind kind;
        enum broker_status status;
        const char *user;
        const char *email;       /* NULL: not known (no profile) */
        const char *fingerprint; /* KEYS: the granted key's (or the one asked for) */
        const char *remote;      /* ACCOUNT/AUTH_*: PAM_RHOST */
        const char *message;     /* the reply's reason */
        const char *two_factor;  /* AUTH_START: the first challenge's type */
        uint32_t sshd_pid;       /* 0: unknown */
        uint32_t parent_pid;     /* PAM questions: SSHD_PID's parent (sshd runs keyboard-interactive
                                  * PAM in a child of the session process); 0: unknown */
        size_t n_keys;           /* KEYS granted: how many keys */
        bool admin;              /* ACCOUNT granted: adminLogin */
        int sudo;                /* ACCOUNT: 1 granted now, -1 revoked now, 0 unchanged */
        uint64_t now_usec;       /* CLOCK_REALTIME of the answer */
        uint64_t latency_usec;   /* question to answer */
};

/* DIR NULL: memory only. The directory is created (0750) at the first write. */
int audit_log_new(const char *dir, struct audit_log **ret);
/* Closes and writes the open records. */
void audit_log_free(struct audit_log *a);

void audit_log_note(struct audit_log *a, const struct audit_note *n);
/* Closes (and writes) records idle for AUDIT_JOIN_USEC at NOW_USEC. */
void audit_log_expire(struct audit_log *a, uint64_t now_usec);
/* The ring, oldest first, one JSON object per line (with "open"). */
int audit_log_dump(struct audit_log *a, FILE *f);
