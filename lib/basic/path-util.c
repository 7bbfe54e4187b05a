/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/path-util.h"

bool path_is_host_root(const char *root)
{
        return !root || root[strspn(root, "/")] == '\0';
}

int path_join_root(const char *root, const char *path, char **ret)
{
        size_t root_len = 0;

        if (!path_is_host_root(root)) {
                root_len = strlen(root);
                while (root[root_len - 1] == '/')
                        root_len--;
                path += strspn(path, "/");
        }
        size_t path_len = strlen(path);
        /* ROOT, '/', PATH, NUL */
        char *p = malloc(root_len + 1 + path_len + 1);
        if (!p)
                return -ENOMEM;
        char *q = p;
        if (root_len) {
                memcpy(q, root, root_len);
                q += root_len;
                *q++ = '/';
        }
        memcpy(q, path, path_len + 1);
        *ret = p;
        return 0;
}
