/* SPDX-License-Identifier: Apache-2.0 */
/* ssh-keys attribute text: line parser, google-ssh expiry, fingerprints. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mds/ssh-keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        struct ssh_key_set s = {};
        uint64_t t;

        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (ssh_keys_parse_text(text, 1790000000000000ull, &s) == 0)
                for (size_t i = 0; i < s.n_keys; i++) {
                        char *fp = NULL;
                        if (ssh_key_fingerprint(s.keys[i].keyline, &fp) == 0)
                                free(fp);
                }
        ssh_key_set_done(&s);
        (void)parse_expire_on(text, &t);
        free(text);
        return 0;
}
