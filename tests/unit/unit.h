/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What every cmocka unit test includes (cmocka needs these first). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
