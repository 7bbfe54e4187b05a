# Benchmarks of the metadata client and the fake server (see BENCHMARKS.md).
BENCH_MDS := $(B)/bench/bench-mds
BENCH_MDS_STALL := $(B)/bench/bench-mds-stall

$(BENCH_MDS): $(B)/bench/bench-mds.o $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) -lpthread

$(BENCH_MDS_STALL): $(B)/bench/bench-mds-stall.o $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) -lpthread

BENCH_PROGRAMS += $(BENCH_MDS) $(BENCH_MDS_STALL)
