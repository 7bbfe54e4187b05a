# oslogin-accountsd: the daemon only. The manager (event loop, signals,
# sockets: nss.sock, keys.sock, pam.sock, control.sock), the mode switch,
# the worker threads, the metadata watch, the OS Login directory, the
# trust broker's decisions and the sudo re-check. The libraries below it
# (lib/accounts, lib/hostconf, lib/mds, lib/basic) know nothing of it.
# Everything but main() goes into libaccountsd.a, so unit tests can link it.
ACCOUNTSD_LIB_SRCS := \
	accountsd/audit.c \
	accountsd/broker-answers.c \
	accountsd/broker-decide.c \
	accountsd/broker-decide-two-factor.c \
	accountsd/broker-peers.c \
	accountsd/broker-server.c \
	accountsd/broker-sessions.c \
	accountsd/broker-source.c \
	accountsd/conn.c \
	accountsd/control.c \
	accountsd/directory.c \
	accountsd/directory-answers.c \
	accountsd/directory-fetch.c \
	accountsd/directory-local.c \
	accountsd/directory-lookup.c \
	accountsd/directory-members.c \
	accountsd/directory-records.c \
	accountsd/journal.c \
	accountsd/manager.c \
	accountsd/mode.c \
	accountsd/nss-server.c \
	accountsd/sudo-recheck.c \
	accountsd/users-group.c \
	accountsd/watch.c \
	accountsd/worker.c

ACCOUNTSD_LIB_OBJS := $(ACCOUNTSD_LIB_SRCS:%.c=$(B)/%.o)
$(ACCOUNTSD_LIB_OBJS) $(B)/accountsd/main.o: ALL_CFLAGS += $(JSONC_CFLAGS)

$(B)/libaccountsd.a: $(ACCOUNTSD_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

ACCOUNTSD_BIN := $(B)/accountsd/oslogin-accountsd

$(ACCOUNTSD_BIN): $(B)/accountsd/main.o $(B)/libaccountsd.a $(B)/libhostconf.a $(B)/libaccounts.a $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread

PROGRAMS += $(ACCOUNTSD_BIN)
all: $(B)/libaccountsd.a

install-accountsd: $(ACCOUNTSD_BIN)
	install -D -m 0755 $(ACCOUNTSD_BIN) $(DESTDIR)$(SBINDIR)/oslogin-accountsd
INSTALL_RULES += install-accountsd
.PHONY: install-accountsd
