/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed inputs of the binary-format fuzzers into CORPUS_DIR
 * (tests/fuzz/corpus): valid cache files built by the real writer and
 * writer scripts for fuzz-cache-reader, valid requests each followed by a
 * valid reply for fuzz-nss-proto and fuzz-broker-proto. Deterministic (fixed generation and
 * creation time), so `make fuzz-seeds` rewrites the same bytes until a
 * format changes; then the checked-in seeds are regenerated with it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/broker-proto.h"
#include "basic/cache-writer.h"
#include "basic/nss-proto.h"

static int write_seed(const char *dir, const char *name, const void *data, size_t size)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        f = fopen(path, "we");
        if (!f || fwrite(data, 1, size, f) != size || fflush(f) != 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -EIO;
        }
        return 0;
}

/* --- fuzz-cache-reader --- */

static int write_cache(const char *dir, const char *name, struct cache_writer *w)
{
        _cleanup_free_ void *data = NULL;
        size_t size;
        int k;

        cache_writer_set_generation(w, 1);
        cache_writer_set_creation_time(w, 1700000000000000ull);
        k = cache_writer_build(w, &data, &size);
        if (k < 0)
                return k;
        return write_seed(dir, name, data, size);
}

static int cache_seeds(const char *dir)
{
        _cleanup_cache_writer_ struct cache_writer *empty = NULL, *small = NULL, *many = NULL;
        char name[32];
        int k;

        if (cache_writer_new(&empty) < 0 || cache_writer_new(&small) < 0 || cache_writer_new(&many) < 0)
                return -ENOMEM;
        k = write_cache(dir, "seed-empty", empty);
        if (k < 0)
                return k;

        /* Self groups, a shared group with a member that is no user of the
         * cache, a user in no group, a user with a local primary group. */
        cache_writer_set_settings(small, 5000, 2500);
        if (cache_writer_add_user(
                    small, "alice", 1000001, 1000001, "Alice A,Room 1", "/home/alice", "/bin/bash") < 0 ||
                cache_writer_add_user(small, "bob", 1000002, 1000002, "", "/home/bob", "/bin/sh") < 0 ||
                cache_writer_add_user(
                        small, "carol", 1000003, 100, "C", "/var/lib/carol", "/usr/sbin/nologin") < 0 ||
                cache_writer_add_group(small, "alice", 1000001, (const char *const[]){"alice", NULL}) < 0 ||
                cache_writer_add_group(small, "bob", 1000002, (const char *const[]){"bob", NULL}) < 0 ||
                cache_writer_add_group(
                        small, "eng", 1000042, (const char *const[]){"alice", "bob", "dave", NULL}) < 0 ||
                cache_writer_add_group(small, "empty", 1000043, NULL) < 0)
                return -EINVAL;
        k = write_cache(dir, "seed-small", small);
        if (k < 0)
                return k;

        /* Enough entries for probe chains in every index. */
        for (unsigned i = 0; i < 40; i++) {
                snprintf(name, sizeof(name), "user%u_example_com", i);
                if (cache_writer_add_user(
                            many, name, 2000000 + i * 7, 2000000 + i * 7, name, "/home/u", "/bin/sh") < 0)
                        return -EINVAL;
        }
        for (unsigned i = 0; i < 12; i++) {
                snprintf(name, sizeof(name), "group%u", i);
                const char *members[] = {"user0_example_com",
                        i % 2 ? "user1_example_com" : "user2_example_com", i % 3 ? "local" : NULL, NULL};
                if (cache_writer_add_group(many, name, 3000000 + i * 13, members) < 0)
                        return -EINVAL;
        }
        return write_cache(dir, "seed-many", many);
}

/* Writer scripts (see fuzz-cache-reader.c). */
static int script_seeds(const char *dir)
{
        static const struct {
                const char *name, *text;
        } scripts[] = {
                {"seed-script-small", "u alice:1000001:1000001:Alice:/home/alice:/bin/bash\n"
                                      "u bob:1000002:1000002::/home/bob:/bin/sh\n"
                                      "g eng:1000042:alice,bob,dave\n"
                                      "g alice:1000001:alice\n"},
                {"seed-script-settings", "s 5000:99999\n"
                                         "u low:4000:4000:below the floor:/home/low:/bin/sh\n"
                                         "u ok:6000:6000:x:/home/ok:/bin/sh\n"
                                         "g dup:7000:ok,ok,other,ok\n"
                                         "g dup:7001:ok\n"},
                {"seed-script-invalid", "u -bad:1000010:1000010:x:/home/x:/bin/sh\n"
                                        "u colon:1000011:1000011:a:b:/home/x:/bin/sh\n"
                                        "u rel:1000012:1000012:x:home/x:/bin/sh\n"
                                        "g 123:1000013:a\n"
                                        "g g:1000014:a,,b\n"},
        };
        int k;

        for (size_t i = 0; i < ELEMENTSOF(scripts); i++) {
                k = write_seed(dir, scripts[i].name, scripts[i].text, strlen(scripts[i].text));
                if (k < 0)
                        return k;
        }
        return 0;
}

/* --- fuzz-nss-proto: one request, then its reply --- */

static int write_exchange(const char *dir, const char *name, const struct nss_proto_request *q,
        int (*reply)(struct byte_buffer *b))
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(NSS_PROTO_REPLY_MAX);
        int k;

        k = nss_proto_request_encode(q, &b);
        if (k < 0)
                return k;
        k = reply(&b);
        if (k < 0)
                return k;
        return write_seed(dir, name, b.data, b.size);
}

static int reply_alice(struct byte_buffer *b)
{
        return nss_proto_reply_passwd(
                b, 1000001, 1000001, "alice", "Alice A,Room 1", "/home/alice", "/bin/bash");
}
static int reply_eng(struct byte_buffer *b)
{
        return nss_proto_reply_group(b, 1000042, "eng", (const char *const[]){"alice", "bob", "dave", NULL});
}
static int reply_empty_group(struct byte_buffer *b)
{
        return nss_proto_reply_group(b, 1000043, "empty", NULL);
}
static int reply_gids(struct byte_buffer *b)
{
        return nss_proto_reply_gid_list(b, "alice", (const uint32_t[]){1000001, 1000042, 1000043}, 3);
}
static int reply_no_gids(struct byte_buffer *b)
{
        return nss_proto_reply_gid_list(b, "alice", NULL, 0);
}
static int reply_notfound(struct byte_buffer *b)
{
        return nss_proto_reply_status(b, NSS_PROTO_NOTFOUND);
}
static int reply_unavail(struct byte_buffer *b)
{
        return nss_proto_reply_status(b, NSS_PROTO_UNAVAIL);
}
static int reply_tryagain(struct byte_buffer *b)
{
        return nss_proto_reply_status(b, NSS_PROTO_TRYAGAIN);
}

static int proto_seeds(const char *dir)
{
        struct nss_proto_request pwnam, pwuid, grnam, grgid, grgid_empty, initgroups;
        const struct {
                const char *name;
                const struct nss_proto_request *q;
                int (*reply)(struct byte_buffer *b);
        } seeds[] = {
                {"seed-getpwnam-found", &pwnam, reply_alice},
                {"seed-getpwuid-found", &pwuid, reply_alice},
                {"seed-getgrnam-found", &grnam, reply_eng},
                {"seed-getgrgid-found", &grgid, reply_eng},
                {"seed-getgrgid-no-members", &grgid_empty, reply_empty_group},
                {"seed-initgroups-found", &initgroups, reply_gids},
                {"seed-initgroups-no-groups", &initgroups, reply_no_gids},
                {"seed-getpwnam-notfound", &pwnam, reply_notfound},
                {"seed-getpwuid-unavail", &pwuid, reply_unavail},
                {"seed-getgrnam-tryagain", &grnam, reply_tryagain},
        };
        int k;

        if (nss_proto_request_by_name(NSS_PROTO_GETPWNAM, "alice", &pwnam) < 0 ||
                nss_proto_request_by_id(NSS_PROTO_GETPWUID, 1000001, &pwuid) < 0 ||
                nss_proto_request_by_name(NSS_PROTO_GETGRNAM, "eng", &grnam) < 0 ||
                nss_proto_request_by_id(NSS_PROTO_GETGRGID, 1000042, &grgid) < 0 ||
                nss_proto_request_by_id(NSS_PROTO_GETGRGID, 1000043, &grgid_empty) < 0 ||
                nss_proto_request_by_name(NSS_PROTO_INITGROUPS, "alice", &initgroups) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(seeds); i++) {
                k = write_exchange(dir, seeds[i].name, seeds[i].q, seeds[i].reply);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* --- fuzz-broker-proto: one request, then its reply --- */

static int write_broker_exchange(
        const char *dir, const char *name, const struct broker_request *q, const struct broker_reply *r)
{
        _cleanup_byte_buffer_ struct byte_buffer b = BYTE_BUFFER_INIT(BROKER_REQUEST_MAX + BROKER_REPLY_MAX);
        int k;

        if ((k = broker_request_encode(q, &b)) < 0 || (k = broker_reply_encode(q->kind, r, &b)) < 0) {
                fprintf(stderr, "%s: cannot encode: %s\n", name, strerror(-k));
                return k;
        }
        return write_seed(dir, name, b.data, b.size);
}

static int broker_seeds(const char *dir)
{
        char *keys[] = {(char *)"ssh-ed25519 "
                                "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice",
                (char *)"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice@laptop", NULL};
        char *principals[] = {(char *)"alice_example_com", NULL};
        struct broker_request keys_q = {.kind = BROKER_KEYS, .user = "alice_example_com"},
                              keys_fp = {.kind = BROKER_KEYS,
                                      .user = "alice_example_com",
                                      .fingerprint = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
                              principals_q = {.kind = BROKER_PRINCIPALS,
                                      .user = "alice_example_com",
                                      .certificate =
                                              (char *)"AAAAHHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t"},
                              account = {.kind = BROKER_ACCOUNT,
                                      .user = "alice_example_com",
                                      .service = "sshd",
                                      .rhost = "192.0.2.7",
                                      .uid = 2000001001},
                              start = {.kind = BROKER_AUTH_START,
                                      .user = "bob_example_com",
                                      .service = "sshd"},
                              respond = {.kind = BROKER_AUTH_CONTINUE,
                                      .user = "bob_example_com",
                                      .session = "s1",
                                      .challenge_id = 1,
                                      .action = BROKER_AUTH_RESPOND,
                                      .credential = "123456"},
                              alternate = {.kind = BROKER_AUTH_CONTINUE,
                                      .user = "bob_example_com",
                                      .session = "s1",
                                      .challenge_id = 2,
                                      .action = BROKER_AUTH_START_ALTERNATE};
        struct broker_reply challenge = {.status = BROKER_CHALLENGE,
                                    .session = "s1",
                                    .n_challenges = 2,
                                    .challenges = {{1, "TOTP", "READY"}, {2, "AUTHZEN", "PROPOSED"}}},
                            alternate_started = {.status = BROKER_CHALLENGE,
                                    .session = "s2",
                                    .n_challenges = 1,
                                    .challenges = {{2, "AUTHZEN", "READY"}}};
        const struct {
                const char *name;
                const struct broker_request *q;
                struct broker_reply r;
        } seeds[] = {
                {"seed-keys-granted", &keys_q, {.status = BROKER_GRANTED, .lines = keys}},
                {"seed-keys-granted-none", &keys_fp, {.status = BROKER_GRANTED, .lines = (char *[]){NULL}}},
                {"seed-keys-denied", &keys_q, {.status = BROKER_DENIED, .message = "login policy denies"}},
                {"seed-keys-unknown", &keys_q, {.status = BROKER_UNKNOWN_USER}},
                {"seed-keys-not-ours", &keys_q, {.status = BROKER_NOT_OURS, .message = "local account"}},
                {"seed-keys-unavailable", &keys_fp,
                        {.status = BROKER_UNAVAILABLE, .message = "metadata server down"}},
                {"seed-keys-refused", &keys_q, {.status = BROKER_REFUSED, .message = "peer uid 1000"}},
                {"seed-principals-granted", &principals_q, {.status = BROKER_GRANTED, .lines = principals}},
                {"seed-account-granted-admin", &account,
                        {.status = BROKER_GRANTED,
                                .account_flags = BROKER_ACCOUNT_ADMIN,
                                .uid = 2000001001}},
                {"seed-account-granted", &account, {.status = BROKER_GRANTED, .uid = 2000001002}},
                {"seed-account-denied", &account,
                        {.status = BROKER_DENIED, .message = "lacks the login policy"}},
                {"seed-auth-start-challenge", &start, challenge},
                {"seed-auth-start-no-factor", &start, {.status = BROKER_NO_FACTOR}},
                {"seed-auth-continue-granted", &respond, {.status = BROKER_GRANTED}},
                {"seed-auth-continue-denied", &respond, {.status = BROKER_DENIED, .message = "Wrong code."}},
                {"seed-auth-continue-alternate", &alternate, alternate_started},
        };
        int k;

        for (size_t i = 0; i < ELEMENTSOF(seeds); i++) {
                k = write_broker_exchange(dir, seeds[i].name, seeds[i].q, &seeds[i].r);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int in_dir(const char *corpus, const char *fuzzer, int (*gen)(const char *dir))
{
        _cleanup_free_ char *dir = NULL;

        if (asprintf(&dir, "%s/%s", corpus, fuzzer) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return gen(dir);
}

int main(int argc, char *argv[])
{
        int k;

        if (argc != 2) {
                fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
                return 2;
        }
        if ((k = in_dir(argv[1], "fuzz-cache-reader", cache_seeds)) < 0 ||
                (k = in_dir(argv[1], "fuzz-cache-reader", script_seeds)) < 0 ||
                (k = in_dir(argv[1], "fuzz-nss-proto", proto_seeds)) < 0 ||
                (k = in_dir(argv[1], "fuzz-broker-proto", broker_seeds)) < 0) {
                fprintf(stderr, "gen-seeds: %s\n", strerror(-k));
                return 1;
        }
        return 0;
}
