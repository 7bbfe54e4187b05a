# oslogin-reconcile: one reconcile of a desired state on a private tree
# (golden tests, the kill -9 test, the bench).
RECONCILE_TOOL := $(B)/tests/tools/oslogin-reconcile

$(B)/tests/tools/oslogin-reconcile.o: ALL_CFLAGS += $(JSONC_CFLAGS)
$(RECONCILE_TOOL): $(B)/tests/tools/oslogin-reconcile.o $(B)/libaccounts.a $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread

TEST_PROGRAMS += $(RECONCILE_TOOL)
