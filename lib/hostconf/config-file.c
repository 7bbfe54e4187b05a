/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/atomic-file.h"
#include "hostconf/config-file.h"

int config_file_replace(int dir_fd, const char *name, const char *content)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                st.st_mode = 0644;
                st.st_uid = 0;
                st.st_gid = 0;
        }
        return write_file_atomic(
                dir_fd, name, content, strlen(content), st.st_mode & 07777, st.st_uid, st.st_gid);
}

char *config_file_without_block(const char *text)
{
        char *out = strdup(text);

        /* Every block of ours: sshd_config may hold a second one at its end. */
        for (;;) {
                char *b = out ? strstr(out, BLOCK_BEGIN "\n") : NULL,
                     *e = b ? strstr(b, BLOCK_END "\n") : NULL;
                if (!b || !e)
                        return out;
                memmove(b, e + strlen(BLOCK_END "\n"), strlen(e + strlen(BLOCK_END "\n")) + 1);
        }
}
