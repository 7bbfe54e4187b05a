# Fuzzers: every tests/fuzz/fuzz-*.c defines LLVMFuzzerTestOneInput().
#
# - `make fuzz` builds them with clang + libFuzzer + ASan/UBSan into
#   build/fuzz and runs each for FUZZ_SECONDS on its corpus
#   (tests/fuzz/corpus/NAME/, new finds go to build/fuzz/corpus/NAME/).
# - In every normal build tree the same sources are linked with
#   regress-main.c instead, which runs each corpus file once: that is how
#   `make check` replays the corpora (plain, ASan and valgrind) without clang.
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_NAMES   := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_REGRESS := $(FUZZ_NAMES:%=$(B)/tests/fuzz/%)
FUZZ_SECONDS ?= 60

$(B)/tests/fuzz/%.o: ALL_CFLAGS += $(JSONC_CFLAGS) -Wno-missing-prototypes

# Fuzzers that also drive the NSS module's packing of records (objects go
# before the archives on the link line: see FUZZ_LINK_INPUTS).
$(B)/tests/fuzz/fuzz-cache-reader $(B)/tests/fuzz/fuzz-nss-proto: $(B)/nss_oslogin/pack.o
FUZZ_LINK_INPUTS = $(filter %.o,$^) $(filter %.a,$^)

# fuzz-fake-request runs the fake metadata server in its own process: all
# of the fake but its main(), and libmicrohttpd.
$(B)/tests/fuzz/fuzz-fake-request: $(FAKE_LIB_OBJS)
$(B)/tests/fuzz/fuzz-fake-request: FUZZ_EXTRA_LIBS = $(FAKE_LIBS)

ifeq ($(FUZZ_ENGINE),libfuzzer)
$(B)/tests/fuzz/%: $(B)/tests/fuzz/%.o $(UNIT_TEST_LIBS) $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $(FUZZ_LINK_INPUTS) $(ALL_LDFLAGS) $(FUZZ_EXTRA_LIBS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread
else
$(B)/tests/fuzz/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/regress-main.o $(UNIT_TEST_LIBS) $(B)/libmds.a $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $(FUZZ_LINK_INPUTS) $(ALL_LDFLAGS) $(FUZZ_EXTRA_LIBS) $(MDS_DEP_LIBS) $(SYSTEMD_LIBS) -lpthread
endif

TEST_PROGRAMS += $(FUZZ_REGRESS) $(B)/tests/fuzz/gen-seeds

# Seeds of the binary-format fuzzers, built by the real encoders; the
# checked-in files are regenerated with `make fuzz-seeds` after a format change.
$(B)/tests/fuzz/gen-seeds: $(B)/tests/fuzz/gen-seeds.o $(B)/libbasic.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)

fuzz-seeds: $(B)/tests/fuzz/gen-seeds
	$(B)/tests/fuzz/gen-seeds tests/fuzz/corpus
.PHONY: fuzz-seeds

# Every fuzzer runs even when one fails; the output is kept in
# build/fuzz/NAME.log (only the summary lines are shown) and the exit status
# says whether any of them crashed, leaked or failed a check.
fuzz:
	$(MAKE) B=build/fuzz CC=clang SANITIZE=1 FUZZ_ENGINE=libfuzzer \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" fuzzers
	@failed=; for f in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
		echo "== $$f ($(FUZZ_SECONDS)s)"; \
		build/fuzz/tests/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-artifact_prefix=build/fuzz/ build/fuzz/corpus/$$f tests/fuzz/corpus/$$f \
			>build/fuzz/$$f.log 2>&1; \
		status=$$?; \
		grep -aE '^(#[0-9]+[[:space:]]+DONE|==[0-9]+==|SUMMARY|Done)' build/fuzz/$$f.log; \
		if [ $$status -ne 0 ]; then \
			echo "== $$f FAILED (exit status $$status, see build/fuzz/$$f.log)"; \
			failed="$$failed $$f"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "== fuzzers that failed:$$failed"; exit 1; fi

fuzzers: $(FUZZ_REGRESS)
.PHONY: fuzzers
