# oslogin-accountsd and osloginctl: the daemon's glue (event loop, watch,
# mode switch, sockets, sudo re-check). The directory part is in
# directory.mk. Everything but main() and osloginctl's main() goes into
# libaccountsd.a, so unit tests can link it.
ACCOUNTSD_LIB_SRCS += \
	accountsd/audit.c \
	accountsd/broker-answers.c \
	accountsd/broker-decide.c \
	accountsd/broker-peers.c \
	accountsd/broker-server.c \
	accountsd/broker-sessions.c \
	accountsd/broker-source.c \
	accountsd/control.c \
	accountsd/journal.c \
	accountsd/manager.c \
	accountsd/mode.c \
	accountsd/nss-server.c \
	accountsd/purge.c \
	accountsd/sudo-recheck.c \
	accountsd/watch.c \
	accountsd/worker.c

ACCOUNTSD_BIN := $(B)/accountsd/oslogin-accountsd

$(ACCOUNTSD_BIN): $(B)/accountsd/main.o $(B)/libaccountsd.a $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread

PROGRAMS += $(ACCOUNTSD_BIN)

install-accountsd: $(ACCOUNTSD_BIN)
	install -D -m 0755 $(ACCOUNTSD_BIN) $(DESTDIR)$(SBINDIR)/oslogin-accountsd
INSTALL_RULES += install-accountsd
.PHONY: install-accountsd

OSLOGINCTL_BIN := $(B)/accountsd/osloginctl
$(OSLOGINCTL_BIN): $(B)/accountsd/osloginctl.o $(B)/accountsd/osloginctl-audit.o $(B)/libaccountsd.a $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread
$(B)/accountsd/osloginctl.o $(B)/accountsd/osloginctl-audit.o: ALL_CFLAGS += $(JSONC_CFLAGS)
PROGRAMS += $(OSLOGINCTL_BIN)

BASHCOMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
install-osloginctl: $(OSLOGINCTL_BIN)
	install -D -m 0755 $(OSLOGINCTL_BIN) $(DESTDIR)$(SBINDIR)/osloginctl
	install -D -m 0644 shell-completion/bash/osloginctl $(DESTDIR)$(BASHCOMPLETIONDIR)/osloginctl
INSTALL_RULES += install-osloginctl
.PHONY: install-osloginctl
