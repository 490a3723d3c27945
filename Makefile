# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# prefixwatch - per-prefix packet counting in XDP, with a Prometheus exporting daemon.
#
#   make            install missing packages (as root, with apt-get, saying so first),
#                   build everything under build/
#   make check      build and run every test; ends with "N passed, N failed"
#   make check SANITIZE=1   the same under ASan and UBSan, built apart in build/san/
#   make demo       run the sensor on a virtual gateway of network namespaces
#   make bench      measure lookups, polls, reloads and memory at up to 1M prefixes (root)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make format     clang-format every source file
#   make man        render the man pages from docs/ into build/man/
#   make deb        build the Debian package build/prefixwatch_VERSION-1_ARCH.deb
#   make clean      remove build/
#   V=1             show full commands

VERSION    ?= 0.2.0
# Sanitized objects go to their own tree, so they never mix with plain ones.
BUILD      := build$(if $(filter 1,$(SANITIZE)),/san)
CLANG      ?= clang
CC         ?= gcc
BPFTOOL    ?= bpftool
ARCH_INC   := /usr/include/$(shell uname -m)-linux-gnu

BPF_CFLAGS := -g -O2 -target bpf -Wall -Werror -Iinclude -Ibpf -I$(ARCH_INC)
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -Wno-format-truncation -Iinclude -Iuser -I$(BUILD) \
              -DPW_VERSION='"$(VERSION)"' -D_GNU_SOURCE
LDLIBS_BPF := -lxdp -lbpf -lelf -lz
LDLIBS     := $(LDLIBS_BPF) -lmicrohttpd -linih -lpcap -lyaml -lcrypt -lm

# libinih: Debian's build takes its options at run time (ini_allow_multiline, ini_max_line,
# ...), upstream's fixes them when it is built. Probe once which one this is (after deps,
# in the sub-make); user/config.c does without them, lines then limited by the library.
INIH_CFLAGS ?=
INIH_TEST  := \043include <ini.h>\nint main(void) { ini_allow_multiline = 0; ini_max_line = 8; }\n
INIH_PROBE = $(shell printf '$(INIH_TEST)' | $(CC) $(INIH_CFLAGS) -x c - -o /dev/null -linih \
	>/dev/null 2>&1 && echo yes || echo no)
ifndef PW_INIH_RUNTIME_OPTS
PW_INIH_RUNTIME_OPTS = $(eval PW_INIH_RUNTIME_OPTS := $(INIH_PROBE))$(PW_INIH_RUNTIME_OPTS)
endif
INIH_DEFS   = $(if $(filter yes,$(PW_INIH_RUNTIME_OPTS)),-DPW_HAVE_INIH_RUNTIME_OPTS) $(INIH_CFLAGS)
CFLAGS     += $(INIH_DEFS)

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Debian 12 packages needed to build, test and run the demo.
DEPS := clang llvm libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev bpftool \
        libmicrohttpd-dev libinih-dev libpcap-dev libcmocka-dev pkg-config \
        netsniff-ng tcpreplay prometheus iproute2 curl clang-format python3 libclang-rt-14-dev \
        go-md2man dpkg-dev lintian man-db prometheus-alertmanager libyaml-dev libcrypt-dev \
        chromium openssl jq

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
SKEL      := $(BUILD)/prefixwatch.skel.h
BPF_OBJ   := $(BUILD)/prefixwatch.bpf.o
BPF_HDRS  := $(wildcard bpf/*.h) include/prefixwatch.h

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(wildcard tests/bpf/test_*.c))

# libFuzzer targets: clang's fuzzer runtime (libclang-rt-14-dev) with ASan and UBSan, built
# from the pure userspace sources only (no BPF, no libbpf), each into its own binary.
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRCS  := user/config.c user/prefix.c user/detector.c
FUZZ_FLAGS  = -g -O1 -std=gnu11 -Wall -Wextra -Werror -fno-omit-frame-pointer -D_GNU_SOURCE \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude -Iuser \
              $(INIH_DEFS)
FUZZ_SECONDS ?= 60

.DELETE_ON_ERROR:
.PHONY: all deps inih programs check test-unit test-bpf test-e2e demo eval fuzz format clean

all: deps
	$(Q)$(MAKE) --no-print-directory programs

TOOLS      := $(BUILD)/tests/pcapgen $(BUILD)/tests/pweval

programs: inih $(BUILD)/prefixwatch $(UNIT_TESTS) $(BPF_TESTS) $(TOOLS) $(FUZZ_BINS)

inih:
	$(Q)if [ "$(PW_INIH_RUNTIME_OPTS)" != yes ]; then \
		echo "  INIH     libinih without run-time options (an upstream build, not Debian's):"; \
		echo "           config lines are limited to the library's INI_MAX_LINE"; fi

# Install whatever is missing, only when something is (needs root then).
deps:
	$(Q)missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
			|| printf '%s ' $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make deps: missing packages ($$missing) and not root: install them with apt-get" >&2; \
			exit 1; fi; \
		echo "make: installing missing packages with apt-get: $$missing"; \
		echo "make:   apt-get update && apt-get install --no-install-recommends $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
			|| { echo "make deps: apt-get install failed" >&2; exit 1; }; \
	fi

$(BPF_OBJ): bpf/prefixwatch.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(BUILD)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $(BUILD)/prefixwatch.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $(BUILD)/prefixwatch.tmp.bpf.o 2>$@.log || { cat $@.log; exit 1; }
	$(Q)grep -v 'unrecognized data section.*xdp_run_config' $@.log >&2 || true

$(SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name prefixwatch >$@ 2>$@.log || { cat $@.log; exit 1; }
	$(Q)grep -v 'unrecognized data section.*xdp_run_config' $@.log >&2 || true

$(BUILD)/user/%.o: user/%.c $(wildcard user/*.h) include/prefixwatch.h $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/prefixwatch: $(BUILD)/user/main.o $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(USER_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter $(filter %.c %.o,$^) -o $@ $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tests/bpf/%: tests/bpf/%.c tests/bpf/frames.h $(USER_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -Itests/bpf $(filter %.c %.o,$^) -o $@ \
		$(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tests/pcapgen: tests/tools/pcapgen.c tests/bpf/frames.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS) -lpcap -lm

$(BUILD)/tests/pweval: tests/eval/pweval.c tests/bpf/frames.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wno-missing-field-initializers $< -o $@ $(LDFLAGS) -lpcap -lm

$(BUILD)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_SRCS) $(wildcard user/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_SRCS) -o $@ -linih -lm

# Each fuzz target for FUZZ_SECONDS from its seeds and the corpus it grew before
# (build/fuzz/corpus/); a crash leaves its input in build/fuzz/crashes/.
fuzz: all
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) bash tests/e2e/test_fuzz_targets.sh

check: all
	$(Q)SANITIZE=$(SANITIZE) tests/run.sh $(BUILD)

test-unit: all
	$(Q)tests/run.sh $(BUILD) unit

test-bpf: all
	$(Q)tests/run.sh $(BUILD) bpf

test-e2e: all
	$(Q)tests/run.sh $(BUILD) e2e

# The detection evaluation: labelled scenarios replayed at default settings.
eval: all
	$(Q)mkdir -p $(BUILD)/eval && PW_ATTACKS_DIR=../shared/data/attacks \
		$(BUILD)/tests/pweval $(BUILD)/prefixwatch $(BUILD)/eval

demo: all
	$(Q)tests/demo.sh $(BUILD)

# Man pages from the docs a reader browses (one source, two outputs): go-md2man renders the
# markdown; the title line and NAME are added here, the page's title and opening paragraph
# (which speak of the docs) dropped, links made plain text, section names upper-cased,
# hyphenation turned off after .TH (which turns it on again; paths broke at hyphens), and
# tables made to wrap (docs/man-tables.awk).
.PHONY: man
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date -u +%F)
MANPAGES := $(BUILD)/man/prefixwatch.8 $(BUILD)/man/prefixwatch.ini.5
MAN_SED  := -e '1,/^\#\# /{/^\#\# /!d}' -e 's/\[\([^]]*\)\]([^)]*)/\1/g'
MAN_POST := awk -f docs/man-tables.awk | sed -e '/^\.SH /s/.*/\U&/' -e '/^\.TH /a .nh'

man: $(MANPAGES)

$(BUILD)/man/prefixwatch.8: docs/usage.md docs/man-tables.awk
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ printf '%% PREFIXWATCH 8 "%s" "prefixwatch %s" "System Administration"\n\n' \
		'$(MAN_DATE)' '$(VERSION)'; \
	  printf '# NAME\n\nprefixwatch - count packets per destination prefix in XDP, '; \
	  printf 'detect floods and blackouts\n\n'; sed $(MAN_SED) $<; } | go-md2man | $(MAN_POST) >$@

$(BUILD)/man/prefixwatch.ini.5: docs/configuration.md docs/man-tables.awk
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ printf '%% PREFIXWATCH.INI 5 "%s" "prefixwatch %s" "File Formats"\n\n' \
		'$(MAN_DATE)' '$(VERSION)'; \
	  printf '# NAME\n\nprefixwatch.ini - configuration file of prefixwatch\n\n'; \
	  sed $(MAN_SED) $<; } | go-md2man | $(MAN_POST) >$@

# The Debian package: the daemon built again in build/deb-obj/ with Debian's hardening flags
# (through the environment, so the Makefile's own flags still apply), then assembled with
# dpkg-deb by deploy/debian/build-deb.sh; tests/e2e/test_deb.sh checks it with lintian.
.PHONY: deb
DEB_VERSION := $(VERSION)-1
DEB_FLAGS   := DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get

deb: deps man
	$(call msg,DEB,build/prefixwatch_$(DEB_VERSION)_$(shell dpkg --print-architecture).deb)
	$(Q)CFLAGS="$$($(DEB_FLAGS) CFLAGS) $$($(DEB_FLAGS) CPPFLAGS)" \
		LDFLAGS="$$($(DEB_FLAGS) LDFLAGS)" \
		$(MAKE) --no-print-directory SANITIZE= BUILD=build/deb-obj build/deb-obj/prefixwatch
	$(Q)bash deploy/debian/build-deb.sh build/deb-obj/prefixwatch $(BUILD)/man build \
		$(DEB_VERSION) >/dev/null

# The benchmark: its own BPF programs (floors, the LPM trie reference) on the real maps.
.PHONY: bench
BENCH := $(BUILD)/tests/bench/bench

$(BUILD)/bench.bpf.o: tests/bench/bench.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(BUILD)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $(BUILD)/bench.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $(BUILD)/bench.tmp.bpf.o

$(BUILD)/bench.skel.h: $(BUILD)/bench.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench >$@

$(BENCH): tests/bench/bench.c tests/bench/tables.c tests/bench/tables.h tests/bpf/frames.h \
	  $(BUILD)/bench.skel.h $(USER_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -Itests/bench $(filter %.c %.o,$^) -o $@ \
		$(LDFLAGS) $(LDLIBS) -lpthread

bench: all $(BENCH)
	$(Q)$(BENCH) $(BUILD)

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf $(BUILD)
