# oslogin-authorized-keys (sshd's AuthorizedKeysCommand) and
# oslogin-authorized-principals (AuthorizedPrincipalsCommand): thin clients
# of accountsd's keys.sock. libc only: lib/basic and nothing else
# (tests/integration/test-akc.sh checks the ELF's NEEDED entries).
AKC_BIN := $(B)/authorized-keys-cmd/oslogin-authorized-keys
AKP_BIN := $(B)/authorized-keys-cmd/oslogin-authorized-principals

$(AKC_BIN): $(B)/authorized-keys-cmd/main.o $(B)/authorized-keys-cmd/helper.o $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)

$(AKP_BIN): $(B)/authorized-keys-cmd/principals.o $(B)/authorized-keys-cmd/helper.o $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)

PROGRAMS += $(AKC_BIN) $(AKP_BIN)

install-authorized-keys-cmd: $(AKC_BIN) $(AKP_BIN)
	install -D -m 0755 $(AKC_BIN) $(DESTDIR)$(SBINDIR)/oslogin-authorized-keys
	install -D -m 0755 $(AKP_BIN) $(DESTDIR)$(SBINDIR)/oslogin-authorized-principals
INSTALL_RULES += install-authorized-keys-cmd
.PHONY: install-authorized-keys-cmd
