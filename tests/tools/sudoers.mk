SUDOERS_TOOL := $(B)/tests/tools/sudoers-tool
$(SUDOERS_TOOL): $(B)/tests/tools/sudoers-tool.o $(B)/libaccounts.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)
TEST_PROGRAMS += $(SUDOERS_TOOL)
