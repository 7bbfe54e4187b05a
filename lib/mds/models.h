/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* JSON answers of the metadata server, parsed into validated C structs.
 * Parsers return -EBADMSG for anything malformed (bad JSON, wrong types,
 * invalid names, numbers out of range, UID/GID 0 or below the floor); a
 * struct returned is safe to put into a passwd line or a path. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

#define MDS_JSON_MAX_DEPTH 32
#define MDS_MAX_KEYS_PER_USER 256
#define MDS_MAX_PAGE_ITEMS 100000

struct oslogin_posix_account {
        char *username;
        uint32_t uid, gid;
        char *home, *shell, *gecos;
};

struct oslogin_ssh_key {
        char *key;                /* one authorized_keys line, no newline */
        char *fingerprint;        /* as the server names it; may be NULL */
        uint64_t expiration_usec; /* 0: never expires */
        bool invalid;             /* non-numeric expiry or unusable key: treat as expired */
};

struct oslogin_profile {
        char *email;
        struct oslogin_posix_account account;
        struct oslogin_ssh_key *keys;
        size_t n_keys;
};

struct oslogin_group {
        char *name;
        uint32_t gid;
};

/* A profile a page dropped: who (email, else username, else its place in
 * the page; always printable) and why (static). */
struct oslogin_rejection {
        char *who;
        const char *reason;
};
#define OSLOGIN_REJECTIONS_MAX 16

struct oslogin_users_page {
        struct oslogin_profile **profiles;
        size_t n_profiles;
        size_t n_rejected;                                           /* entries dropped as invalid */
        struct oslogin_rejection rejections[OSLOGIN_REJECTIONS_MAX]; /* the first of them */
        size_t n_rejections;
        char *next_page_token; /* NULL or "0": last page */
};

struct oslogin_groups_page {
        struct oslogin_group *groups;
        size_t n_groups;
        size_t n_rejected;
        char *next_page_token;
};

struct oslogin_usernames_page {
        char **usernames; /* NULL-terminated */
        size_t n_rejected;
        char *next_page_token;
};

/* users?username= / users?uid=: the first login profile. */
int oslogin_profile_parse(const char *json, size_t size, uint32_t uid_floor, struct oslogin_profile **ret);
void oslogin_profile_free(struct oslogin_profile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct oslogin_profile *, oslogin_profile_free);
/* Whether KEY may be used at NOW (microseconds since the epoch). */
bool oslogin_key_usable(const struct oslogin_ssh_key *key, uint64_t now_usec);

int oslogin_users_page_parse(
        const char *json, size_t size, uint32_t uid_floor, struct oslogin_users_page *ret);
void oslogin_users_page_done(struct oslogin_users_page *p);
int oslogin_groups_page_parse(
        const char *json, size_t size, uint32_t gid_floor, struct oslogin_groups_page *ret);
void oslogin_groups_page_done(struct oslogin_groups_page *p);
int oslogin_usernames_page_parse(const char *json, size_t size, struct oslogin_usernames_page *ret);
void oslogin_usernames_page_done(struct oslogin_usernames_page *p);
/* authorize?…: 1 for {"success": true}, 0 for anything else that parses, -EBADMSG otherwise. */
int oslogin_authorize_parse(const char *json, size_t size);
/* True when a page token means "no more pages". */
bool oslogin_last_page(const char *token);

/* The recursive attribute document (?recursive=true&alt=json). */
struct metadata_document;
int metadata_document_parse(const char *json, size_t size, struct metadata_document **ret);
void metadata_document_free(struct metadata_document *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct metadata_document *, metadata_document_free);
/* LEVEL is "instance" or "project"; NULL when absent or not a string. */
const char *metadata_attribute(const struct metadata_document *d, const char *level, const char *key);
/* Instance id / numeric project id as decimal strings (never doubles). */
const char *metadata_instance_id(const struct metadata_document *d);
const char *metadata_project_id(const struct metadata_document *d);
/* The spec's boolean rules: instance overrides project; an unparsable value
 * counts as unset at its level; DEFAULT_VALUE when unset at both. */
bool metadata_bool(const struct metadata_document *d, const char *key, bool default_value);

/* Shared with other JSON readers: parse a whole buffer with a depth limit;
 * trailing non-space bytes are an error. */
struct json_object;
int mds_json_parse(const char *json, size_t size, struct json_object **ret);
/* A JSON number or decimal string as uint64, no doubles, no sign. */
int mds_json_get_u64(struct json_object *v, uint64_t *ret);
