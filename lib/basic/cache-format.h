/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* On-disk layout of the OS Login directory cache (doc/cache-format.md).
 *
 * One file, OSLOGIN_RUNTIME_DIR/directory.cache, written only by
 * accountsd (cache-writer.h, temp + fsync + rename) and mapped read-only by
 * libnss_oslogin.so.2 in every process that resolves a user or group
 * (cache-reader.h). The file is replaced, never modified in place, so a
 * mapping always shows one complete generation.
 *
 *   [header, 256 bytes]
 *   [user records]        each: u32 length, then a passwd record (cache-record.h)
 *   [group records]       each: u32 length, then a group record
 *   [membership records]  each: u32 length, then a gid-list record (user → groups)
 *   [5 hash indexes]      open addressing, linear probing, 8-byte entries
 *
 * All integers are little-endian. Offsets are from the start of the file
 * and 32-bit (the file is at most CACHE_FILE_MAX bytes). Index sections are
 * 8-byte aligned; records are not aligned (read through the bounded reader).
 *
 * Index entry: {u32 hash, u32 record offset}; offset 0 marks an empty slot
 * (the header occupies offset 0, so no record can). A key hashes to slot
 * hash & (n_slots - 1); the writer records the longest displacement it
 * produced (max_probe) and readers look at no more than max_probe + 1 slots,
 * so every walk is bounded even in a corrupted file. n_slots is a power of
 * two, at least twice the entry count. */

#include <stddef.h>
#include <stdint.h>

#define CACHE_DIR OSLOGIN_RUNTIME_DIR
#define CACHE_FILE_NAME "directory.cache"
#define CACHE_PATH CACHE_DIR "/" CACHE_FILE_NAME

#define CACHE_MAGIC "OSLCACHE" /* 8 bytes, no NUL stored */
#define CACHE_VERSION 1u
#define CACHE_HEADER_SIZE 256u
/* Upper bound a reader accepts (and a writer produces): far above 100 000
 * users (about 12 MB), far below anything that hurts a 32-bit offset. */
#define CACHE_FILE_MAX (1024u * 1024u * 1024u)
/* How often a reader may stat the path to notice a replaced file. */
#define CACHE_CHECK_INTERVAL_MS 250u
/* Fallbacks when no cache exists yet. */
#define CACHE_SOCKET_TIMEOUT_MS_DEFAULT 1000u
#define CACHE_SOCKET_TIMEOUT_MS_MAX 10000u

enum cache_section_id {
        CACHE_SECTION_USERS,
        CACHE_SECTION_GROUPS,
        CACHE_SECTION_MEMBERSHIPS,
        _CACHE_SECTION_MAX,
};

enum cache_index_id {
        CACHE_INDEX_USER_NAME,   /* → user record */
        CACHE_INDEX_USER_UID,    /* → user record */
        CACHE_INDEX_GROUP_NAME,  /* → group record */
        CACHE_INDEX_GROUP_GID,   /* → group record */
        CACHE_INDEX_MEMBER_NAME, /* → membership record */
        _CACHE_INDEX_MAX,
};

struct cache_section {
        uint32_t offset;
        uint32_t size;
};

struct cache_index {
        uint32_t offset;  /* 8-byte aligned */
        uint32_t n_slots; /* power of two, or 0 for an empty index */
        uint32_t max_probe;
        uint32_t n_entries;
};

struct cache_index_entry {
        uint32_t hash;
        uint32_t offset; /* 0: empty slot */
};

struct cache_header {
        uint8_t magic[8];           /* CACHE_MAGIC */
        uint32_t version;           /* CACHE_VERSION */
        uint32_t header_size;       /* CACHE_HEADER_SIZE */
        uint64_t file_size;         /* equals st_size */
        uint64_t checksum;          /* cache_checksum() of bytes [32, file_size) */
        uint64_t generation;        /* set by the writer's caller; grows with each rewrite */
        uint64_t created_usec;      /* CLOCK_REALTIME when built */
        uint32_t uid_floor;         /* UIDs/GIDs below it are never answered */
        uint32_t socket_timeout_ms; /* deadline of a miss sent to accountsd */
        uint32_t n_users;
        uint32_t n_groups;
        struct cache_section sections[_CACHE_SECTION_MAX];
        uint32_t reserved0[2];
        struct cache_index indexes[_CACHE_INDEX_MAX];
        uint8_t reserved[80]; /* zero */
};

_Static_assert(sizeof(struct cache_header) == CACHE_HEADER_SIZE, "cache header layout");
_Static_assert(sizeof(struct cache_index_entry) == 8, "cache index entry layout");

/* Where the checksum starts: everything after the checksum field. */
#define CACHE_CHECKSUM_START 32u
_Static_assert(offsetof(struct cache_header, generation) == CACHE_CHECKSUM_START, "checksum coverage");

/* 64-bit checksum over SIZE bytes: four independent lanes over 8-byte
 * little-endian words, each lane h = rotl64((h ^ w) * P, 31), tail bytes
 * folded in, lanes and length mixed at the end. Each step is a bijection of
 * the lane state, so any single changed word always changes the result; it
 * is a torn-write/corruption detector, not a MAC (the file is root-owned in
 * a root-owned directory and every offset is bounds-checked anyway). Chosen
 * over CRC32C because it runs at memory speed without CPU-specific code, and
 * every process verifies the whole file once per mapping (cache-reader.c
 * reads it with pread() for that, so the mapping stays mostly unfaulted). */
uint64_t cache_checksum(const void *data, size_t size);

/* The same, streamed: update() with multiples of 32 bytes, then final()
 * with the remaining 0..31 bytes. */
struct cache_checksum {
        uint64_t lane[4];
        uint64_t size;
};
void cache_checksum_init(struct cache_checksum *c);
void cache_checksum_update(struct cache_checksum *c, const void *data, size_t size);
uint64_t cache_checksum_final(struct cache_checksum *c, const void *tail, size_t size);

/* Hash of a user or group name (FNV-1a, then a murmur3 finaliser so linear
 * probing sees well-spread low bits). */
uint32_t cache_hash_name(const char *name, size_t len);
/* Hash of a UID or GID (murmur3 finaliser). */
uint32_t cache_hash_id(uint32_t id);
