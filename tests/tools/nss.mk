# oslogin-cache-tool: builds/reads directory caches and stubs accountsd's
# miss socket (tests, benchmarks). nss-test-client: NSS calls with chosen
# buffer sizes and threads, through glibc or a dlopen'd module.
CACHE_TOOL := $(B)/tests/tools/oslogin-cache-tool
$(CACHE_TOOL): $(B)/tests/tools/oslogin-cache-tool.o $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)
TEST_PROGRAMS += $(CACHE_TOOL)

NSS_TEST_CLIENT := $(B)/tests/tools/nss-test-client
$(NSS_TEST_CLIENT): $(B)/tests/tools/nss-test-client.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -ldl -lpthread
TEST_PROGRAMS += $(NSS_TEST_CLIENT)
