/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `PROGRAM --version` for every program: one line, "PROGRAM (oslogin)
 * VERSION". OSLOGIN_VERSION is the top of debian/changelog, passed by the
 * Makefile, so a package and its programs always agree. */

#include <stdio.h>

#ifndef OSLOGIN_VERSION
#define OSLOGIN_VERSION "unknown"
#endif

static inline void version_print(const char *program)
{
        printf("%s (oslogin) %s\n", program, OSLOGIN_VERSION);
}
