/* SPDX-License-Identifier: Apache-2.0 */
/* Every JSON answer parser of lib/mds on the same bytes: profile, users,
 * groups and usernames pages, authorize, the attribute document, the
 * two-factor session answers (start, continue). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mds/models.h"
#include "mds/ssh-keys.h"
#include "mds/two-factor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct oslogin_profile *p = NULL;
        struct oslogin_users_page up;
        struct oslogin_groups_page gp;
        struct oslogin_usernames_page np;
        struct metadata_document *d = NULL;
        const char *json = (const char *)data;

        if (oslogin_profile_parse(json, size, 1000, &p) == 0) {
                for (size_t i = 0; i < p->n_keys; i++) {
                        char *fp = NULL;
                        (void)oslogin_key_usable(&p->keys[i], 1);
                        if (ssh_key_fingerprint(p->keys[i].key, &fp) == 0)
                                free(fp);
                }
                oslogin_profile_free(p);
        }
        if (oslogin_users_page_parse(json, size, 1000, &up) == 0)
                oslogin_users_page_done(&up);
        if (oslogin_groups_page_parse(json, size, 1000, &gp) == 0)
                oslogin_groups_page_done(&gp);
        if (oslogin_usernames_page_parse(json, size, &np) == 0)
                oslogin_usernames_page_done(&np);
        (void)oslogin_authorize_parse(json, size);
        struct two_factor_session tf;
        if (two_factor_start_parse(json, size, &tf) == 0) {
                for (size_t i = 0; i < tf.n_challenges; i++)
                        if (!two_factor_prompt(tf.challenges[i].type) || tf.challenges[i].id <= 0)
                                abort(); /* only challenges we can drive, with a usable id */
                two_factor_session_done(&tf);
        }
        (void)two_factor_continue_parse(json, size);
        if (metadata_document_parse(json, size, &d) == 0) {
                struct ssh_key_set s;
                (void)metadata_bool(d, "enable-oslogin", false);
                if (ssh_keys_effective(d, 1790000000000000ull, &s) == 0)
                        ssh_key_set_done(&s);
                metadata_document_free(d);
        }
        return 0;
}
