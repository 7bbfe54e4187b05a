# nss-hammer: threads resolving users and groups through glibc against the
# set of allowed answers while the cache is replaced and accountsd restarts;
# also a long-running (nscd-style) lookup process. test-nss-concurrency.sh.
NSS_HAMMER := $(B)/tests/tools/nss-hammer
$(NSS_HAMMER): $(B)/tests/tools/nss-hammer.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -lpthread
TEST_PROGRAMS += $(NSS_HAMMER)
