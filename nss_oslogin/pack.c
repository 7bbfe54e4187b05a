/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "nss_oslogin/pack.h"

#define PASSWORD_FIELD "*"

static char *put_span(char **p, struct span s)
{
        char *start = *p;

        memcpy(start, s.ptr, s.len);
        start[s.len] = 0;
        *p += s.len + 1;
        return start;
}

int pack_passwd(const struct passwd_record *rec, struct passwd *pwd, char *buf, size_t buflen)
{
        const struct span password = {PASSWORD_FIELD, strlen(PASSWORD_FIELD)};
        /* Each field is bounded by the decoder, so the sum cannot overflow. */
        size_t need = rec->name.len + 1 + password.len + 1 + rec->gecos.len + 1 + rec->home.len + 1 +
                      rec->shell.len + 1;
        char *p = buf;

        if (need > buflen)
                return -ERANGE;
        *pwd = (struct passwd){
                .pw_uid = rec->uid,
                .pw_gid = rec->gid,
                .pw_name = put_span(&p, rec->name),
                .pw_passwd = put_span(&p, password),
                .pw_gecos = put_span(&p, rec->gecos),
                .pw_dir = put_span(&p, rec->home),
                .pw_shell = put_span(&p, rec->shell),
        };
        return 0;
}

int pack_group(const struct group_record *rec, struct group *grp, char *buf, size_t buflen)
{
        return pack_group_filtered(rec, grp, buf, buflen, NULL, NULL);
}

int pack_group_filtered(const struct group_record *rec, struct group *grp, char *buf, size_t buflen,
        bool (*skip_member)(struct span member, void *userdata), void *userdata)
{
        const struct span password = {PASSWORD_FIELD, strlen(PASSWORD_FIELD)};
        size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
        size_t need = pad + rec->name.len + 1 + password.len + 1, kept = 0;
        struct byte_reader it = rec->members;
        struct span member;

        /* n_members ≤ RECORD_MEMBERS_MAX and names ≤ USER_NAME_MAX: no overflow. */
        while (kept < rec->n_members && group_record_next_member(&it, &member) == 0)
                if (!skip_member || !skip_member(member, userdata)) {
                        need += member.len + 1;
                        kept++;
                }
        need += (kept + 1) * sizeof(char *);
        if (need > buflen)
                return -ERANGE;

        char **mem = (char **)(void *)(buf + pad);
        char *p = (char *)(mem + kept + 1);
        size_t n = 0;

        *grp = (struct group){
                .gr_gid = rec->gid,
                .gr_name = put_span(&p, rec->name),
                .gr_passwd = put_span(&p, password),
                .gr_mem = mem,
        };
        it = rec->members;
        while (n < kept && group_record_next_member(&it, &member) == 0)
                if (!skip_member || !skip_member(member, userdata))
                        mem[n++] = put_span(&p, member);
        mem[n] = NULL;
        return 0;
}
