# oslogin — top-level build. GNU make, no autotools.
#
# Each component has a fragment (COMPONENT/build.mk) that lists its sources
# explicitly and appends to the variables below. Objects and binaries go to
# $(B) (default build/); `make B=build/asan SANITIZE=1` builds the same tree
# with ASan+UBSan beside it.

PREFIX        ?= /usr
MULTIARCH     := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR        ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
NSSDIR        ?= $(LIBDIR)
PAMDIR        ?= $(LIBDIR)/security
BINDIR        ?= $(PREFIX)/bin
SBINDIR       ?= $(PREFIX)/sbin
LIBEXECDIR    ?= $(PREFIX)/libexec/oslogin
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/oslogin
UNITDIR       ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR   ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
CATALOGDIR    ?= $(PREFIX)/lib/systemd/catalog
SYSCONFDIR    ?= /etc
RUNSTATEDIR   ?= /run
LOCALSTATEDIR ?= /var
DESTDIR       ?=

B        ?= build
SANITIZE ?= 0
CC       ?= cc
CFLAGS   ?= -O2 -g

# The version every program prints (--version): the top of debian/changelog.
OSLOGIN_VERSION := $(or $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null),unknown)

PATH_DEFINES = \
	-DOSLOGIN_VERSION=\"$(OSLOGIN_VERSION)\" \
	-DOSLOGIN_SYSCONFDIR=\"$(SYSCONFDIR)\" \
	-DOSLOGIN_RUNSTATEDIR=\"$(RUNSTATEDIR)\" \
	-DOSLOGIN_RUNTIME_DIR=\"$(RUNSTATEDIR)/oslogin\" \
	-DOSLOGIN_LOCALSTATEDIR=\"$(LOCALSTATEDIR)\" \
	-DOSLOGIN_STATE_DIR=\"$(LOCALSTATEDIR)/lib/oslogin\" \
	-DOSLOGIN_LIBEXECDIR=\"$(LIBEXECDIR)\" \
	-DOSLOGIN_BINDIR=\"$(BINDIR)\" \
	-DOSLOGIN_SBINDIR=\"$(SBINDIR)\" \
	-DOSLOGIN_PAMDIR=\"$(PAMDIR)\"

WARN_CFLAGS = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
	-Wmissing-prototypes -Wstrict-prototypes -Wvla -Wimplicit-fallthrough
# One section per function and --gc-sections: a program keeps only the
# library functions it calls (osloginctl uses a few of lib/accounts and
# lib/hostconf, the daemon most of them).
BASE_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN_CFLAGS) -fPIC -fvisibility=hidden \
	-fstack-protector-strong -ffunction-sections -fdata-sections $(LAYER_INC) $(PATH_DEFINES)
BASE_LDFLAGS = -Wl,-z,relro,-z,now -Wl,--as-needed -Wl,--gc-sections

ifeq ($(SANITIZE),1)
BASE_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BASE_LDFLAGS += -fsanitize=address,undefined
else
BASE_CFLAGS  += -D_FORTIFY_SOURCE=2
endif

ALL_CFLAGS  = $(BASE_CFLAGS) $(CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

PKG_CONFIG ?= pkg-config
# A missing development package stops the build here, with its name,
# instead of a late link error (`make deps` installs them all).
# Not for the goals that need none (check and demo install the packages
# first, then build in a sub-make): `make deps` must work without them.
PKG_FREE_GOALS := clean deps format check demo
pkg_wanted := $(if $(filter $(PKG_FREE_GOALS),$(MAKECMDGOALS)),,yes)
pkg_libs = $(if $(pkg_wanted),$(or $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null),$(error $(1) not found by $(PKG_CONFIG): run `make deps` (or see scripts/install-deps.sh))))
pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
ifneq ($(pkg_wanted),)
JSONC_CFLAGS   := $(call pkg_cflags,json-c)
JSONC_LIBS     := $(call pkg_libs,json-c)
MHD_LIBS       := $(call pkg_libs,libmicrohttpd)
INIH_LIBS      := $(call pkg_libs,inih)
SYSTEMD_LIBS   := $(call pkg_libs,libsystemd)
CMOCKA_LIBS    := $(call pkg_libs,cmocka)
CRYPTO_LIBS    := $(call pkg_libs,libcrypto)
endif
MDS_DEP_LIBS    = $(JSONC_LIBS) $(INIH_LIBS) $(CRYPTO_LIBS)

# Filled in by the fragments.
PROGRAMS      :=
MODULES       :=
UNIT_TESTS    :=
TEST_PROGRAMS :=
INSTALL_RULES :=
BENCH_PROGRAMS :=
# The static libraries unit tests and fuzzers link, top layer first.
UNIT_TEST_LIBS = $(B)/libaccountsd.a $(B)/libhostconf.a $(B)/libaccounts.a

.PHONY: all tests check check-quick demo install clean deps fuzz bench format robustness
all:

include lib/basic/build.mk
include lib/mds/build.mk
include lib/accounts/build.mk
include lib/hostconf/build.mk
# Every fragment must exist: a missing one is an error, not a smaller build.
include nss_oslogin/build.mk
include pam_oslogin/build.mk
include authorized-keys-cmd/build.mk
include accountsd/build.mk
include osloginctl/build.mk
include tests/fake-metadata/build.mk
include tests/fuzz/build.mk
include $(sort $(wildcard tests/tools/*.mk))
include $(sort $(wildcard bench/*.mk))
include units/build.mk
include man/build.mk
include selinux/build.mk

# Unit tests: every tests/unit/test-*.c is one cmocka program linked with
# both internal libraries; the fragments need not list them.
UNIT_TEST_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_TESTS     += $(UNIT_TEST_SRCS:tests/unit/%.c=$(B)/tests/unit/%)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_TEST_LIBS) $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(CMOCKA_LIBS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread

$(B)/tests/unit/%.o: ALL_CFLAGS += $(JSONC_CFLAGS) -Wno-missing-prototypes

all: $(PROGRAMS) $(MODULES)
tests: all $(UNIT_TESTS) $(TEST_PROGRAMS)

# Dependencies point downwards only, and the build enforces it: each part
# is compiled with one include root, $(B)/include/PART, that holds links to
# the parts it may use and nothing else, so a wrong-way #include does not
# compile. Tests and benchmarks see everything.
INCLUDE_ROOT_basic      := lib/basic
INCLUDE_ROOT_mds        := lib/mds
INCLUDE_ROOT_accounts   := lib/accounts
INCLUDE_ROOT_hostconf   := lib/hostconf
INCLUDE_ROOT_accountsd  := accountsd
INCLUDE_ROOT_osloginctl := osloginctl
INCLUDE_ROOT_nss_oslogin := nss_oslogin
INCLUDE_ROOT_pam_oslogin := pam_oslogin
INCLUDE_ROOT_authorized-keys-cmd := authorized-keys-cmd
INCLUDE_ROOT_tests      := tests
LAYER_USES_basic      := basic
LAYER_USES_mds        := basic mds
LAYER_USES_accounts   := basic mds accounts
LAYER_USES_hostconf   := basic mds hostconf
LAYER_USES_accountsd  := basic mds accounts hostconf accountsd
LAYER_USES_osloginctl := basic mds accounts hostconf osloginctl
LAYER_USES_nss_oslogin := basic nss_oslogin
LAYER_USES_pam_oslogin := basic pam_oslogin
LAYER_USES_authorized-keys-cmd := basic authorized-keys-cmd
LAYER_USES_tests      := basic mds accounts hostconf accountsd osloginctl nss_oslogin pam_oslogin authorized-keys-cmd tests
LAYERS := basic mds accounts hostconf accountsd osloginctl nss_oslogin pam_oslogin authorized-keys-cmd tests

$(B)/lib/basic/%.o:       LAYER_INC = -I$(B)/include/basic
$(B)/lib/mds/%.o:         LAYER_INC = -I$(B)/include/mds
$(B)/lib/accounts/%.o:    LAYER_INC = -I$(B)/include/accounts
$(B)/lib/hostconf/%.o:    LAYER_INC = -I$(B)/include/hostconf
$(B)/accountsd/%.o:       LAYER_INC = -I$(B)/include/accountsd
$(B)/osloginctl/%.o:      LAYER_INC = -I$(B)/include/osloginctl
$(B)/nss_oslogin/%.o:     LAYER_INC = -I$(B)/include/nss_oslogin
$(B)/pam_oslogin/%.o:     LAYER_INC = -I$(B)/include/pam_oslogin
$(B)/authorized-keys-cmd/%.o: LAYER_INC = -I$(B)/include/authorized-keys-cmd
$(B)/tests/%.o:           LAYER_INC = -I$(B)/include/tests
$(B)/bench/%.o:           LAYER_INC = -I$(B)/include/tests

$(B)/include/.stamp: Makefile
	rm -rf $(B)/include
	$(foreach l,$(LAYERS),mkdir -p $(B)/include/$(l) && \
		$(foreach u,$(LAYER_USES_$(l)),ln -s $(CURDIR)/$(INCLUDE_ROOT_$(u)) $(B)/include/$(l)/$(u) &&) ) true
	touch $@

$(B)/%.o: %.c | $(B)/include/.stamp
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(B) -path '$(B)/demo-root' -prune -o -type f -name '*.d' -print 2>/dev/null)

deps:
	@scripts/install-deps.sh

# `make check`: installs what it needs, builds twice (plain and ASan+UBSan),
# then runs every suite; the last line is "N passed, N failed".
check: deps
	$(MAKE) B=build tests
	$(MAKE) B=build/asan SANITIZE=1 tests
	@tests/run-tests.sh

# The unit tests only, plain build: the quick loop while developing.
check-quick: tests
	@tests/run-tests.sh --quick

# `make demo`: installs into a private tree (build/demo-root) and runs the
# narrated demo from there, in a private namespace when run as root.
demo: deps
	$(MAKE) all
	rm -rf $(B)/demo-root
	$(MAKE) install DESTDIR=$(CURDIR)/$(B)/demo-root
	@OSLOGIN_DEMO_ROOT=$(CURDIR)/$(B)/demo-root scripts/demo.sh

# The ASan+UBSan tree is for tests: its modules and helpers link libasan
# and libubsan, and what sshd and every process load must link libc (and
# libpam) only. Refused before anything is built or written.
ifeq ($(SANITIZE)$(filter install,$(MAKECMDGOALS)),1install)
$(error make install SANITIZE=1: a sanitizer build is never installed (its NSS and PAM modules and key helpers would load libasan and libubsan into sshd and every process); install the plain build)
endif
install: all $(INSTALL_RULES)

bench: all $(BENCH_PROGRAMS) $(TEST_PROGRAMS)
	bench/run.sh $(B)

# doc/robustness.md from the logs of the last make check.
robustness:
	scripts/robustness-report.sh build/test-logs > doc/robustness.md

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
