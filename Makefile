# storelab — the single build entry point.
#
#   make            library + the storelab binary (build/storelab)
#   make test       install what is missing, build, run every cmocka suite
#   make check      the same suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make soak       the randomised suites in their long mode (millions of operations)
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
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE -I. $(CPPFLAGS)
CFLAGS_ALL   := $(CFLAGS) $(WARN) $(CPPFLAGS_ALL)
LDLIBS_CORE  := -llz4 -lxxhash -lpthread -lm

BUILD   ?= build
SRC_LIB := $(wildcard engine/*.c index/*.c kv/*.c)
SRC_BENCH := $(filter-out bench/main.c bench/peer_%.c,$(wildcard bench/*.c))
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

.PHONY: all deps test check soak debug clean
.SECONDARY:
all: $(BIN)

deps:
	@$(call install_missing,$(DEPS_CORE))

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

$(BIN): $(BUILD)/bench/main.o $(LIB_BENCH) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(LIB_BENCH) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_CORE) -lcmocka

# ---------------------------------------------------------------- test targets
# tests/run.sh runs each suite, adds up cmocka's counts and ends with the line
# "N passed, N failed"; it exits non-zero when anything failed.
test: $(BIN) $(TEST_BINS)
	@sh tests/run.sh $(BUILD) $(TESTS)

soak: $(BIN) $(TEST_BINS)
	@SL_SOAK=1 sh tests/run.sh $(BUILD) $(TESTS)

check:
	@$(MAKE) --no-print-directory BUILD=build/san OPT=-O1 WERROR=1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" test

debug:
	@$(MAKE) --no-print-directory BUILD=build/debug CFLAGS="-O0 -g3" all

clean:
	rm -rf build

-include $(OBJ_LIB:.o=.d) $(OBJ_BENCH:.o=.d) $(BUILD)/bench/main.d $(TEST_BINS:=.d)
