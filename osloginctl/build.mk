# osloginctl: the administrator's CLI. It talks to the daemon over the
# control socket (lib/basic/control-proto.h) and uses the libraries for
# what works without the daemon (host configuration, purge); it never links
# the daemon's code (accountsd/).
OSLOGINCTL_SRCS := \
	osloginctl/control-client.c \
	osloginctl/osloginctl.c \
	osloginctl/osloginctl-audit.c
OSLOGINCTL_OBJS := $(OSLOGINCTL_SRCS:%.c=$(B)/%.o)
$(OSLOGINCTL_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

OSLOGINCTL_BIN := $(B)/osloginctl/osloginctl
$(OSLOGINCTL_BIN): $(OSLOGINCTL_OBJS) $(B)/libhostconf.a $(B)/libaccounts.a $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS)
PROGRAMS += $(OSLOGINCTL_BIN)

BASHCOMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
install-osloginctl: $(OSLOGINCTL_BIN)
	install -D -m 0755 $(OSLOGINCTL_BIN) $(DESTDIR)$(SBINDIR)/osloginctl
	install -D -m 0644 shell-completion/bash/osloginctl $(DESTDIR)$(BASHCOMPLETIONDIR)/osloginctl
INSTALL_RULES += install-osloginctl
.PHONY: install-osloginctl
