/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon's end of the control socket (lib/basic/control-proto.h has
 * the protocol). It sits beside the manager, at the top: it reads each
 * part's status from that part and asks the watch and the directory for a
 * refresh. A finished directory build reaches waiting "refresh" commands
 * through control_build_finished(), which main.c wires to the directory's
 * build_finished callback; no part calls this file. */

#include "accountsd/manager.h"
#include "basic/control-proto.h"

int control_server_new(struct manager *m, struct control_server **ret);
void control_server_free(struct control_server *s);
/* A full build ended with R; answers waiting refreshes. */
void control_build_finished(struct control_server *s, int r);
