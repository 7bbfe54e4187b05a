/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "mds/ssh-cert.h"

#define FP_NAME "fingerprint@google.com"
#define SSH2_CERT_TYPE_USER 1u

/* SSH wire format: big-endian, strings are u32 length + bytes. */
struct wire {
        const uint8_t *p;
        size_t left;
};

static int get_bytes(struct wire *w, size_t n, const uint8_t **ret)
{
        if (w->left < n)
                return -EBADMSG;
        if (ret)
                *ret = w->p;
        w->p += n;
        w->left -= n;
        return 0;
}

static int get_u32(struct wire *w, uint32_t *ret)
{
        const uint8_t *b;
        if (get_bytes(w, 4, &b) < 0)
                return -EBADMSG;
        *ret = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        return 0;
}

static int get_string(struct wire *w, struct wire *ret)
{
        uint32_t n;
        const uint8_t *b;
        if (get_u32(w, &n) < 0 || get_bytes(w, n, &b) < 0)
                return -EBADMSG;
        if (ret)
                *ret = (struct wire){.p = b, .left = n};
        return 0;
}

static int skip_strings(struct wire *w, unsigned n)
{
        while (n-- > 0)
                if (get_string(w, NULL) < 0)
                        return -EBADMSG;
        return 0;
}

static bool wire_eq(struct wire s, const char *str)
{
        return s.left == strlen(str) && memcmp(s.p, str, s.left) == 0;
}

/* How many strings of public key fields each certificate type carries. */
static int key_fields(struct wire type)
{
        static const struct {
                const char *type;
                unsigned n;
        } table[] = {
                {"ssh-ed25519-cert-v01@openssh.com", 1},         /* pk */
                {"sk-ssh-ed25519-cert-v01@openssh.com", 2},      /* pk, application */
                {"ecdsa-sha2-nistp256-cert-v01@openssh.com", 2}, /* curve, Q */
                {"ecdsa-sha2-nistp384-cert-v01@openssh.com", 2},
                {"ecdsa-sha2-nistp521-cert-v01@openssh.com", 2},
                {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", 3}, /* curve, Q, application */
                {"ssh-rsa-cert-v01@openssh.com", 2},                /* e, n */
                {"ssh-dss-cert-v01@openssh.com", 4},                /* p, q, g, y */
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (wire_eq(type, table[i].type))
                        return (int)table[i].n;
        return -EBADMSG;
}

static bool valid_fingerprint(struct wire fp)
{
        if (fp.left == 0 || fp.left > SSH_CERT_FINGERPRINT_MAX)
                return false;
        for (size_t i = 0; i < fp.left; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+/=-",
                            fp.p[i]) ||
                        fp.p[i] == '\0')
                        return false;
        return true;
}

/* The fingerprint of one extension, if it is ours: 1 and *RET, 0 when the
 * extension is another one, -EBADMSG when ours is malformed. */
static int extension_fingerprint(struct wire name, struct wire data, struct wire *ret)
{
        const size_t n = strlen(FP_NAME);

        if (name.left > n && memcmp(name.p, FP_NAME "=", n + 1) == 0) {
                *ret = (struct wire){.p = name.p + n + 1, .left = name.left - n - 1};
                /* The name form carries no data. */
                return data.left == 0 && valid_fingerprint(*ret) ? 1 : -EBADMSG;
        }
        if (wire_eq(name, FP_NAME)) {
                if (get_string(&data, ret) < 0 || data.left != 0 || !valid_fingerprint(*ret))
                        return -EBADMSG;
                return 1;
        }
        return 0;
}

static int walk_extensions(struct wire ext, struct wire *ret)
{
        struct wire found = {};

        while (ext.left > 0) {
                struct wire name, data, fp;
                int r;
                if (get_string(&ext, &name) < 0 || get_string(&ext, &data) < 0)
                        return -EBADMSG;
                r = extension_fingerprint(name, data, &fp);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (found.p && (found.left != fp.left || memcmp(found.p, fp.p, fp.left) != 0))
                        return -EBADMSG; /* two different answers: trust neither */
                found = fp;
        }
        if (!found.p)
                return -ENOENT;
        *ret = found;
        return 0;
}

/* The certificate blob, checked up to its end; *RET the extensions. */
static int walk_certificate(struct wire w, struct wire *ret)
{
        struct wire type, ext;
        uint32_t cert_type;
        int n;

        if (get_string(&w, &type) < 0 || (n = key_fields(type)) < 0)
                return -EBADMSG;
        if (skip_strings(&w, 1) < 0 ||               /* nonce */
                skip_strings(&w, (unsigned)n) < 0 || /* the key's own fields */
                get_bytes(&w, 8, NULL) < 0 ||        /* serial */
                get_u32(&w, &cert_type) < 0 || cert_type != SSH2_CERT_TYPE_USER ||
                skip_strings(&w, 2) < 0 ||     /* key id, valid principals */
                get_bytes(&w, 16, NULL) < 0 || /* valid after, valid before */
                skip_strings(&w, 1) < 0 ||     /* critical options */
                get_string(&w, &ext) < 0 ||
                skip_strings(&w, 3) < 0 || /* reserved, signature key, signature */
                w.left != 0)
                return -EBADMSG;
        *ret = ext;
        return 0;
}

/* Strict base64 of a whole word; the decoded length or -EBADMSG. */
static int decode(const char *s, size_t len, uint8_t **ret)
{
        size_t pad = 0;
        uint8_t *out;
        int n;

        if (len == 0 || len % 4 != 0 || len > SSH_CERT_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '=') {
                        if (i < len - 2)
                                return -EBADMSG;
                        pad++;
                } else if (pad ||
                           !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", s[i]))
                        return -EBADMSG;
        }
        if (pad == 2 && s[len - 1] != '=')
                return -EBADMSG;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
        if (n < 0) {
                free(out);
                return -EBADMSG;
        }
        *ret = out;
        return n - (int)pad;
}

int ssh_cert_fingerprint(const char *cert, char **ret)
{
        _cleanup_free_ uint8_t *blob = NULL;
        const char *b64 = cert;
        struct wire ext, fp;
        size_t len;
        int n, r;

        if (!cert)
                return -EBADMSG;
        len = strcspn(cert, " \t");
        if (cert[len]) {
                /* "TYPE BASE64 [COMMENT]": the blob is the second word. */
                b64 = cert + len;
                while (*b64 == ' ' || *b64 == '\t')
                        b64++;
                len = strcspn(b64, " \t");
        }
        for (const char *p = b64 + len; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\t')
                        return -EBADMSG;
        n = decode(b64, len, &blob);
        if (n < 0)
                return n;
        r = walk_certificate((struct wire){.p = blob, .left = (size_t)n}, &ext);
        if (r < 0)
                return r;
        r = walk_extensions(ext, &fp);
        if (r < 0)
                return r;
        *ret = strndup((const char *)fp.p, fp.left);
        return *ret ? 0 : -ENOMEM;
}
