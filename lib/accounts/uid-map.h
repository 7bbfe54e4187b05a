/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The persistent UID map (/var/lib/oslogin/uidmap, "NAME UID" lines): /etc
 * may come back from the image at every boot, /var persists, so the same
 * user gets the same UID again and never someone else's. */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/macro.h"

struct uid_map;

int uid_map_load(const char *root, struct uid_map **ret);
void uid_map_free(struct uid_map *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct uid_map *, uid_map_free);
/* 0 and *ret_uid, or -ENOENT. */
int uid_map_get(const struct uid_map *m, const char *name, uid_t *ret_uid);
/* Whether UID belongs to a name other than NAME. */
bool uid_map_taken(const struct uid_map *m, uid_t uid, const char *name);
int uid_map_set(struct uid_map *m, const char *name, uid_t uid);
int uid_map_save(struct uid_map *m);
