/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/atomic-file.h"
#include "basic/macro.h"
#include "basic/mkdir-util.h"
#include "basic/path-util.h"
#include "hostconf/host-mode.h"

const char *host_mode_to_string(enum host_mode mode)
{
        switch (mode) {
        case HOST_MODE_METADATA_KEYS:
                return "metadata-keys";
        case HOST_MODE_OSLOGIN:
                return "oslogin";
        default:
                return "unknown";
        }
}

static int open_state_dir(const char *root, bool create)
{
        _cleanup_free_ char *dir = NULL;
        if (path_join_root(root, OSLOGIN_STATE_DIR, &dir) < 0)
                return -ENOMEM;
        return create ? mkdir_p_open(AT_FDCWD, dir, 0755, 0755) : open_dir_nofollow(AT_FDCWD, dir, 0);
}

enum host_mode host_mode_load(const char *root)
{
        _cleanup_close_ int fd = open_state_dir(root, false);
        _cleanup_free_ char *data = NULL;

        if (fd < 0 || read_file_bounded(fd, MODE_STATE_FILE, 64, &data, NULL) < 0)
                return HOST_MODE_UNKNOWN;
        data[strcspn(data, "\n")] = '\0';
        if (streq(data, host_mode_to_string(HOST_MODE_OSLOGIN)))
                return HOST_MODE_OSLOGIN;
        if (streq(data, host_mode_to_string(HOST_MODE_METADATA_KEYS)))
                return HOST_MODE_METADATA_KEYS;
        return HOST_MODE_UNKNOWN;
}

int host_mode_save(const char *root, enum host_mode mode)
{
        _cleanup_close_ int fd = open_state_dir(root, true);
        char line[32];

        if (fd < 0)
                return fd;
        snprintf(line, sizeof(line), "%s\n", host_mode_to_string(mode));
        return write_file_atomic(fd, MODE_STATE_FILE, line, strlen(line), 0644, (uid_t)-1, (gid_t)-1);
}
