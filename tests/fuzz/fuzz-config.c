/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin.conf through libinih and our value parsers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "basic/log.h"
#include "mds/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[] = "/tmp/fuzz-config.XXXXXX";
        struct oslogin_config c;
        int fd = mkstemp(path);

        if (fd < 0)
                return 0;
        log_open("fuzz", LOG_TARGET_NULL, 0);
        if (write(fd, data, size) == (ssize_t)size &&
                config_load(path, CONFIG_LOAD_SKIP_OWNER_CHECK, &c) == 0)
                config_free(&c);
        close(fd);
        unlink(path);
        return 0;
}
