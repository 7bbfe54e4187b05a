# systemd units, tmpfiles.d and sysusers.d entries.
$(B)/units/oslogin-accountsd.service: units/oslogin-accountsd.service.in
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' $< >$@

all: $(B)/units/oslogin-accountsd.service

install-units: $(B)/units/oslogin-accountsd.service
	install -D -m 0644 $(B)/units/oslogin-accountsd.service $(DESTDIR)$(UNITDIR)/oslogin-accountsd.service
	for s in nss keys pam; do \
		install -D -m 0644 units/oslogin-accountsd-$$s.socket $(DESTDIR)$(UNITDIR)/oslogin-accountsd-$$s.socket || exit 1; \
	done
	install -D -m 0644 units/oslogin-tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/oslogin.conf
	install -D -m 0644 units/oslogin-sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/oslogin.conf
	install -D -m 0644 units/oslogin.catalog $(DESTDIR)$(CATALOGDIR)/oslogin.catalog
INSTALL_RULES += install-units
.PHONY: install-units

install-config:
	install -D -m 0644 config/oslogin.conf $(DESTDIR)$(SYSCONFDIR)/oslogin/oslogin.conf
INSTALL_RULES += install-config
.PHONY: install-config
