/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by osloginctl's commands (osloginctl.c, osloginctl-audit.c). */

#include <json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Exit codes, documented in osloginctl(8): scripts tell "needs root" from
 * "not running" from "no such user". */
enum {
        EXIT_USAGE = 2,
        EXIT_NOTFOUND = 3,    /* lookup: no such user or group; why: no refusal on record */
        EXIT_NOT_RUNNING = 4, /* the daemon's socket is missing or refuses connections */
        EXIT_NEEDS_ROOT = 5,  /* the daemon's socket is root's (EACCES/EPERM) */
};

struct ctl {
        const char *runtime_dir;
        const char *root;
        bool json;
};

/* Exit code for an error -R from the daemon's sockets; logs it. */
int ctl_socket_error(const struct ctl *c, const char *socket_name, int r);
/* Prints O (JSON, pretty) on stdout and releases it. */
void ctl_print_json(json_object *o);
/* A usage error: one line pointing at --help. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_audit(const struct ctl *c, const char *user, const char *since);
int cmd_why(const struct ctl *c, const char *user);
/* "2026-11-30", "2026-11-30T10:00[:00]" (UTC), "@EPOCH", "today",
 * "yesterday", "N{s,min,h,d}" (ago) → µs since the epoch. */
int parse_since(const char *s, uint64_t now_usec, uint64_t *ret_usec);
