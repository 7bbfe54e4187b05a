# oslogin-make-cert: OpenSSH user certificates with OS Login's
# fingerprint@google.com extension, signed by a test CA (libcrypto only).
MAKE_CERT := $(B)/tests/tools/oslogin-make-cert

$(MAKE_CERT): $(B)/tests/tools/oslogin-make-cert.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -lcrypto

TEST_PROGRAMS += $(MAKE_CERT)
