/* SPDX-License-Identifier: Apache-2.0 */
/* The OS Login fingerprint of a certificate (lib/mds/ssh-cert.c) from
 * hostile bytes: sshd's %k as a principals request carries it. Checks
 * that a fingerprint returned is non-empty, bounded and made only of the
 * characters it may have (it goes into a query and a log line). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mds/ssh-cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1), *fp = NULL;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        if (ssh_cert_fingerprint(s, &fp) == 0) {
                size_t n = strlen(fp);
                if (n == 0 || n > SSH_CERT_FINGERPRINT_MAX ||
                        strspn(fp,
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+/=-") !=
                                n)
                        abort();
                free(fp);
        }
        free(s);
        return 0;
}
