/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* json-c with our cleanup helpers, for the lib/mds parsers. */

#include <json.h>

#include "basic/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
