# Login-path benchmarks (BENCHMARKS.md): bench-akc (oslogin-authorized-keys
# per call against the fake server, `cat` of an authorized_keys file as the
# baseline) and bench-ssh-login (a real sshd in a namespace: an OS Login user
# against a local user). Copies of bench/*.sh, picked up by bench/run.sh;
# spawn-timer times whole commands for both.
BENCH_SPAWN_TIMER := $(B)/bench/spawn-timer
BENCH_AKC := $(B)/bench/bench-akc
BENCH_SSH_LOGIN := $(B)/bench/bench-ssh-login

$(BENCH_SPAWN_TIMER): $(B)/bench/spawn-timer.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS)

$(BENCH_AKC): bench/bench-akc.sh $(BENCH_SPAWN_TIMER) $(AKC_BIN)
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(BENCH_SSH_LOGIN): bench/bench-ssh-login.sh $(BENCH_SPAWN_TIMER) $(AKC_BIN) $(NSS_MODULE) $(ACCOUNTSD_BIN)
	@mkdir -p $(@D)
	install -m 0755 $< $@

BENCH_PROGRAMS += $(BENCH_SPAWN_TIMER) $(BENCH_AKC) $(BENCH_SSH_LOGIN)
