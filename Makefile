# storelab — the single build entry point.
#
#   make            library + the storelab binary (build/storelab)
#   make test       install what is missing, build, run every cmocka suite
#   make check      the same suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the threaded suites under ThreadSanitizer
#   make soak       the randomised suites in their long mode (millions of operations)
#   make crash N=   the SIGKILL and power-loss tests of every store, N rounds each
#   make fuzz       libFuzzer targets for every decoder (FUZZ_SECONDS=N each)
#   make debug      -O0 build with every assert, for stepping through in gdb
#   make clean      remove build/
#
# WERROR=1 turns warnings into errors (.ci/run sets it; a user on a newer compiler
# should not be stopped by a new warning).

CC      ?= cc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CPPFLAGS_ALL = -std=c11 -D_GNU_SOURCE -I. $(CPPFLAGS)
CFLAGS_ALL   = $(CFLAGS) $(WARN) $(CPPFLAGS_ALL)
LDLIBS_CORE  := -llz4 -lxxhash -lpthread -lm

BUILD   ?= build
SRC_LIB := $(wildcard engine/*.c index/*.c kv/*.c)

# ---------------------------------------------------------------- peers
# Each peer adapter is built when its library's header is found (PEERS=none
# builds none). The list of those found is kept in $(BUILD)/peers.list so that a
# change (a package installed or removed) rebuilds bench/stores.c.
PEERS ?= auto
have_header = $(shell echo '\#include <$(1)>' | $(CC) -E -x c - >/dev/null 2>&1 && echo yes)
PEER_SRCS :=
PEER_LIBS :=
PEER_DEFS :=
# $(call add_peer,HEADER,SOURCE,LIBS,DEFINE): build SOURCE when HEADER is found.
define add_peer
ifeq ($$(call have_header,$(1)),yes)
PEER_SRCS += $(2)
PEER_LIBS += $(3)
PEER_DEFS += $(4)
endif
endef
ifneq ($(PEERS),none)
$(eval $(call add_peer,leveldb/c.h,bench/peer_leveldb.c,-lleveldb,-DSL_PEER_LEVELDB))
$(eval $(call add_peer,rocksdb/c.h,bench/peer_rocksdb.c,-lrocksdb,-DSL_PEER_ROCKSDB))
$(eval $(call add_peer,lmdb.h,bench/peer_lmdb.c,-llmdb,-DSL_PEER_LMDB))
$(eval $(call add_peer,sqlite3.h,bench/peer_sqlite.c,-lsqlite3,-DSL_PEER_SQLITE))
$(eval $(call add_peer,kclangc.h,bench/peer_kyoto.c,-lkyotocabinet,-DSL_PEER_KYOTO))
endif
$(shell mkdir -p $(BUILD)/bench; echo '$(PEER_DEFS)' | cmp -s - $(BUILD)/peers.list || \
	echo '$(PEER_DEFS)' > $(BUILD)/peers.list)

SRC_BENCH := $(filter-out bench/main.c bench/peer_%.c,$(wildcard bench/*.c)) $(PEER_SRCS)
TESTS   := $(patsubst tests/%.c,%,$(wildcard tests/*_test.c))

OBJ_LIB := $(SRC_LIB:%.c=$(BUILD)/%.o)
OBJ_BENCH := $(SRC_BENCH:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libstorelab.a
LIB_BENCH := $(BUILD)/libstorelab-bench.a
BIN     := $(BUILD)/storelab
TEST_BINS := $(TESTS:%=$(BUILD)/tests/%)

# ---------------------------------------------------------------- dependencies
# The Debian packages the kit needs. `make deps` installs the missing ones when it
# can (root, or passwordless sudo) and otherwise prints the exact command to run.
DEPS_CORE := liblz4-dev libxxhash-dev libcmocka-dev
DEPS_PEERS := libleveldb-dev librocksdb-dev liblmdb-dev libsqlite3-dev libkyotocabinet-dev

define install_missing
missing=""; \
for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  if ! command -v apt-get >/dev/null 2>&1; then \
    echo "storelab needs:$$missing (Debian package names); install them with your package manager"; exit 1; \
  elif [ "$$(id -u)" = 0 ]; then sudo=""; \
  elif sudo -n true 2>/dev/null; then sudo="sudo"; \
  else echo "storelab needs:$$missing"; echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; fi; \
  echo "installing:$$missing"; \
  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null || \
    { echo "apt-get install failed for:$$missing"; exit 1; }; \
fi
endef

.PHONY: all deps peers demo demo-run bench test check tsan soak crash fuzz debug clean
.SECONDARY:
all: $(BIN)

deps:
	@$(call install_missing,$(DEPS_CORE))

# The peers' libraries, for the benchmark comparison (.ci/run installs them too).
peers:
	@$(call install_missing,$(DEPS_CORE) $(DEPS_PEERS))

# Every object waits for the headers of the dependencies; the order-only
# prerequisite runs the check once per make invocation, not once per file.
$(BUILD)/.deps-ok:
	@$(call install_missing,$(DEPS_CORE))
	@mkdir -p $(BUILD) && touch $@

# ---------------------------------------------------------------- build rules
$(BUILD)/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

# bench/ minus main.c is a library too, so tests can drive the shell's parser
# and the store list without going through the binary.
$(LIB_BENCH): $(OBJ_BENCH)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bench/stores.o: CPPFLAGS_ALL += $(PEER_DEFS)
$(BUILD)/bench/stores.o: $(BUILD)/peers.list

$(BIN): $(BUILD)/bench/main.o $(LIB_BENCH) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PEER_LIBS) $(LDLIBS_CORE)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(BUILD)/tests/storecheck.o \
		  $(LIB_BENCH) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PEER_LIBS) $(LDLIBS_CORE) -lcmocka

# ---------------------------------------------------------------- the demo
# `make demo` installs what is missing (peers included unless PEERS=none), then
# runs the default comparison in a second make, so that the peers it just
# installed are detected, and writes docs/results/.
DEMO_N ?= 200000
DEMO_WORKLOADS ?= fillseq,fillrandom,readrandom,readmissing,scan,overwrite,ycsb-a,ycsb-b
DEMO_OUT := docs/results
demo:
	@$(call install_missing,$(DEPS_CORE) $(if $(filter none,$(PEERS)),,$(DEPS_PEERS)))
	@$(MAKE) --no-print-directory demo-run

demo-run: $(BIN)
	@mkdir -p $(DEMO_OUT)
	$(BIN) bench --n $(DEMO_N) --repeat 3 --workloads $(DEMO_WORKLOADS) --format json \
	  --out $(DEMO_OUT)/results.json --markdown $(DEMO_OUT)/results.md \
	  --chart $(DEMO_OUT)/results.svg --summary
	@echo "wrote $(DEMO_OUT)/results.json, results.md and results.svg"

# `make bench ARGS="..."`: storelab bench with your own options.
bench: $(BIN)
	$(BIN) bench $(ARGS)

# ---------------------------------------------------------------- test targets
# tests/run.sh runs each suite, adds up cmocka's counts and ends with the line
# "N passed, N failed"; it exits non-zero when anything failed.
test: $(BIN) $(TEST_BINS)
	@sh tests/run.sh $(BUILD) $(TESTS)

soak: $(BIN) $(TEST_BINS)
	@SL_SOAK=1 sh tests/run.sh $(BUILD) $(TESTS)

# `make crash N=500`: the SIGKILL and power-loss tests of every store, N rounds each.
N ?= 200
crash: $(BIN) $(TEST_BINS)
	@SL_CRASH_ROUNDS=$(N) SL_TESTS="test_crash*" sh tests/run.sh $(BUILD) btree_test hash_test lsm_test
	@SL_CRASH_ROUNDS=$(N) SL_TESTS="test_power_loss" sh tests/run.sh $(BUILD) btree_test hash_test lsm_test

check:
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 WERROR=1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" test

# ThreadSanitizer over the suites whose code runs threads: the LSM store (readers,
# queued writers, its background thread, the block cache) and the env. (Not the
# harness suite: the peers' libraries are not built with TSan, so it would report
# their internals.)
TSAN_TESTS := lsm_test env_test
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan OPT=-O1 WERROR=1 \
	  CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
	  $(addprefix build/tsan/tests/,$(TSAN_TESTS)) build/tsan/storelab
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" sh tests/run.sh build/tsan $(TSAN_TESTS)

# libFuzzer targets (clang) for the on-disk decoders and the shell's parser, each
# run for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/<target>/.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
fuzz:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang CFLAGS="$(FUZZ_FLAGS)" \
	  build/fuzz/libstorelab.a build/fuzz/libstorelab-bench.a
	@for t in $(FUZZ_TARGETS); do \
	  clang -std=c11 -D_GNU_SOURCE -I. -O1 -g -fsanitize=fuzzer,address,undefined \
	    tests/fuzz/$$t.c build/fuzz/libstorelab-bench.a build/fuzz/libstorelab.a \
	    $(PEER_LIBS) $(LDLIBS_CORE) -o build/fuzz/$$t || exit 1; \
	  mkdir -p build/fuzz/corpus/$$t; cp tests/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1; \
	  status=$$?; grep -E "stat::number_of_executed_units|ERROR|SUMMARY" build/fuzz/$$t.log; \
	  [ $$status -eq 0 ] || { echo "$$t failed: see build/fuzz/$$t.log"; exit 1; }; \
	done

debug:
	@$(MAKE) --no-print-directory BUILD=build/debug CFLAGS="-O0 -g3" all

clean:
	rm -rf build

-include $(OBJ_LIB:.o=.d) $(OBJ_BENCH:.o=.d) $(BUILD)/bench/main.d $(TEST_BINS:=.d)
