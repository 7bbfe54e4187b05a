/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The module's ABI: what glibc looks up with dlsym for service "oslogin".
 * Everything else is hidden (version script libnss_oslogin.map). */

#include <grp.h>
#include <nss.h>
#include <pwd.h>

/* Every entry point keeps errno unchanged unless it answers TRYAGAIN or
 * UNAVAIL, which set *errnop (often &errno itself). */

enum nss_status _nss_oslogin_getpwnam_r(
        const char *name, struct passwd *pwd, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_oslogin_getpwuid_r(
        uid_t uid, struct passwd *pwd, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_oslogin_setpwent(int stayopen);
enum nss_status _nss_oslogin_getpwent_r(struct passwd *pwd, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_oslogin_endpwent(void);

enum nss_status _nss_oslogin_getgrnam_r(
        const char *name, struct group *grp, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_oslogin_getgrgid_r(gid_t gid, struct group *grp, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_oslogin_setgrent(int stayopen);
enum nss_status _nss_oslogin_getgrent_r(struct group *grp, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_oslogin_endgrent(void);

enum nss_status _nss_oslogin_initgroups_dyn(const char *user, gid_t group, long int *start, long int *size,
        gid_t **groupsp, long int limit, int *errnop);
