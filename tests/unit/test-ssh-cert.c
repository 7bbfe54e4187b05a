/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "mds/ssh-cert.h"

/* Certificates built here by hand, field by field (PROTOCOL.certkeys): the
 * parser never checks signatures (sshd did), so dummy key and signature
 * bytes are enough, and every corner of the format can be reached. The
 * real thing, signed, is in tests/integration/test-make-cert.sh. */
struct blob {
        uint8_t data[8192];
        size_t size;
};

static void put(struct blob *b, const void *p, size_t n)
{
        assert_true(b->size + n <= sizeof(b->data));
        if (n)
                memcpy(b->data + b->size, p, n);
        b->size += n;
}

static void put_u32(struct blob *b, uint32_t v)
{
        uint8_t x[4] = {v >> 24, v >> 16, v >> 8, v};
        put(b, x, 4);
}

static void put_u64(struct blob *b, uint64_t v)
{
        put_u32(b, (uint32_t)(v >> 32));
        put_u32(b, (uint32_t)v);
}

static void put_mem(struct blob *b, const void *p, size_t n)
{
        put_u32(b, (uint32_t)n);
        put(b, p, n);
}

static void put_str(struct blob *b, const char *s)
{
        put_mem(b, s, strlen(s));
}

struct ext {
        const char *name, *value; /* value NULL: empty data; else a nested string */
};

static void build(struct blob *b, const char *type, unsigned key_fields, uint32_t cert_type,
        const struct ext *ext, size_t n_ext)
{
        struct blob e = {}, principals = {};
        *b = (struct blob){};
        put_str(b, type);
        put_str(b, "0123456789abcdef0123456789abcdef"); /* nonce */
        for (unsigned i = 0; i < key_fields; i++)
                put_str(b, "key-field");
        put_u64(b, 7);
        put_u32(b, cert_type);
        put_str(b, "key-id");
        put_str(&principals, "alice_example_com");
        put_mem(b, principals.data, principals.size);
        put_u64(b, 0);
        put_u64(b, UINT64_MAX);
        put_str(b, ""); /* critical options */
        for (size_t i = 0; i < n_ext; i++) {
                put_str(&e, ext[i].name);
                if (ext[i].value) {
                        struct blob v = {};
                        put_str(&v, ext[i].value);
                        put_mem(&e, v.data, v.size);
                } else
                        put_str(&e, "");
        }
        put_mem(b, e.data, e.size);
        put_str(b, "");                   /* reserved */
        put_str(b, "signature-key-blob"); /* signature key */
        put_str(b, "signature-blob");     /* signature */
}

static char *b64(const struct blob *b)
{
        char *s = malloc(4 * ((b->size + 2) / 3) + 1);
        assert_non_null(s);
        EVP_EncodeBlock((unsigned char *)s, b->data, (int)b->size);
        return s;
}

static int fp_of(const struct blob *b, char **ret)
{
        char *s = b64(b);
        int r = ssh_cert_fingerprint(s, ret);
        free(s);
        return r;
}

#define ED "ssh-ed25519-cert-v01@openssh.com"
#define PERMITS                                                                                             \
        {"permit-pty", NULL},                                                                               \
        {                                                                                                   \
                "permit-user-rc", NULL                                                                      \
        }

static void test_name_and_data_forms(void **state)
{
        struct blob b;
        char *fp = NULL, *line;
        (void)state;

        build(&b, ED, 1, 1,
                (const struct ext[]){
                        {"fingerprint@google.com=b86db4ca-09fd-429e-b121-a12799614032", NULL}, PERMITS},
                3);
        assert_int_equal(fp_of(&b, &fp), 0);
        assert_string_equal(fp, "b86db4ca-09fd-429e-b121-a12799614032");
        free(fp);

        /* A whole line as well as sshd's bare %k. */
        char *s = b64(&b);
        assert_true(asprintf(&line, ED " %s comment here", s) > 0);
        assert_int_equal(ssh_cert_fingerprint(line, &fp), 0);
        assert_string_equal(fp, "b86db4ca-09fd-429e-b121-a12799614032");
        free(fp), free(line), free(s);

        /* The name + data form, anywhere in the list. */
        build(&b, ED, 1, 1,
                (const struct ext[]){
                        {"a-first-one", NULL}, {"fingerprint@google.com", "SHA256:abc+/="}, PERMITS},
                4);
        assert_int_equal(fp_of(&b, &fp), 0);
        assert_string_equal(fp, "SHA256:abc+/=");
        free(fp);

        /* Both forms with the same value agree. */
        build(&b, ED, 1, 1,
                (const struct ext[]){{"fingerprint@google.com", "f1"}, {"fingerprint@google.com=f1", NULL}},
                2);
        assert_int_equal(fp_of(&b, &fp), 0);
        assert_string_equal(fp, "f1");
        free(fp);
}

static void test_every_key_type(void **state)
{
        static const struct {
                const char *type;
                unsigned fields;
        } types[] = {
                {"ssh-ed25519-cert-v01@openssh.com", 1},
                {"sk-ssh-ed25519-cert-v01@openssh.com", 2},
                {"ecdsa-sha2-nistp256-cert-v01@openssh.com", 2},
                {"ecdsa-sha2-nistp384-cert-v01@openssh.com", 2},
                {"ecdsa-sha2-nistp521-cert-v01@openssh.com", 2},
                {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", 3},
                {"ssh-rsa-cert-v01@openssh.com", 2},
                {"ssh-dss-cert-v01@openssh.com", 4},
        };
        struct blob b;
        char *fp = NULL;
        (void)state;
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                build(&b, types[i].type, types[i].fields, 1,
                        (const struct ext[]){{"fingerprint@google.com=x1", NULL}}, 1);
                assert_int_equal(fp_of(&b, &fp), 0);
                assert_string_equal(fp, "x1");
                free(fp);
                /* One key field too many or too few: the walk no longer ends at the end. */
                build(&b, types[i].type, types[i].fields + 1, 1,
                        (const struct ext[]){{"fingerprint@google.com=x1", NULL}}, 1);
                assert_int_equal(fp_of(&b, &fp), -EBADMSG);
                build(&b, types[i].type, types[i].fields - 1, 1,
                        (const struct ext[]){{"fingerprint@google.com=x1", NULL}}, 1);
                assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        }
}

static void test_refusals(void **state)
{
        struct blob b;
        char *fp = NULL;
        (void)state;

        build(&b, ED, 1, 1, (const struct ext[]){PERMITS}, 2);
        assert_int_equal(fp_of(&b, &fp), -ENOENT);
        build(&b, ED, 1, 1, NULL, 0);
        assert_int_equal(fp_of(&b, &fp), -ENOENT);
        /* A host certificate is no user's. */
        build(&b, ED, 1, 2, (const struct ext[]){{"fingerprint@google.com=x", NULL}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        /* A plain key, an unknown type. */
        build(&b, "ssh-ed25519", 1, 1, (const struct ext[]){{"fingerprint@google.com=x", NULL}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        /* Two different fingerprints: trust neither. */
        build(&b, ED, 1, 1,
                (const struct ext[]){{"fingerprint@google.com", "f2"}, {"fingerprint@google.com=f1", NULL}},
                2);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        /* Empty, too long, or characters that have no place in a query or a log. */
        build(&b, ED, 1, 1, (const struct ext[]){{"fingerprint@google.com=", NULL}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        build(&b, ED, 1, 1, (const struct ext[]){{"fingerprint@google.com=a&policy=adminLogin", NULL}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        build(&b, ED, 1, 1, (const struct ext[]){{"fingerprint@google.com", "a b"}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        char longfp[300 + 24];
        strcpy(longfp, "fingerprint@google.com=");
        memset(longfp + 23, 'a', 300);
        longfp[323] = '\0';
        build(&b, ED, 1, 1, (const struct ext[]){{longfp, NULL}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        /* The name form with data, the data form with bytes after the string. */
        build(&b, ED, 1, 1, (const struct ext[]){{"fingerprint@google.com=x", "y"}}, 1);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        /* Not base64, padding in the middle, trailing bytes, nothing. */
        assert_int_equal(ssh_cert_fingerprint("!!!!", &fp), -EBADMSG);
        assert_int_equal(ssh_cert_fingerprint("AA==AAAA", &fp), -EBADMSG);
        assert_int_equal(ssh_cert_fingerprint("", &fp), -EBADMSG);
        assert_int_equal(ssh_cert_fingerprint(NULL, &fp), -EBADMSG);
        build(&b, ED, 1, 1, (const struct ext[]){{"fingerprint@google.com=x", NULL}}, 1);
        put(&b, "\0\0\0\0", 4);
        assert_int_equal(fp_of(&b, &fp), -EBADMSG);
}

static void test_every_truncation(void **state)
{
        struct blob b;
        char *fp = NULL;
        (void)state;
        build(&b, "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", 3, 1,
                (const struct ext[]){{"fingerprint@google.com=t", NULL}, PERMITS}, 3);
        size_t full = b.size;
        for (size_t n = 0; n < full; n++) {
                b.size = n;
                if (n == 0)
                        continue; /* nothing to encode */
                assert_int_equal(fp_of(&b, &fp), -EBADMSG);
        }
        b.size = full;
        assert_int_equal(fp_of(&b, &fp), 0);
        assert_string_equal(fp, "t");
        free(fp);
}

/* Real certificates, signed by tests/fixtures/keys/policy-ca.pem with
 * tests/tools/oslogin-make-cert (ssh-keygen -L reads them). */
static void test_real_certificates(void **state)
{
        static const struct {
                const char *line, *fp;
                int r;
        } certs[] = {
                {"ssh-ed25519-cert-v01@openssh.com "
                 "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIKxvhf3PYeveSEtzvG6cFRjO70zv3V2wa+"
                 "BnNNzHh5XXAAAAIHgCyor8fJp9dTdlhtPCjEU7UHPzKsnPknYqEzo2KA+"
                 "xAAAAAAAAAAEAAAABAAAADG9zbG9naW4tdGVzdAAAAAUAAAABdQAAAABrDMPfAAAAAGsM0isAAAAAAAAApQAAABtma"
                 "W5nZXJwcmludEBnb29nbGUuY29tPWZwLTQAAAAAAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl"
                 "0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAA"
                 "AAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAILAoyVy7DbwEJFiRByM4YeT"
                 "hNpn+UIf6QHfs+9J2o6JqAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDmQQUBU1aE64WxUrHkA+"
                 "8MBJPciyWDWakDM9IHkxXjVIs+VlyJVOktj64QLxod3HS2seGXqNGaItF0NEP19vcH oslogin-test",
                        "fp-4", 0},
                {"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com "
                 "AAAAK3NrLWVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgfDHXZF6YLnj8WMgr6gUq7l"
                 "OCyBsHfNZS0FL0ivwuZl0AAAAIbmlzdHAyNTYAAABBBMyAhm3+FC+d8cgF1ETRSesXMi/"
                 "E2AjRl0WDrelP3ckusoPC7CeBpY3gMfzAwzg+jrczKDiw50O+"
                 "ncLlNEABdfsAAAAEc3NoOgAAAAAAAAABAAAAAQAAAAxvc2xvZ2luLXRlc3QAAAAFAAAAAXUAAAAAawzD3wAAAABrDN"
                 "IrAAAAAAAAAKUAAAAbZmluZ2VycHJpbnRAZ29vZ2xlLmNvbT1mcC02AAAAAAAAABVwZXJtaXQtWDExLWZvcndhcmRp"
                 "bmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAAAA"
                 "AAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCw"
                 "KMlcuw28BCRYkQcjOGHk4TaZ/"
                 "lCH+kB37PvSdqOiagAAAFMAAAALc3NoLWVkMjU1MTkAAABA7LSYXxkt9tqtFtxFVAtXKYCaRSIscyZr/"
                 "gHG4KJ85evVq6iIW3gQqACQf5s0s1BYJjq0vcAQw7KcCMGF+X+YDA== oslogin-test",
                        "fp-6", 0},
                {"ssh-rsa-cert-v01@openssh.com "
                 "AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgvILzssQe2WUv9vw7dvCqPvhaTwsbiSqp6pLucsFxaf"
                 "4AAAADAQABAAAAgQDWD/"
                 "aGvXQxMiO2dkql3COd2CeQZTqlQuJY3QjMw2yLLu22VeI07l2fAOaPL0WJTmRRgQR+N7GEtUGfOkLQmMmNbL+/"
                 "axQm9+OAnGv9aNqqZC2iH0M3nvk27Bx8goZbN7A0b35lTbr7R+l+BNCQiH7bGMCh8fnPIYpchGi+"
                 "3lOGtQAAAAAAAAABAAAAAQAAAAxvc2xvZ2luLXRlc3QAAAAFAAAAAXUAAAAAawzD3wAAAABrDNIrAAAAAAAAACYAAA"
                 "AWZmluZ2VycHJpbnRAZ29vZ2xlLmNvbQAAAAgAAAAEZnAtMwAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAILAoyVy7"
                 "DbwEJFiRByM4YeThNpn+UIf6QHfs+9J2o6JqAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEDVRWDsfATW8ptTX1IleG9/"
                 "qApLkXplB74kjfU0d4S9y2fqcEkyDm7YZ5MnDAR8sRC/iCxRJcPuH/hoK81Phc8J oslogin-test",
                        "fp-3", 0},
                {"sk-ssh-ed25519-cert-v01@openssh.com "
                 "AAAAI3NrLXNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIFakSCadnAHF9GEECuGtKKHMJStXSA6Df8"
                 "7V0XKim6sWAAAAIN5SGxlAEv2z74RgXjKhH+lXFHitidS+"
                 "UvAXthAntpxdAAAABHNzaDoAAAAAAAAAAQAAAAEAAAAMb3Nsb2dpbi10ZXN0AAAABQAAAAF1AAAAAGsMw98AAAAAaw"
                 "zSKwAAAAAAAAAmAAAAFmZpbmdlcnByaW50QGdvb2dsZS5jb20AAAAIAAAABGZwLTUAAAAAAAAAMwAAAAtzc2gtZWQy"
                 "NTUxOQAAACCwKMlcuw28BCRYkQcjOGHk4TaZ/"
                 "lCH+kB37PvSdqOiagAAAFMAAAALc3NoLWVkMjU1MTkAAABAZXUVrn/BlC/"
                 "LdfuSh4Q2xOyFzNLMKQPOJFNLzbThRryo34FOpGYXordRyCmPmy8nmocbSraZhSPSBr2OgiHcDA== "
                 "oslogin-test",
                        "fp-5", 0},
                {"ssh-ed25519-cert-v01@openssh.com "
                 "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIA7zRwP5W7jVGzLkX5vpVDvJhIvmi1ln7DhsVt"
                 "begHjeAAAAIHgCyor8fJp9dTdlhtPCjEU7UHPzKsnPknYqEzo2KA+"
                 "xAAAAAAAAAAEAAAABAAAADG9zbG9naW4tdGVzdAAAAAUAAAABdQAAAABrDMPfAAAAAGsM0isAAAAAAAAAggAAABVwZ"
                 "XJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9"
                 "ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwAAA"
                 "Atzc2gtZWQyNTUxOQAAACCwKMlcuw28BCRYkQcjOGHk4TaZ/"
                 "lCH+kB37PvSdqOiagAAAFMAAAALc3NoLWVkMjU1MTkAAABAhZ+"
                 "oeqbL7GBvikpbosm0lBgvuqhqJP8Hvd4vS6WERbLMaYLqcmCuTYnXE1Tzi8k/uf/X4HDoD4Mb6mUuGL8fCA== "
                 "oslogin-test",
                        NULL, -ENOENT},
        };
        (void)state;
        for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
                char *fp = NULL;
                assert_int_equal(ssh_cert_fingerprint(certs[i].line, &fp), certs[i].r);
                if (certs[i].fp)
                        assert_string_equal(fp, certs[i].fp);
                free(fp);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_and_data_forms),
                cmocka_unit_test(test_every_key_type),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_every_truncation),
                cmocka_unit_test(test_real_certificates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
