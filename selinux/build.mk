# selinux/: the policy module (oslogin.te + oslogin.fc -> oslogin.pp) with
# checkmodule and semodule_package only (Debian: checkpolicy,
# semodule-utils; Fedora: checkpolicy, policycoreutils). `make selinux`
# builds it; `make tests` does too where the tools are installed, so make
# check covers it (tests/integration/test-selinux.sh). Not part of `all`:
# Debian's packages do not ship it; the rpm's oslogin-selinux does.
CHECKMODULE      ?= checkmodule
SEMODULE_PACKAGE ?= semodule_package
SELINUXDIR       ?= $(PREFIX)/share/selinux/packages
SELINUX_PP       := $(B)/selinux/oslogin.pp

$(B)/selinux/oslogin.mod: selinux/oslogin.te
	@mkdir -p $(@D)
	$(CHECKMODULE) -M -m -o $@ $<

$(SELINUX_PP): $(B)/selinux/oslogin.mod selinux/oslogin.fc
	$(SEMODULE_PACKAGE) -o $@ -m $< -f selinux/oslogin.fc

selinux: $(SELINUX_PP)

ifneq ($(shell command -v $(CHECKMODULE) 2>/dev/null),)
ifneq ($(shell command -v $(SEMODULE_PACKAGE) 2>/dev/null),)
tests: $(SELINUX_PP)
endif
endif

install-selinux: $(SELINUX_PP)
	install -D -m 0644 $(SELINUX_PP) $(DESTDIR)$(SELINUXDIR)/oslogin.pp
	install -D -m 0644 selinux/oslogin.if $(DESTDIR)$(PREFIX)/share/selinux/devel/include/contrib/oslogin.if

.PHONY: selinux install-selinux
