/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accountsd/users-group.h"
#include "basic/cache-writer.h"
#include "basic/local-db.h"
#include "basic/macro.h"
#include "basic/valid.h"

int users_group_check(const struct local_db *db, const char *name, uint32_t gid, uint32_t uid_floor)
{
        if (!valid_group_name(name) || !valid_network_uid(gid, uid_floor))
                return -EINVAL;
        /* A local group would give its members (or its name) OS Login's
         * restriction, or take it away from OS Login users. */
        if (!db || local_db_has_group(db, name) || local_db_has_gid(db, gid))
                return -EEXIST;
        return 0;
}

int users_group_reply(
        const char *name, uint32_t gid, const struct nss_proto_request *q, struct byte_buffer *b)
{
        int r;

        if (!(q->type == NSS_PROTO_GETGRNAM && streq(q->name, name)) &&
                !(q->type == NSS_PROTO_GETGRGID && q->id == gid))
                return 0;
        r = nss_proto_reply_group(b, gid, name, NULL);
        return r < 0 ? r : 1;
}

int users_group_extend_reply(const struct nss_proto_request *q, struct byte_buffer *reply, uint32_t gid)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        _cleanup_free_ uint32_t *gids = NULL;
        struct nss_proto_reply rep;
        char name[USER_NAME_MAX + 1];
        size_t n = 0;
        int r;

        if (q->type != NSS_PROTO_INITGROUPS)
                return 0;
        r = nss_proto_reply_decode(q, reply->data, reply->size, &rep);
        if (r < 0)
                return r;
        if (rep.status != NSS_PROTO_FOUND)
                return 0;
        gids = calloc(rep.gid_list.n_gids + 1, sizeof(uint32_t));
        if (!gids)
                return -ENOMEM;
        for (size_t i = 0; i < rep.gid_list.n_gids; i++) {
                gids[n] = gid_list_record_get(&rep.gid_list, i);
                if (gids[n++] == gid)
                        return 0; /* listed already */
        }
        gids[n++] = gid;
        memcpy(name, rep.gid_list.name.ptr, rep.gid_list.name.len);
        name[rep.gid_list.name.len] = 0;
        r = nss_proto_reply_gid_list(&b, name, gids, n);
        if (r < 0)
                return r;
        byte_buffer_done(reply);
        *reply = b;
        b = (struct byte_buffer){};
        return 0;
}

int users_group_add(struct cache_writer *w, const struct local_db *db, const char *name, uint32_t gid,
        uint32_t uid_floor, int *ret_refused)
{
        int r = users_group_check(db, name, gid, uid_floor);

        *ret_refused = r < 0 ? r : 0;
        if (r < 0)
                return 0;
        cache_writer_set_users_group(w, gid);
        r = cache_writer_add_group(w, name, gid, NULL);
        /* -EPERM: the writer's host filter agrees with the check above. */
        return r == -EEXIST || r == -EPERM ? 0 : r;
}
