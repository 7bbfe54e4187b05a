/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The sshd lines of the OS Login policy switches, as the guest agent's
 * updateSSHConfig writes them (doc/oslogin-policies.md, "sshd configuration
 * per combination"), for our drop-in: a pure function, so that every
 * combination is tested without sshd. The drop-in is included at the top
 * of sshd_config; a Match block in an included file ends with that file
 * (OpenSSH >= 8.2, checked with sshd -T on 9.2), so the Match blocks go
 * last in the text returned and affect nothing after the Include. */

#include <stdbool.h>

struct sshd_policy {
        bool certificates;        /* enable-oslogin-certificates */
        bool cert_authentication; /* our [sshd] cert_authentication, default true (the agent's [OSLogin]) */
        bool security_keys;       /* enable-oslogin-sk */
        bool two_factor;          /* enable-oslogin-2fa */
        const char *keys_command, *keys_command_user;     /* AuthorizedKeysCommand (… %u %f) */
        const char *principals_command, *principals_user; /* AuthorizedPrincipalsCommand (… %u %k) */
        const char *trusted_ca_file;                      /* TrustedUserCAKeys */
        const char *
                users_group; /* every OS Login user's synthetic group: AuthorizedKeysFile none; NULL: none */
};

/* The lines, each ending in "\n": -ENOMEM, or -EINVAL when a path or name
 * needed is missing or holds whitespace, a quote or a control character. */
int sshd_policy_lines(const struct sshd_policy *p, char **ret);
