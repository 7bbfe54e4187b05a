/* SPDX-License-Identifier: Apache-2.0 */
/* Replays fuzzer inputs without libFuzzer: each argument is a file or a
 * directory of files, fed once to LLVMFuzzerTestOneInput(). `make check`
 * runs every corpus this way under the plain, ASan and valgrind builds. */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "basic/alloc-util.h"
#include "basic/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ uint8_t *data = NULL;
        size_t size = 0, allocated = 0, n;

        if (!f)
                return -errno;
        for (;;) {
                if (allocated - size < 4096 && GROW_ARRAY(data, &allocated, allocated + 65536) < 0)
                        return -ENOMEM;
                n = fread(data + size, 1, allocated - size, f);
                size += n;
                if (n == 0)
                        break;
        }
        if (ferror(f))
                return -EIO;
        LLVMFuzzerTestOneInput(data, size);
        return 0;
}

static int run_path(const char *path, unsigned *count)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                (*count)++;
                return run_file(path);
        }

        struct dirent **entries = NULL;
        int n = scandir(path, &entries, NULL, alphasort), r = 0;
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++) {
                if (entries[i]->d_name[0] != '.' && r >= 0) {
                        _cleanup_free_ char *child = NULL;
                        if (asprintf(&child, "%s/%s", path, entries[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = run_path(child, count);
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

int main(int argc, char *argv[])
{
        unsigned count = 0;

        for (int i = 1; i < argc; i++) {
                int r = run_path(argv[i], &count);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return 1;
                }
        }
        printf("ok 1 - %u inputs replayed\n1..1\n", count);
        return 0;
}
