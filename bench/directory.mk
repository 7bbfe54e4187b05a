# The OS Login directory of accountsd: cache build and misses
# (bench/bench-directory.sh drives them; results in BENCHMARKS.md).
BENCH_DIRECTORY_MISS := $(B)/bench/bench-directory-miss

$(BENCH_DIRECTORY_MISS): $(B)/bench/bench-directory-miss.o $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(MDS_DEP_LIBS) -lpthread

BENCH_PROGRAMS += $(BENCH_DIRECTORY_MISS)
