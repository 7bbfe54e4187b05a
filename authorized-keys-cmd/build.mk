# oslogin-authorized-keys: sshd's AuthorizedKeysCommand for OS Login users.
AKC_BIN := $(B)/authorized-keys-cmd/oslogin-authorized-keys

$(AKC_BIN): $(B)/authorized-keys-cmd/main.o $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) -lpthread

PROGRAMS += $(AKC_BIN)

install-authorized-keys-cmd: $(AKC_BIN)
	install -D -m 0755 $(AKC_BIN) $(DESTDIR)$(SBINDIR)/oslogin-authorized-keys
INSTALL_RULES += install-authorized-keys-cmd
.PHONY: install-authorized-keys-cmd
