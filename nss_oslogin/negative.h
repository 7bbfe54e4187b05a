/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* accountsd's recent "not found" answers, read from the negative table it
 * writes (basic/negative-table.h) so that a repeated unknown name is
 * answered without a socket round trip. Mapped on first use; as for the
 * cache file, the path is looked at (one stat()) at most every
 * CACHE_CHECK_INTERVAL_MS and mapped again when the file was replaced. A
 * file that is not a root-owned regular file writable only by root, or is
 * malformed, answers nothing (the question goes to accountsd).
 * Thread-safe: one mutex, never held around another lock. */

#include <stdbool.h>

#include "basic/nss-proto.h"

/* Whether accountsd said recently, and still holds, that Q has no answer. */
bool negative_known(const struct nss_proto_request *q);
