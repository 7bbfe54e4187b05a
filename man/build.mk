# Man pages: every man/*.N is installed into $(MANDIR)/manN.
MAN_PAGES := $(sort $(wildcard man/*.[1-8]))

install-man:
	@set -e; for p in $(MAN_PAGES); do \
		s=$${p##*.}; install -D -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$p); \
	done
INSTALL_RULES += install-man
.PHONY: install-man
