/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostconf/sshd-policy.h"
#include "basic/macro.h"

/* One sshd_config token: no whitespace, quote, '#' or control character. */
static bool plain_token(const char *s)
{
        if (isempty(s))
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p <= ' ' || *p == 0x7F || *p == '"' || *p == '\'' || *p == '#')
                        return false;
        return true;
}

int sshd_policy_lines(const struct sshd_policy *p, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;
        /* The agent: metadata certificates without security keys replace the
         * keys command; the configuration alone adds certificates beside it;
         * security keys always win over certificates. */
        bool certs = (p->certificates || p->cert_authentication) && !p->security_keys;
        bool keys = !(p->certificates && !p->security_keys);

        if ((keys && (!plain_token(p->keys_command) || !plain_token(p->keys_command_user))) ||
                (certs && (!plain_token(p->principals_command) || !plain_token(p->principals_user) ||
                                  !plain_token(p->trusted_ca_file))) ||
                (p->users_group && !plain_token(p->users_group)))
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        if (certs)
                fprintf(f,
                        "TrustedUserCAKeys %s\nAuthorizedPrincipalsCommand %s %%u "
                        "%%k\nAuthorizedPrincipalsCommandUser %s\n",
                        p->trusted_ca_file, p->principals_command, p->principals_user);
        if (keys)
                fprintf(f, "AuthorizedKeysCommand %s %%u %%f\nAuthorizedKeysCommandUser %s\n",
                        p->keys_command, p->keys_command_user);
        if (p->two_factor)
                fprintf(f, "KbdInteractiveAuthentication yes\nAuthenticationMethods "
                           "publickey,keyboard-interactive\n");
        /* Match blocks last: each runs to the end of the file. */
        if (p->users_group)
                fprintf(f, "Match Group %s\n    AuthorizedKeysFile none\n", p->users_group);
        if (p->two_factor)
                fprintf(f, "Match User sa_*\n    AuthenticationMethods publickey\n");
        if (fclose(f) != 0 || !buf)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
