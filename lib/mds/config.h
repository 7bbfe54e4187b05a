/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* /etc/oslogin/oslogin.conf (INI, libinih). Every key has a default, see
 * oslogin.conf(5). A missing file means defaults; a file not owned by root
 * or writable by group/others is refused: it decides who gets root. */

#include <stdbool.h>
#include <stdint.h>

#define OSLOGIN_CONFIG_PATH OSLOGIN_SYSCONFDIR "/oslogin/oslogin.conf"
#define OSLOGIN_DEFAULT_MDS_URL "http://169.254.169.254/computeMetadata/v1/"
/* The HTTPS endpoint's mutual-TLS credentials (root.crt, client.key), where
 * the guest environment puts them, and the address metadata.google.internal
 * stands for (resolved without NSS). */
#define OSLOGIN_DEFAULT_MTLS_DIR OSLOGIN_RUNSTATEDIR "/google-mds-mtls"
#define OSLOGIN_DEFAULT_HTTPS_ADDRESS "169.254.169.254:443"
#define OSLOGIN_DEFAULT_STATE_DIR OSLOGIN_STATE_DIR
/* The group every OS Login user is a member of (through NSS), so that the
 * sshd drop-in can say `Match Group oslogin-users` / `AuthorizedKeysFile
 * none`: their own ~/.ssh/authorized_keys never counts. */
#define OSLOGIN_DEFAULT_USERS_GROUP "oslogin-users"
#define OSLOGIN_DEFAULT_USERS_GID 4294000000u

enum mds_transport {
        MDS_TRANSPORT_AUTO, /* HTTPS when the credentials exist (and always once it has worked) */
        MDS_TRANSPORT_HTTP,
        MDS_TRANSPORT_HTTPS,
};

struct oslogin_config {
        /* [metadata] */
        char *url;
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec; /* total deadline of one call, retries included */
        uint64_t max_response_size;
        enum mds_transport transport;
        char *credentials_directory;
        char *https_address;   /* ADDR:PORT or [V6]:PORT */
        char *state_directory; /* where the HTTPS pin is kept */
        /* [directory] */
        uint64_t refresh_interval_usec;
        uint64_t negative_ttl_usec;
        uint64_t nss_timeout_usec;
        uint32_t page_size;
        uint32_t uid_floor;
        /* [accounts] */
        bool metadata_accounts; /* false: ssh-keys in the metadata make no account */
        char **groups;          /* NULL-terminated */
        bool deprovision_remove;
        bool reuse_homedir; /* a new user gets the UID owning its surviving home */
        /* Which of these the file set: the others may come from the guest
         * agent's instance_configs.cfg (lib/hostconf/takeover.h). */
        bool groups_set, deprovision_remove_set, reuse_homedir_set;
        uint32_t uid_min, uid_max;
        char *home_base;
        char *shell;
        /* [host] */
        bool manage_host_config; /* false: sshd, nsswitch and PAM are the administrator's */
        /* [sudo] */
        char *sudo_rule;
        uint64_t sudo_recheck_interval_usec;
        /* [authorized_keys] */
        uint64_t akc_deadline_usec;
        char *akc_user;
        /* [sshd] */
        bool cert_authentication; /* certificates beside keys (the guest agent's [OSLogin] default) */
        char *users_group;        /* every OS Login user's synthetic group; "" or NULL: none */
        uint32_t users_gid;
        /* [broker] */
        uint64_t answer_ttl_usec;     /* profile and login answers shared within one login */
        uint64_t admin_ttl_usec;      /* adminLogin answers (the sudo grant) */
        uint32_t max_connections;     /* per socket, all peers together */
        uint32_t per_uid_connections; /* per socket and peer UID (root: only the total) */
};

enum {
        /* Tests only: skip the owner/mode check (files under a temp dir). */
        CONFIG_LOAD_SKIP_OWNER_CHECK = 1 << 0,
};

/* Fills *ret with the defaults. */
int config_defaults(struct oslogin_config *ret);
/* Loads PATH (NULL: OSLOGIN_CONFIG_PATH) over the defaults. Errors name the
 * file and line and are logged; returns -EPERM for an unsafe file, -EINVAL
 * for a bad value, -errno when the file cannot be read. */
int config_load(const char *path, unsigned flags, struct oslogin_config *ret);
void config_free(struct oslogin_config *c);

/* "30", "30s", "500ms", "5min", "10m", "2h" → microseconds. */
int parse_duration(const char *s, uint64_t *ret_usec);
/* "1048576", "512K", "1M" → bytes. */
int parse_size(const char *s, uint64_t *ret);
