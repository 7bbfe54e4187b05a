/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostconf/trusted-ca.h"
#include "basic/atomic-file.h"
#include "mds/mds-client.h"
#include "mds/policies.h"

#define TRUSTED_CA_FILE_MAX (1024u * 1024u)

int trusted_ca_update(int dir_fd, const char *name, const char *json, size_t size, bool *ret_changed)
{
        _cleanup_(oslogin_key_list_done) struct oslogin_key_list l = {};
        _cleanup_free_ char *text = NULL, *old = NULL;
        size_t text_size = 0, old_size = 0;
        FILE *f;
        int r;

        r = oslogin_certificates_parse(json, size, &l);
        if (r < 0)
                return r;
        f = open_memstream(&text, &text_size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < l.n_keys; i++)
                fprintf(f, "%s\n", l.keys[i]);
        if (fclose(f) != 0 || !text)
                return -ENOMEM;
        if (read_file_bounded(dir_fd, name, TRUSTED_CA_FILE_MAX, &old, &old_size) == 0 &&
                old_size == text_size && memcmp(old, text, text_size) == 0) {
                if (ret_changed)
                        *ret_changed = false;
                return (int)l.n_keys;
        }
        r = write_file_atomic(dir_fd, name, text, text_size, 0644, geteuid() == 0 ? 0 : (uid_t)-1,
                geteuid() == 0 ? 0 : (gid_t)-1);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = true;
        return (int)l.n_keys;
}

int trusted_ca_refresh(struct mds_client *c, int dir_fd, const char *name, bool *ret_changed)
{
        _cleanup_mds_response_ struct mds_response resp = {};
        int r = mds_get(c, "oslogin/certificates", &resp);

        if (r < 0)
                return r;
        return trusted_ca_update(dir_fd, name, resp.body, resp.size, ret_changed);
}
