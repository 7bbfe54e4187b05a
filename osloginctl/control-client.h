/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* osloginctl's end of the control socket (lib/basic/control-proto.h). */

/* Sends COMMAND to RUNTIME_DIR/control.sock, returns the reply text. */
int control_query(const char *runtime_dir, const char *command, unsigned timeout_ms, char **ret_reply);
/* The same; each "progress: …" line that comes before the reply goes to
 * CB (without its newline) and not into *RET_REPLY. */
typedef void (*control_progress_t)(const char *line, void *userdata);
int control_query_progress(const char *runtime_dir, const char *command, unsigned timeout_ms,
        control_progress_t cb, void *userdata, char **ret_reply);
