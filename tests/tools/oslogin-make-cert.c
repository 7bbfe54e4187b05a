/* SPDX-License-Identifier: Apache-2.0 */
/* oslogin-make-cert: OpenSSH user certificates as OS Login's CA issues them,
 * for tests. The CA writes the certified key's fingerprint as an extension
 * *name*, "fingerprint@google.com=<FP>" with empty data, which
 * `ssh-keygen -O extension:` cannot write (doc/oslogin-policies.md). The
 * certificate is built by hand (PROTOCOL.certkeys) and signed with an
 * Ed25519 CA key kept as PEM (libcrypto, EVP_DigestSign).
 *
 *   oslogin-make-cert genca CA.pem                 new CA key (0600); prints its public key line
 *   oslogin-make-cert capub CA.pem                 prints the CA's public key line
 *   oslogin-make-cert sign CA.pem USER.pub [options] prints the certificate line
 *     -n PRINCIPAL       (repeatable; none: valid for every principal)
 *     -f FP              fingerprint extension
 *     -F name|data       "fingerprint@google.com=FP" (default) or "fingerprint@google.com" + FP as data
 *     -V FROM:TO         validity, seconds since the epoch (default: now-60 : now+3600)
 *     -I KEYID           key id (default "oslogin-test")
 *     -s SERIAL          serial (default 1)
 *     -P                 no permit-* extensions (no pty, forwarding)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXT 8
#define MAX_PRINCIPALS 16

struct buf {
        unsigned char *data;
        size_t size, allocated;
};

static void die(const char *what)
{
        fprintf(stderr, "oslogin-make-cert: %s\n", what);
        exit(1);
}

static void put(struct buf *b, const void *p, size_t n)
{
        if (n == 0)
                return; /* empty strings come with p == NULL: memcpy must not see it */
        if (b->size + n > b->allocated) {
                b->allocated = (b->size + n) * 2 + 64;
                b->data = realloc(b->data, b->allocated);
                if (!b->data)
                        die("out of memory");
        }
        memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
        unsigned char x[4] = {v >> 24, v >> 16, v >> 8, v};
        put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
        put_u32(b, (uint32_t)(v >> 32));
        put_u32(b, (uint32_t)v);
}

static void put_string(struct buf *b, const void *p, size_t n)
{
        put_u32(b, (uint32_t)n);
        put(b, p, n);
}

static void put_cstring(struct buf *b, const char *s)
{
        put_string(b, s, strlen(s));
}

static char *base64(const unsigned char *p, size_t n)
{
        char *out = malloc(4 * ((n + 2) / 3) + 1);
        if (!out)
                die("out of memory");
        EVP_EncodeBlock((unsigned char *)out, p, (int)n);
        return out;
}

static EVP_PKEY *load_ca(const char *path)
{
        FILE *f = fopen(path, "re");
        EVP_PKEY *k;

        if (!f)
                die("cannot open the CA key");
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519)
                die("the CA key is not an Ed25519 private key in PEM");
        return k;
}

/* The CA's public key blob: string "ssh-ed25519", string pk. */
static void ca_blob(EVP_PKEY *k, struct buf *b)
{
        unsigned char pk[32];
        size_t n = sizeof(pk);

        if (EVP_PKEY_get_raw_public_key(k, pk, &n) != 1 || n != 32)
                die("cannot read the CA public key");
        put_cstring(b, "ssh-ed25519");
        put_string(b, pk, n);
}

static void print_ca(EVP_PKEY *k)
{
        struct buf b = {};
        ca_blob(k, &b);
        char *s = base64(b.data, b.size);
        printf("ssh-ed25519 %s oslogin-test-ca\n", s);
        free(s);
        free(b.data);
}

static int genca(const char *path)
{
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        EVP_PKEY *k = NULL;
        int fd;
        FILE *f;

        if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1)
                die("cannot generate an Ed25519 key");
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || !(f = fdopen(fd, "w")))
                die("cannot create the CA key file (it must not exist)");
        if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 || fclose(f) != 0)
                die("cannot write the CA key");
        print_ca(k);
        EVP_PKEY_free(k);
        EVP_PKEY_CTX_free(ctx);
        return 0;
}

/* Reads "TYPE BASE64 [COMMENT]" and returns the decoded blob and its type. */
static void load_user_key(const char *path, struct buf *blob, char **ret_type)
{
        char line[16384], type[128], b64[16000];
        FILE *f = fopen(path, "re");
        int n;

        if (!f || !fgets(line, sizeof(line), f))
                die("cannot read the user's public key");
        fclose(f);
        if (sscanf(line, "%127s %15999s", type, b64) != 2)
                die("the user's public key is not \"TYPE BASE64\"");
        size_t len = strlen(b64), pad = len >= 2 && b64[len - 1] == '=' ? (b64[len - 2] == '=' ? 2 : 1) : 0;
        blob->data = malloc(len);
        if (!blob->data)
                die("out of memory");
        n = EVP_DecodeBlock(blob->data, (unsigned char *)b64, (int)len);
        if (n < 0 || len % 4 != 0)
                die("the user's public key is not valid base64");
        blob->size = (size_t)n - pad;
        uint32_t tl = blob->size >= 4 ? (uint32_t)blob->data[0] << 24 | blob->data[1] << 16 |
                                                blob->data[2] << 8 | blob->data[3]
                                      : 0;
        if (tl != strlen(type) || blob->size < 4 + tl || memcmp(blob->data + 4, type, tl) != 0)
                die("the key blob does not hold the key type");
        *ret_type = strdup(type);
}

struct ext {
        const char *name;
        struct buf data;
};

static int ext_cmp(const void *a, const void *b)
{
        return strcmp(((const struct ext *)a)->name, ((const struct ext *)b)->name);
}

struct options {
        const char *principals[MAX_PRINCIPALS];
        size_t n_principals;
        const char *fingerprint, *key_id;
        bool fingerprint_as_data, no_permits;
        uint64_t valid_from, valid_to, serial;
};

static void put_extensions(struct buf *cert, const struct options *o)
{
        static const char *const permits[] = {"permit-X11-forwarding", "permit-agent-forwarding",
                "permit-port-forwarding", "permit-pty", "permit-user-rc"};
        struct ext ext[MAX_EXT] = {};
        char *fp_name = NULL;
        size_t n = 0;
        struct buf all = {};

        if (o->fingerprint) {
                if (o->fingerprint_as_data) {
                        ext[n].name = "fingerprint@google.com";
                        put_cstring(&ext[n].data,
                                o->fingerprint); /* the value as a string, as OpenSSH nests it */
                } else {
                        if (asprintf(&fp_name, "fingerprint@google.com=%s", o->fingerprint) < 0)
                                die("out of memory");
                        ext[n].name = fp_name;
                }
                n++;
        }
        for (size_t i = 0; !o->no_permits && i < sizeof(permits) / sizeof(permits[0]); i++)
                ext[n++].name = permits[i];
        /* OpenSSH wants extensions sorted by name; "fingerprint@…" sorts first. */
        qsort(ext, n, sizeof(ext[0]), ext_cmp);
        for (size_t i = 0; i < n; i++) {
                put_cstring(&all, ext[i].name);
                put_string(&all, ext[i].data.data, ext[i].data.size);
                free(ext[i].data.data);
        }
        put_string(cert, all.data, all.size);
        free(all.data);
        free(fp_name);
}

static int sign(const char *ca_path, const char *key_path, const struct options *o)
{
        EVP_PKEY *ca = load_ca(ca_path);
        struct buf user = {}, cert = {}, principals = {}, sig = {};
        unsigned char nonce[32], signature[64];
        size_t siglen = sizeof(signature);
        char *type, *cert_type;

        load_user_key(key_path, &user, &type);
        /* sk-ssh-ed25519@openssh.com → sk-ssh-ed25519-cert-v01@openssh.com */
        const char *at = strchr(type, '@');
        if (asprintf(&cert_type, "%.*s-cert-v01@openssh.com", at ? (int)(at - type) : (int)strlen(type),
                    type) < 0)
                die("out of memory");
        if (strstr(type, "-cert-v01@"))
                die("the user's key is already a certificate");
        if (RAND_bytes(nonce, sizeof(nonce)) != 1)
                die("no random bytes");

        put_cstring(&cert, cert_type);
        put_string(&cert, nonce, sizeof(nonce));
        /* The key's own fields (everything after its type string) follow unchanged. */
        put(&cert, user.data + 4 + strlen(type), user.size - 4 - strlen(type));
        put_u64(&cert, o->serial);
        put_u32(&cert, 1); /* SSH2_CERT_TYPE_USER */
        put_cstring(&cert, o->key_id);
        for (size_t i = 0; i < o->n_principals; i++)
                put_cstring(&principals, o->principals[i]);
        put_string(&cert, principals.data, principals.size);
        put_u64(&cert, o->valid_from);
        put_u64(&cert, o->valid_to);
        put_string(&cert, NULL, 0); /* critical options */
        put_extensions(&cert, o);
        put_string(&cert, NULL, 0); /* reserved */
        struct buf cab = {};
        ca_blob(ca, &cab);
        put_string(&cert, cab.data, cab.size);

        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, ca) != 1 ||
                EVP_DigestSign(md, signature, &siglen, cert.data, cert.size) != 1 || siglen != 64)
                die("cannot sign");
        put_cstring(&sig, "ssh-ed25519");
        put_string(&sig, signature, siglen);
        put_string(&cert, sig.data, sig.size);

        char *b64 = base64(cert.data, cert.size);
        printf("%s %s %s\n", cert_type, b64, o->key_id);
        free(b64);
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(ca);
        free(user.data), free(cert.data), free(principals.data), free(sig.data), free(cab.data);
        free(type), free(cert_type);
        return fflush(stdout) == 0 ? 0 : 1;
}

static uint64_t number(const char *s)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || *s == '-')
                die("not a number");
        return v;
}

int main(int argc, char **argv)
{
        struct options o = {.key_id = "oslogin-test", .serial = 1};
        time_t now = time(NULL);
        int c;

        o.valid_from = (uint64_t)now - 60;
        o.valid_to = (uint64_t)now + 3600;
        if (argc >= 3 && strcmp(argv[1], "genca") == 0)
                return genca(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "capub") == 0) {
                EVP_PKEY *k = load_ca(argv[2]);
                print_ca(k);
                EVP_PKEY_free(k);
                return 0;
        }
        if (argc < 4 || strcmp(argv[1], "sign") != 0) {
                fprintf(stderr,
                        "usage: oslogin-make-cert genca CA.pem | capub CA.pem |\n"
                        "       sign CA.pem USER.pub [-n PRINCIPAL]... [-f FP] [-F name|data] [-V FROM:TO]\n"
                        "            [-I KEYID] [-s SERIAL] [-P]\n");
                return 2;
        }
        optind = 4;
        while ((c = getopt(argc, argv, "n:f:F:V:I:s:P")) >= 0) {
                switch (c) {
                case 'n':
                        if (o.n_principals == MAX_PRINCIPALS)
                                die("too many principals");
                        o.principals[o.n_principals++] = optarg;
                        break;
                case 'f':
                        o.fingerprint = optarg;
                        break;
                case 'F':
                        if (strcmp(optarg, "name") != 0 && strcmp(optarg, "data") != 0)
                                die("-F name or -F data");
                        o.fingerprint_as_data = strcmp(optarg, "data") == 0;
                        break;
                case 'V': {
                        char *colon = strchr(optarg, ':');
                        if (!colon)
                                die("-V FROM:TO");
                        *colon = '\0';
                        o.valid_from = number(optarg);
                        o.valid_to = number(colon + 1);
                        break;
                }
                case 'I':
                        o.key_id = optarg;
                        break;
                case 's':
                        o.serial = number(optarg);
                        break;
                case 'P':
                        o.no_permits = true;
                        break;
                default:
                        return 2;
                }
        }
        return sign(argv[2], argv[3], &o);
}
