# vmlab - one non-recursive Makefile.
#
#   make            build/vmlab, build/libvmlab.a and build/libvmlab.so (release)
#   make SAN=1      address+undefined sanitizer build in build/san/
#   make DEBUG=1    -O0 build in build/debug/
#   make deps       install missing Debian packages (apt-get, as root)
#   make check      fast tests (seconds)
#   make test       deps, build, the whole suite          (SAN=1 works too)
#   make bench      throughput benchmarks
#   make demo       deps, build, run the main job on a bundled trace
#   make install PREFIX=/usr/local   (and DESTDIR=): vmlab, the libraries,
#                   include/vmlab/*.h, lib/pkgconfig/vmlab.pc, the man page
#                   share/man/man1/vmlab.1, bash completion
#                   share/bash-completion/completions/vmlab
#   make man        build/vmlab.1 alone (also part of make)
#   make layers     check that every dependency between folders points down
#   make test-tsan  the multi-threaded replay's tests under ThreadSanitizer
#
# Objects live under build/<variant>/ so variants sit side by side;
# dependencies come from -MMD -MP.

VARIANT := release
ifeq ($(SAN),1)
VARIANT := san
else ifeq ($(DEBUG),1)
VARIANT := debug
endif

OBJDIR := build/$(VARIANT)
ifeq ($(VARIANT),release)
OUT := build
else
OUT := build/$(VARIANT)
endif

CC ?= cc
PREFIX ?= /usr/local
WERROR ?= 1

CPPFLAGS += -I. -Iinclude -D_GNU_SOURCE
CFLAGS_BASE := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation -g
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif
ifeq ($(VARIANT),release)
CFLAGS_OPT := -O2
else ifeq ($(VARIANT),san)
CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
CFLAGS_OPT := -O0
endif
CFLAGS += $(CFLAGS_BASE) $(CFLAGS_OPT)
LDLIBS += -lz -lzstd -llzma -lm -lpfm
# HDF5 (Debian's serial build) and xxHash for results (analysis/)
HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS := $(shell pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/$(shell gcc -print-multiarch)/hdf5/serial -lhdf5)
CPPFLAGS += $(HDF5_CFLAGS)
LDLIBS += $(HDF5_LIBS) -lxxhash

# The library in layers, each using only those before it (docs/design.md;
# tests/e2e/layers.sh checks): core <- policies, traces <- sim <- driver
# <- analysis; the cli on top is the vmlab binary.
LIB_SRC := $(wildcard core/*.c policies/*.c policies/*/*.c traces/*.c sim/*.c driver/*.c \
	analysis/*.c)
CLI_SRC := $(wildcard cli/*.c)
PRESETS := $(wildcard configs/os/*.ini configs/machines/*.ini)
GEN_PRESETS := $(OBJDIR)/gen/presets.c

LIB_OBJ := $(LIB_SRC:%.c=$(OBJDIR)/%.o) $(OBJDIR)/gen/presets.o
CLI_OBJ := $(CLI_SRC:%.c=$(OBJDIR)/%.o)
LIB := $(OUT)/libvmlab.a
BIN := $(OUT)/vmlab

# The shared library: one set of position-independent objects serves both
# libraries.  -fvisibility=hidden exports only what the public headers mark
# VL_API (vl_* names); -fno-semantic-interposition lets calls inside the
# library stay direct.  Soname from the major version.
VERSION := $(shell sed -n 's/^\#define VMLAB_VERSION "\(.*\)"/\1/p' include/vmlab/version.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libvmlab.so.$(SOMAJOR)
SHLIB := $(OUT)/libvmlab.so
LIB_CFLAGS := -fPIC -fvisibility=hidden -fno-semantic-interposition
$(LIB_OBJ): CFLAGS += $(LIB_CFLAGS)
# What libvmlab itself links; vmlab.pc says the same to its users.
PC_REQUIRES := hdf5 zlib libzstd liblzma libxxhash
PC_LIBS := -lpfm -lm -ldl -lpthread

# Objects are rebuilt when the flags they were compiled with change (a
# stamp per variant), so a change of LIB_CFLAGS cannot leave stale objects
# (not position-independent, say) behind for the shared library.
FLAGS_STAMP := $(OBJDIR)/flags
FLAGS_NOW := $(CC) $(CPPFLAGS) $(CFLAGS) | $(LIB_CFLAGS)
$(shell mkdir -p $(OBJDIR) && (echo '$(FLAGS_NOW)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(FLAGS_NOW)' >$(FLAGS_STAMP)))

# Tests: each tests/<kind>/test_*.c is one cmocka program.
TEST_SRC := $(wildcard tests/*/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(OBJDIR)/tests/%)
TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

# Capture runtimes (traces/capture/): the sancov library linked into traced
# programs and the qemu TCG plugin.  Position-independent, never sanitized
# (they run inside other programs), with only the .vmt writer of the library.
CAP_COMMON := traces/vmt_write.c traces/crc32c.c core/error.c core/sized.c core/thread.c
CAP_CFLAGS := $(CFLAGS_BASE) -O2 -fPIC -fvisibility=hidden -DVL_API=
SANCOV_LIB := $(OUT)/libvmlab-sancov.a
QEMU_PLUGIN := $(OUT)/vmlab-qemu.so
REEXEC := $(OUT)/vmlab-reexec.so
HEAPLIB := $(OUT)/vmlab-heap.so
CAPTURE := $(SANCOV_LIB) $(QEMU_PLUGIN) $(REEXEC) $(HEAPLIB)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(OBJDIR)/bench/%)

# The validation workloads (bench/validate): plain -O2, never sanitized,
# so that nothing but their own code touches memory in a region.
WORKLOADS := $(OUT)/vmlab-workloads $(OUT)/vmlab-pressure

MAN := $(OUT)/vmlab.1
COMPLETION := cli/completion.bash

.PHONY: all deps check test bench demo install clean fuzz layers man
all: $(BIN) $(LIB) $(SHLIB) $(CAPTURE) $(WORKLOADS) $(MAN)

# The man page is the binary's own help (mk/man.sh): one text for
# `vmlab help CMD`, `vmlab CMD --help` and man vmlab.
man: $(MAN)
$(MAN): $(BIN) mk/man.sh
	sh mk/man.sh $(BIN) >$@.tmp && mv $@.tmp $@

$(OUT)/vmlab-workloads: bench/validate/workloads.c bench/validate/roi.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< -o $@

$(OUT)/vmlab-pressure: bench/validate/pressure.c bench/validate/roi.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< -o $@ -lm

$(OBJDIR)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(GEN_PRESETS): $(PRESETS) mk/embed-presets.sh
	@mkdir -p $(dir $@)
	sh mk/embed-presets.sh $@ $(PRESETS)

$(OBJDIR)/gen/presets.o: $(GEN_PRESETS) $(FLAGS_STAMP)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OBJDIR)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CAP_CFLAGS) -MMD -MP -c $< -o $@

$(SANCOV_LIB): $(OBJDIR)/pic/traces/capture/sancov.o $(CAP_COMMON:%.c=$(OBJDIR)/pic/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(QEMU_PLUGIN): $(OBJDIR)/pic/traces/capture/qemu_plugin.o $(CAP_COMMON:%.c=$(OBJDIR)/pic/%.o)
	@mkdir -p $(dir $@)
	$(CC) -shared $^ -lzstd -lpthread -ldl -o $@

$(REEXEC): $(OBJDIR)/pic/traces/capture/reexec.o
	@mkdir -p $(dir $@)
	$(CC) -shared $^ -ldl -o $@

$(HEAPLIB): $(OBJDIR)/pic/traces/capture/heap.o
	@mkdir -p $(dir $@)
	$(CC) -shared $^ -ldl -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(SHLIB): $(OUT)/$(SONAME)
	ln -sf $(SONAME) $@

$(OUT)/$(SONAME): $(OUT)/libvmlab.so.$(VERSION)
	ln -sf libvmlab.so.$(VERSION) $@

$(OUT)/libvmlab.so.$(VERSION): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,-z,defs $^ $(LDLIBS) -ldl -lpthread -o $@

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -rdynamic $(CLI_OBJ) $(LIB) $(LDLIBS) -ldl -o $@

$(OBJDIR)/tests/%: tests/%.c $(LIB) tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP $< $(LIB) $(LDLIBS) $(TEST_LIBS) -o $@

$(OBJDIR)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP $< $(LIB) $(LDLIBS) -o $@

deps:
	@sh mk/deps.sh

# Fast tests: the unit tests only.
check: $(BIN) $(filter $(OBJDIR)/tests/unit/%,$(TEST_BIN))
	@sh tests/run.sh $(OUT) $(filter $(OBJDIR)/tests/unit/%,$(TEST_BIN))

# The whole suite: every cmocka program and every end-to-end script.
test: deps
	@$(MAKE) --no-print-directory all-tests
	@sh tests/run.sh $(OUT) $(TEST_BIN) $(wildcard tests/e2e/*.sh)

# The programs that replay on several threads (driver/multi.c: a sweep's
# cells, the run hooks, and every vl_run_ex on a machine with a second
# CPU) under ThreadSanitizer, in build/tsan/.  A race or a misused lock
# is a report, and a report is a non-zero exit.  .ci/run runs it.
TSAN_TESTS := test_run_hooks test_run_interval test_sweep test_mrc
.PHONY: test-tsan
test-tsan: deps
	@$(MAKE) --no-print-directory VARIANT=tsan OBJDIR=build/tsan OUT=build/tsan \
		CFLAGS_OPT="-O1 -fno-omit-frame-pointer -fsanitize=thread" LDFLAGS=-fsanitize=thread \
		$(TSAN_TESTS:%=build/tsan/tests/unit/%)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66" sh tests/run.sh build/tsan \
		$(TSAN_TESTS:%=build/tsan/tests/unit/%)

# Sweeps on a real one-node Slurm cluster (installs slurm-wlm and munge from
# Debian when missing; needs root).  .ci/run runs it after the suites.
.PHONY: test-slurm
test-slurm: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh $(OUT) tests/slurm/slurm.sh

.PHONY: all-tests
all-tests: $(BIN) $(LIB) $(SHLIB) $(CAPTURE) $(WORKLOADS) $(TEST_BIN) $(BENCH_BIN)

# Every #include and every symbol an object takes from another folder
# points down the layers (tests/e2e/layers.sh; make test runs it too).
layers: $(LIB) $(BIN)
	@sh tests/e2e/layers.sh $(OUT)

bench: $(BIN) $(BENCH_BIN)
	@sh bench/run.sh $(OUT) $(OBJDIR)/bench

# libFuzzer targets, one per trace format (clang; objects in build/fuzz/).
FUZZ_DIR := build/fuzz
FUZZ_FORMATS := vmt addr lackey vmsim din pin champsim raw auto
FUZZ_CFLAGS := $(filter-out -Wno-format-truncation,$(CFLAGS_BASE)) -Wno-unknown-warning-option -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/presets.o
FUZZ_BIN := $(FUZZ_FORMATS:%=$(FUZZ_DIR)/fuzz_%) $(FUZZ_DIR)/model/fuzz_model
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/gen/presets.o: $(GEN_PRESETS)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_trace.c $(FUZZ_OBJ)
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_FORMAT='"$*"' $< $(FUZZ_OBJ) \
		$(LDLIBS) -o $@

# The model fuzzer (V events and accesses under every personality, the
# checker after every record): in its own folder, run by tests/fuzz/run.sh
# for FUZZ_MODEL_SECONDS (default 60).
$(FUZZ_DIR)/model/fuzz_model: tests/fuzz/fuzz_model.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) $(LDLIBS) -o $@

# make fuzz: every reader under libFuzzer for FUZZ_SECONDS (default 20) each.
fuzz: deps
	@$(MAKE) --no-print-directory all $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_DIR) $(OUT)

DEMO_TRACE := traces/samples/gzip-lackey.trace.gz
DEMO_FRAMES := 64
demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== vmlab run: $(DEMO_TRACE), textbook personality, $(DEMO_FRAMES) frames, LRU"
	$(BIN) run --os textbook -s memory.frames=$(DEMO_FRAMES) -s replacement.policy=lru $(DEMO_TRACE)
	@echo
	@echo "== every policy on the same trace and memory"
	@for p in $$($(BIN) policies | awk 'NR > 1 && NF == 0 {exit} NR > 1 {print $$1}'); do \
		printf '%-8s ' $$p; \
		$(BIN) run --os textbook -s memory.frames=$(DEMO_FRAMES) -s replacement.policy=$$p \
			$(DEMO_TRACE) | grep '^fault rate' || exit 1; \
	done
	@echo "(lfu's counts never decay: pages used heavily early in gzip's run keep their frames, and the pages of later phases, each loaded with a count of 1, evict one another)"
	@echo
	@echo "== results in HDF5: three policies at four sizes, two miss-ratio curves"
	@rm -rf $(OUT)/demo && mkdir -p $(OUT)/demo
	@for p in lru fifo clock; do for f in 16 32 64 128; do \
		$(BIN) run --os textbook -s memory.frames=$$f -s replacement.policy=$$p \
			-s stats.interval=50000 -o $(OUT)/demo/results.h5 --run-id $$p-$$f \
			$(DEMO_TRACE) >/dev/null || exit 1; \
	done; done
	$(BIN) mrc --sizes 8:1M --points 16 -o $(OUT)/demo/results.h5 --run-id mrc-lru $(DEMO_TRACE) >/dev/null
	$(BIN) mrc --policy fifo --sizes 8:1M --points 16 -o $(OUT)/demo/results.h5 --run-id mrc-fifo \
		$(DEMO_TRACE) >/dev/null
	$(BIN) report $(OUT)/demo/results.h5
	$(BIN) plot $(OUT)/demo/results.h5 mrc --logy -o $(OUT)/demo/mrc.png
	@echo
	@echo "results: $(OUT)/demo/results.h5  (vmlab report, h5dump, python3-h5py; docs/results.md)"
	@echo "plot:    $(OUT)/demo/mrc.png  (gnuplot script $(OUT)/demo/mrc.gp, data $(OUT)/demo/mrc.dat)"

# DESTDIR stages the tree elsewhere (packaging); PREFIX is where it will
# live, and what vmlab.pc records.
LIBDIR := $(PREFIX)/lib
install: $(BIN) $(LIB) $(SHLIB) $(CAPTURE) $(WORKLOADS) $(MAN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/vmlab $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/vmlab.1
	install -m 644 $(COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vmlab
	install -m 644 $(SANCOV_LIB) $(DESTDIR)$(LIBDIR)/libvmlab-sancov.a
	install -m 755 $(QEMU_PLUGIN) $(DESTDIR)$(LIBDIR)/vmlab-qemu.so
	install -m 755 $(REEXEC) $(DESTDIR)$(LIBDIR)/vmlab-reexec.so
	install -m 755 $(HEAPLIB) $(DESTDIR)$(LIBDIR)/vmlab-heap.so
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vmlab
	install -m 755 $(OUT)/vmlab-workloads $(DESTDIR)$(PREFIX)/bin/vmlab-workloads
	install -m 755 $(OUT)/vmlab-pressure $(DESTDIR)$(PREFIX)/bin/vmlab-pressure
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libvmlab.a
	install -m 755 $(OUT)/libvmlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libvmlab.so.$(VERSION)
	ln -sf libvmlab.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libvmlab.so
	install -m 644 include/vmlab/*.h $(DESTDIR)$(PREFIX)/include/vmlab/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@REQUIRES@|$(PC_REQUIRES)|' -e 's|@LIBS@|$(PC_LIBS)|' mk/vmlab.pc.in \
		>$(DESTDIR)$(LIBDIR)/pkgconfig/vmlab.pc

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
