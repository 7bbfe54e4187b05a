# The /etc reconcile bench (bench/bench-reconcile.sh) drives
# tests/tools/oslogin-reconcile; `make bench` builds it with the tests.
BENCH_PROGRAMS += $(RECONCILE_TOOL)
