# oslogin-mds-get: one metadata request through lib/mds (tests, demo, admins).
MDS_GET := $(B)/tests/tools/oslogin-mds-get

$(MDS_GET): $(B)/tests/tools/oslogin-mds-get.o $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) -lpthread

TEST_PROGRAMS += $(MDS_GET)

install-mds-get: $(MDS_GET)
	install -D -m 0755 $(MDS_GET) $(DESTDIR)$(BINDIR)/oslogin-mds-get
INSTALL_RULES += install-mds-get
.PHONY: install-mds-get
