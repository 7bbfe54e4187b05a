/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon's end of the control socket (lib/basic/control-proto.h has
 * the protocol). Each part's status comes from that part; a finished
 * directory build reaches waiting "refresh" commands through
 * control_build_finished(), which the manager wires to the directory. */

#include "accountsd/manager.h"
#include "basic/control-proto.h"

int control_server_new(struct manager *m, struct control_server **ret);
void control_server_free(struct control_server *s);
/* A full build ended with R; answers waiting refreshes. */
void control_build_finished(struct control_server *s, int r);
