# NSS benchmarks: bench-nss (a copy of bench/bench-nss.sh, picked up by
# bench/run.sh) drives bench-nss-tool in a private namespace.
BENCH_NSS_TOOL := $(B)/bench/nss-bench-tool
BENCH_NSS := $(B)/bench/bench-nss

$(BENCH_NSS_TOOL): $(B)/bench/bench-nss.o $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) -ldl -lpthread

$(BENCH_NSS): bench/bench-nss.sh bench/nss-namespace.sh $(BENCH_NSS_TOOL) $(NSS_MODULE)
	@mkdir -p $(@D)
	install -m 0644 bench/nss-namespace.sh $(@D)/nss-namespace.sh
	install -m 0755 $< $@

BENCH_PROGRAMS += $(BENCH_NSS_TOOL) $(BENCH_NSS)
