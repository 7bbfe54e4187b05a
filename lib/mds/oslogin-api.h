/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The OS Login calls every authorization point makes (the key helper, the
 * PAM module, accountsd's sudo re-check): one profile by user name, one
 * authorize per policy, and metadata booleans. Each returns -ENOENT only
 * for a definite "no such thing" (404), so callers can tell "denied" from
 * "cannot know" (fail closed on the latter). */

#include <stdbool.h>
#include <stdint.h>

#include "mds/mds-client.h"
#include "mds/models.h"

/* users?username=USER. -EBADMSG also when the profile names another user. */
int oslogin_fetch_profile(
        struct mds_client *c, const char *user, uint32_t uid_floor, struct oslogin_profile **ret);

/* authorize?email=EMAIL&policy=POLICY ("login", "adminLogin"): 1 granted,
 * 0 denied (any answer but {"success": true}), -errno when unknown. */
int oslogin_authorize(struct mds_client *c, const char *email, const char *policy);
/* The same with &fingerprint=FINGERPRINT (a key's or a certificate's, as
 * the directory knows it): granted only when the directory vouches for it. */
int oslogin_authorize_fingerprint(
        struct mds_client *c, const char *email, const char *policy, const char *fingerprint);

/* instance/attributes/KEY, else project/attributes/KEY, as a metadata
 * boolean: 1/0, DEFAULT_VALUE when neither is set or parses; -errno when
 * the server cannot be asked. */
int metadata_fetch_bool(struct mds_client *c, const char *key, bool default_value);

/* GET oslogin/WHAT[?KEY=VALUE][&pagesize=N][&pagetoken=TOKEN]; KEY NULL: no
 * filter, PAGE_SIZE 0 and TOKEN NULL: the server's defaults, the first page. */
int oslogin_get(struct mds_client *c, const char *what, const char *key, const char *value,
        uint32_t page_size, const char *token, struct mds_response *ret);

/* Walking the pages of a list (users, groups, a group's usernames):
 *
 *   _cleanup_(oslogin_pager_done) struct oslogin_pager pager = {.max_pages = N};
 *   while ((r = oslogin_pager_more(&pager)) > 0) {
 *           r = oslogin_get(c, "groups", NULL, NULL, 0, pager.token, &resp);
 *           ... parse the page, take its items ...
 *           oslogin_pager_next(&pager, TAKE_PTR(page.next_page_token));
 *   }
 *
 * oslogin_pager_more() says whether to fetch another page: 1 for the first
 * and for each one a non-final token (oslogin_last_page()) leads to; 0
 * after the last page; -E2BIG when MAX_PAGES were fetched and the server
 * still has more; -ELOOP when a token comes round again (Brent's cycle
 * check: the tokens of pages 1, 2, 4, 8, ... are remembered, so any loop is
 * caught within about twice its length plus where it starts, in constant
 * memory); -ENOMEM. */
struct oslogin_pager {
        char *token; /* for the next request; NULL: the first page */
        char *mark;  /* the remembered token */
        unsigned pages, max_pages;
};
int oslogin_pager_more(struct oslogin_pager *p);
/* Takes TOKEN (the nextPageToken of the page just parsed; owned, NULL ok). */
void oslogin_pager_next(struct oslogin_pager *p, char *token);
void oslogin_pager_done(struct oslogin_pager *p);
