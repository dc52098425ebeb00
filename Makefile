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
#   make unicode-tables  regenerate index/unicode_tables.c (the tokenizer's data)
#   make corpus     a text corpus for the inverted index (Debian's package descriptions)
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
# Stemming in the inverted index's analyzer, when Debian's libstemmer-dev is there
# (optional, like the peers: without it, asking for a stemmer is a clear error).
HAVE_STEMMER := $(shell printf '\043include <libstemmer.h>\nint main(void) { sb_stemmer_delete(0); return 0; }\n' \
                  | $(CC) -x c - -lstemmer -o /dev/null >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_STEMMER),yes)
LDLIBS_CORE  += -lstemmer
STEM_DEFS    := -DSL_HAVE_STEMMER
endif

BUILD   ?= build
SRC_LIB := $(wildcard engine/*.c index/*.c kv/*.c)

# ---------------------------------------------------------------- peers
# A peer's adapter is built exactly when a program that includes its header and
# calls its library compiles and links with $(CC) (bench/find_peers.sh).
# PEERS=auto (default) probes every peer, PEERS=none builds none, and a list
# (PEERS=leveldb,sqlite) probes only those. The defines of the peers found are kept
# in $(BUILD)/peers.list so that a change (a package installed or removed)
# rebuilds bench/stores.c.
PEERS ?= auto
CXX     ?= c++
PEER_PROBE    := $(shell sh bench/find_peers.sh '$(CC)' '$(PEERS)' '$(CXX)')
peer_field     = $(strip $(shell echo '$(PEER_PROBE)' | sed -n 's/.*$(1):\([^;]*\).*/\1/p'))
PEERS_FOUND   := $(call peer_field,found)
PEERS_MISSING := $(call peer_field,missing)
PEERS_UNKNOWN := $(call peer_field,unknown)
ifneq ($(PEERS_UNKNOWN),)
$(error PEERS=$(PEERS): no peer named $(PEERS_UNKNOWN); the peers are leveldb rocksdb lmdb sqlite kyoto xapian)
endif
# What each peer adds to the build besides its adapter, bench/peer_NAME.c: the
# library it links and the define that registers it (bench/stores.c).
peer_leveldb := -lleveldb -DSL_PEER_LEVELDB
peer_rocksdb := -lrocksdb -DSL_PEER_ROCKSDB
peer_lmdb    := -llmdb -DSL_PEER_LMDB
peer_sqlite  := -lsqlite3 -DSL_PEER_SQLITE
peer_kyoto   := -lkyotocabinet -DSL_PEER_KYOTO
peer_xapian  := -lxapian -lstdc++ -DSL_PEER_XAPIAN
PEER_SRCS := $(foreach p,$(PEERS_FOUND),$(wildcard bench/peer_$(p).c bench/peer_$(p).cc))
PEER_LIBS := $(filter -l%,$(foreach p,$(PEERS_FOUND),$(peer_$(p))))
PEER_DEFS := $(filter -D%,$(foreach p,$(PEERS_FOUND),$(peer_$(p))))
# Say it once per make command (not again in the makes that check and demo start).
ifeq ($(MAKELEVEL)$(filter clean,$(MAKECMDGOALS)),0)
$(info peers built: $(or $(PEERS_FOUND),none)$(if $(PEERS_MISSING),; left out (not usable with $(firstword $(CC))): $(PEERS_MISSING)))
endif
$(shell mkdir -p $(BUILD)/bench; echo '$(PEER_DEFS) $(STEM_DEFS)' | cmp -s - $(BUILD)/peers.list || \
	echo '$(PEER_DEFS) $(STEM_DEFS)' > $(BUILD)/peers.list)

SRC_BENCH := $(filter-out bench/main.c bench/peer_%.c,$(wildcard bench/*.c)) $(PEER_SRCS)
TESTS   := $(patsubst tests/%.c,%,$(wildcard tests/*_test.c))

OBJ_LIB := $(SRC_LIB:%.c=$(BUILD)/%.o)
OBJ_BENCH := $(patsubst %.cc,$(BUILD)/%.o,$(SRC_BENCH:%.c=$(BUILD)/%.o))
LIB     := $(BUILD)/libstorelab.a
LIB_BENCH := $(BUILD)/libstorelab-bench.a
BIN     := $(BUILD)/storelab
TEST_BINS := $(TESTS:%=$(BUILD)/tests/%)

# ---------------------------------------------------------------- dependencies
# The Debian packages the kit needs. `make deps` installs the missing ones when it
# can (root, or passwordless sudo) and otherwise prints the exact command to run.
DEPS_CORE := liblz4-dev libxxhash-dev libcmocka-dev
DEPS_PEERS := libleveldb-dev librocksdb-dev liblmdb-dev libsqlite3-dev libkyotocabinet-dev \
              libxapian-dev libstemmer-dev

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

# The sanitizer runtimes (gcc's; Debian 12 and 13 name them so) and libFuzzer (clang's).
DEPS_SAN  := libasan8 libubsan1 libtsan2
DEPS_FUZZ := clang libclang-rt-dev

# $(call need_flags,COMPILER,FLAGS,TARGET,PACKAGES[,PROGRAM]): stop with a clear
# message when COMPILER cannot build and link PROGRAM (an empty main) with FLAGS.
PROBE_MAIN := int main(void) { return 0; }
PROBE_FUZZ := int LLVMFuzzerTestOneInput(void) { return 0; }
define need_flags
printf '%s\n' '$(or $(5),$(PROBE_MAIN))' | $(1) -x c - -o /dev/null $(2) 2>/dev/null || \
  { echo "make $(3) needs a compiler that builds with $(2), and '$(1)' cannot here;"; \
    echo "on Debian: apt-get install -y $(4)"; exit 1; }
endef
SAN_FLAGS  := -fsanitize=address,undefined
TSAN_FLAGS := -fsanitize=thread

.PHONY: all deps peers demo demo-run capped bench test check tsan soak crash fuzz debug clean unicode-tables corpus
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

# The one C++ file: the Xapian adapter (Xapian has no C API).
$(BUILD)/%.o: %.cc | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CXX) $(CFLAGS) -Wall -Wextra $(filter -Werror,$(WARN)) -std=c++17 -D_GNU_SOURCE -I. \
	  $(CPPFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

# bench/ minus main.c is a library too, so tests can drive the shell's parser
# and the store list without going through the binary.
$(LIB_BENCH): $(OBJ_BENCH)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bench/stores.o $(BUILD)/bench/fts_bench.o $(BUILD)/bench/ts_bench.o: CPPFLAGS_ALL += $(PEER_DEFS)
$(BUILD)/bench/stores.o $(BUILD)/bench/fts_bench.o $(BUILD)/bench/ts_bench.o: $(BUILD)/peers.list
$(BUILD)/index/analyzer.o: CPPFLAGS_ALL += $(STEM_DEFS)
$(BUILD)/index/analyzer.o: $(BUILD)/peers.list
# The tokenizer and BM25 suites compare with FTS5 when the sqlite peer is there.
PEER_TESTS := $(BUILD)/tests/tokenizer_test.o $(BUILD)/tests/bm25_test.o
$(PEER_TESTS): CPPFLAGS_ALL += $(PEER_DEFS)
$(PEER_TESTS): $(BUILD)/peers.list

$(BIN): $(BUILD)/bench/main.o $(LIB_BENCH) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PEER_LIBS) $(LDLIBS_CORE)

# A static pattern rule: only the test binaries, never the .d files included below.
$(TEST_BINS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o \
		  $(BUILD)/tests/storecheck.o $(LIB_BENCH) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PEER_LIBS) $(LDLIBS_CORE) -lcmocka

# ---------------------------------------------------------------- the demo
# `make demo` installs what is missing (peers included unless PEERS=none), then
# runs the comparison of all five stores in a second make, so that the peers it
# just installed are detected: the key-value stores (docs/results/results.*), the
# time-series suite (ts-results.json), the text-search suite (fts-results.json),
# then `storelab guide` writes docs/when-to-use.md and its charts from those runs
# and prints which store wins what. About five minutes on two cores.
DEMO_N ?= 200000
DEMO_WORKLOADS ?= fillseq,fillrandom,readrandom,readmissing,scan,overwrite,ycsb-a,ycsb-b
# kyoto-tree (Kyoto Cabinet's B+tree), the slowest store at about 50,000 random puts a
# second, adds a minute; `make bench` and `storelab bench` run it.
DEMO_STORES ?= -kyoto-tree
DEMO_OUT := docs/results
# The text corpus: Debian's package descriptions when `make corpus` has fetched them,
# else 20,000 documents of Zipf-distributed text made here (no network); 300 queries.
DEMO_CORPUS = $(if $(wildcard $(BUILD)/corpus/debian.tsv),$(BUILD)/corpus/debian.tsv,$(BUILD)/demo/zipf.tsv)
demo:
	@$(call install_missing,$(DEPS_CORE) $(if $(filter none,$(PEERS)),,$(DEPS_PEERS)))
	@$(MAKE) --no-print-directory demo-run

demo-run: $(BIN)
	@mkdir -p $(DEMO_OUT) $(BUILD)/demo
	@echo "== [1/4] key-value stores: $(DEMO_N) keys, 3 repeats of $(DEMO_WORKLOADS)"
	$(BIN) bench --stores $(DEMO_STORES) --n $(DEMO_N) --repeat 3 --workloads $(DEMO_WORKLOADS) \
	  --format json --out $(DEMO_OUT)/results.json --markdown $(DEMO_OUT)/results.md \
	  --chart $(DEMO_OUT)/results.svg
	@echo "== [2/4] time series: 80 series of 36,000 points, ingested and queried"
	$(BIN) ts gen synthetic $(BUILD)/demo/ts-data.csv --series 80 --points 36000
	$(BIN) bench --suite ts --data $(BUILD)/demo/ts-data.csv --format json \
	  --out $(DEMO_OUT)/ts-results.json
	@rm -f $(BUILD)/demo/ts-data.csv
	@echo "== [3/4] text search: $(notdir $(DEMO_CORPUS)), 300 queries"
	@[ -f $(DEMO_CORPUS) ] || sh bench/corpus.sh zipf 20000 1 $(DEMO_CORPUS)
	@sh bench/corpus.sh queries $(DEMO_CORPUS) 300 1 $(BUILD)/demo/queries.tsv
	$(BIN) bench --suite fts --corpus $(DEMO_CORPUS) --queries $(BUILD)/demo/queries.tsv \
	  --format json --out $(DEMO_OUT)/fts-results.json
	@echo "== [4/4] which store when"
	$(BIN) guide --kv $(DEMO_OUT)/results.json --ts $(DEMO_OUT)/ts-results.json \
	  --fts $(DEMO_OUT)/fts-results.json $(CAPPED_ARG) --out docs/when-to-use.md \
	  --charts $(DEMO_OUT) > $(DEMO_OUT)/summary.txt
	@cat $(DEMO_OUT)/summary.txt
	@echo "wrote docs/when-to-use.md and, in $(DEMO_OUT): results.json, results.md, results.svg, ts-results.json, fts-results.json, when-*.svg, summary.txt"

# `make capped`: the memory-capped comparison (root: memory cgroups), each store in a
# cgroup of 256 MiB that counts its page cache, one store after another in one run.
# At the default 10 M keys (five to eight times the cap) most gets and most B-tree puts
# go to the device, so each read phase samples CAPPED_READS gets (--reads) rather than
# one per key: 10 M gets at a few thousand a second would outlast the fills by hours.
# It still takes about an hour and a half on two cores. Stores must not run at once — they
# share the device, and one store's read-ahead then slows every other store's gets.
# `make demo` ranks capped.json, when present, in the last two sections of
# docs/when-to-use.md (the demo does not re-measure it).
CAPPED_N ?= 10000000
CAPPED_READS ?= 1000000
CAPPED_FILE = $(wildcard $(DEMO_OUT)/capped.json)
CAPPED_ARG = $(if $(CAPPED_FILE),--capped $(CAPPED_FILE))
capped: $(BIN)
	@mkdir -p $(DEMO_OUT)
	$(BIN) bench --stores btree,hash,lsm,lmdb,leveldb,rocksdb --n $(CAPPED_N) \
	  --reads $(CAPPED_READS) --workloads fillrandom,readrandom --memory 256M --repeat 1 --format json \
	  --out $(DEMO_OUT)/capped.json

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
	@SL_CRASH_ROUNDS=$(N) SL_TESTS="test_crash*" sh tests/run.sh $(BUILD) btree_test hash_test lsm_test ts_test
	@SL_CRASH_ROUNDS=$(N) SL_TESTS="test_power_loss" sh tests/run.sh $(BUILD) btree_test hash_test lsm_test ts_test

check:
	@$(call install_missing,$(DEPS_CORE) $(DEPS_SAN))
	@$(call need_flags,$(CC),$(SAN_FLAGS),check,gcc $(DEPS_SAN))
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 WERROR=1 \
	  CFLAGS="-O1 -g $(SAN_FLAGS) -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="$(SAN_FLAGS)" test

# ThreadSanitizer over the suites whose code runs threads: the LSM store (readers,
# queued writers, its background thread, the block cache), the env, the log and
# the sync timer of level batch (engine/syncer). (Not the
# harness suite: the peers' libraries are not built with TSan, so it would report
# their internals.)
TSAN_TESTS := lsm_test env_test wal_test syncer_test
tsan:
	@$(call install_missing,$(DEPS_CORE) $(DEPS_SAN))
	@$(call need_flags,$(CC),$(TSAN_FLAGS),tsan,gcc $(DEPS_SAN))
	@$(MAKE) --no-print-directory BUILD=build/tsan OPT=-O1 WERROR=1 \
	  CFLAGS="-O1 -g $(TSAN_FLAGS)" LDFLAGS="$(TSAN_FLAGS)" \
	  $(addprefix build/tsan/tests/,$(TSAN_TESTS)) build/tsan/storelab
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" sh tests/run.sh build/tsan $(TSAN_TESTS)

# libFuzzer targets (clang, installed when missing) for the on-disk decoders and
# the shell's parser, each run for FUZZ_SECONDS from its seed corpus in tests/fuzz/corpus/<target>/.
FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
fuzz:
	@$(call install_missing,$(DEPS_CORE) $(DEPS_FUZZ))
	@$(call need_flags,clang,-fsanitize=fuzzer,fuzz,$(DEPS_FUZZ),$(PROBE_FUZZ))
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang CXX=clang++ CFLAGS="$(FUZZ_FLAGS)" \
	  build/fuzz/libstorelab.a build/fuzz/libstorelab-bench.a
	@for t in $(FUZZ_TARGETS); do \
	  clang -std=c11 -D_GNU_SOURCE -I. -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all \
	    tests/fuzz/$$t.c build/fuzz/libstorelab-bench.a build/fuzz/libstorelab.a \
	    $(PEER_LIBS) $(LDLIBS_CORE) -o build/fuzz/$$t || exit 1; \
	  mkdir -p build/fuzz/corpus/$$t; cp tests/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1; \
	  status=$$?; grep -E "stat::number_of_executed_units|ERROR|SUMMARY" build/fuzz/$$t.log; \
	  [ $$status -eq 0 ] || { echo "$$t failed: see build/fuzz/$$t.log"; exit 1; }; \
	done

debug:
	@$(MAKE) --no-print-directory BUILD=build/debug CFLAGS="-O0 -g3" all

# `make corpus`: the Debian package descriptions as id<TAB>text lines (about 64,000
# documents), or, where apt has none, 60,000 documents of Zipf-distributed text; then
# 2,000 queries drawn from it (build/corpus/queries.tsv) for `bench --suite fts`, and
# the ones among them of rarer words (queries-rare.tsv).
corpus:
	@mkdir -p $(BUILD)/corpus
	@if sh bench/corpus.sh debian $(BUILD)/corpus/debian.tsv 2>/dev/null; then \
	  c=$(BUILD)/corpus/debian.tsv; echo "wrote $$c ($$(wc -l < $$c) documents)"; \
	else \
	  c=$(BUILD)/corpus/zipf.tsv; sh bench/corpus.sh zipf 60000 1 $$c || exit 1; \
	  echo "no Debian descriptions here: wrote $$c (60000 documents)"; \
	fi; \
	sh bench/corpus.sh queries $$c 2000 1 $(BUILD)/corpus/queries.tsv && \
	  echo "wrote $(BUILD)/corpus/queries.tsv (2000 queries drawn from $$c)" && \
	sh bench/corpus.sh queries $$c 2000 1 $(BUILD)/corpus/queries-rare.tsv 3000 && \
	  echo "wrote $(BUILD)/corpus/queries-rare.tsv (those of them whose words are in at most 3000 documents)"

# The tokenizer's Unicode tables, regenerated from Debian's unicode-data (the
# result is committed: building needs neither the data nor this step).
UCD := /usr/share/unicode
unicode-tables:
	@$(call install_missing,unicode-data)
	awk -f index/mkunicode.awk $(UCD)/DerivedAge.txt $(UCD)/UnicodeData.txt \
	  $(UCD)/CaseFolding.txt > index/unicode_tables.c

clean:
	rm -rf build

-include $(OBJ_LIB:.o=.d) $(OBJ_BENCH:.o=.d) $(BUILD)/bench/main.d $(TEST_BINS:=.d) $(BUILD)/tests/testutil.d $(BUILD)/tests/storecheck.d
