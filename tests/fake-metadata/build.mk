# oslogin-fake-metadata: the test metadata server (libmicrohttpd + json-c).
FAKE_SRCS := \
	tests/fake-metadata/control.c \
	tests/fake-metadata/daemon.c \
	tests/fake-metadata/data.c \
	tests/fake-metadata/main.c \
	tests/fake-metadata/oslogin.c \
	tests/fake-metadata/server.c \
	tests/fake-metadata/tree.c \
	tests/fake-metadata/two-factor.c
FAKE_OBJS := $(FAKE_SRCS:%.c=$(B)/%.o)
# Everything but main(): tests/fuzz/fuzz-fake-request links these too.
FAKE_LIB_OBJS := $(filter-out %/main.o,$(FAKE_OBJS))
# HTTPS mode: libmicrohttpd over GnuTLS, and GnuTLS itself for the client
# certificate checks (pkg-config only: the build stops when it is missing;
# Debian: libgnutls28-dev).
GNUTLS_LIBS := $(call pkg_libs,gnutls)
FAKE_LIBS     = $(MHD_LIBS) $(GNUTLS_LIBS) $(JSONC_LIBS) -lpthread
FAKE_BIN  := $(B)/tests/fake-metadata/oslogin-fake-metadata

$(FAKE_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

$(FAKE_BIN): $(FAKE_OBJS) $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(FAKE_LIBS)

PROGRAMS += $(FAKE_BIN)

install-fake-metadata: $(FAKE_BIN)
	install -D -m 0755 $(FAKE_BIN) $(DESTDIR)$(BINDIR)/oslogin-fake-metadata
INSTALL_RULES += install-fake-metadata
.PHONY: install-fake-metadata
