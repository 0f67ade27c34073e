# flinkops build.
#
#   make            build ./flinkops
#   make deps       install the Debian packages the build and tests need (when missing)
#   make check-deps every command, Python module and library the tests use is installed
#                   by make deps or the rig, or is in a minimal Debian 12 (tests/check-deps)
#   make test       build, then run every test: unit tests (plain and ASan+UBSan),
#                   command-line tests under valgrind, the rig's smoke tests and the
#                   end-to-end tests against real servers (plain and ASan+UBSan)
#   make unit       only the cmocka unit tests, the command-line tests, the shell completion
#                   in bash and zsh (tests/cli/completion), the manual page and the Markdown
#                   links (tests/docs/) and the round trip of rendered YAML and JSON through
#                   PyYAML (tests/roundtrip/check; no servers)
#   make flink-memory  flinkops validate against Flink's own memory model (BashJavaUtils
#                   from the rig's cached Flink jars, under a minute; part of make test)
#   make install    the binary, the manual page (docs/flinkops.1) and the bash and zsh
#                   completions under $(DESTDIR)$(PREFIX) (default /usr/local)
#   make bench      benchmarks, figures printed (never a pass/fail timing)
#   make fuzz       run every fuzz target for FUZZ_TIME seconds (default 180) and print
#                   a table; make fuzz-regress replays the committed corpus and fuzzes
#                   each target briefly (part of make test); see tests/fuzz/README.md
#   make demo       the whole story on this machine: the rig, a git repository, flinkops
#                   agent, a savepoint upgrade, each step checked; make demo-down stops it
#   make image      the OCI image (build/flinkops-image.oci.tar) from Debian's packages,
#                   no registry needed; tests/image/test checks it (part of make test)
#   make SAN=1 ...  the same with AddressSanitizer and UndefinedBehaviorSanitizer;
#                   objects go to build-san/, the binary to ./flinkops-san
#
# Sources live one folder a module (see DESIGN.md); every .c in a module
# folder is part of the binary, agent/main.c holds main().

CC ?= cc
PKGS := libgit2 libcurl yaml-0.1 libcjson openssl libmicrohttpd
# clang and libclang-rt-dev (its sanitizer and libFuzzer runtimes, only
# recommended by clang) build the fuzz targets; umoci unpacks the image for
# its test; procps: the tests' pgrep and pkill; zsh and bash-completion:
# the completion's tests; mandoc: the manual page's lint
# (tests/check-deps checks that this list and the rig's cover every command)
DEB_PKGS := build-essential pkg-config libgit2-dev libcurl4-openssl-dev libyaml-dev \
	libcjson-dev libssl-dev libcmocka-dev libmicrohttpd-dev valgrind git curl jq python3 python3-yaml openssl \
	clang libclang-rt-dev umoci procps zsh bash-completion mandoc

MODULES := lib flink render k8s config sync deploy agent
SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wvla
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -I. $(WARN) -g \
	-DFO_VERSION='"$(VERSION)"' -DFO_GIT_REV='"$(GIT_REV)"'

ifeq ($(SAN),1)
BUILD := build-san
BIN := flinkops-san
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
LDSAN := -fsanitize=address,undefined,float-cast-overflow
else
BUILD := build
BIN := flinkops
OPT := -O2
LDSAN :=
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CFLAGS_BASE) $(OPT) $(PKG_CFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) -lm -pthread

OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/agent/%,$(OBJS))
# the unit tests link the pure parts of the daemon too (schedule, webhook, metrics, leader, retain)
AGENT_PURE_OBJS := $(addprefix $(BUILD)/agent/,schedule.o webhook.o metrics.o leader.o retain.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: install demo demo-down install-yaml image image-test all deps test unit unit-run cli-test rig-smoke e2e e2e-both bench clean check-deps fuzz fuzz-regress fuzz-build flink-memory

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(OPT) $(LDSAN) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(AGENT_PURE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFO_SRCDIR='"$(CURDIR)"' -o $@ $< $(LIB_OBJS) $(AGENT_PURE_OBJS) $(LIBS) -lcmocka $(LDSAN)

-include $(OBJS:.o=.d)

# The binary, its manual page and its completion scripts (written by the
# binary from its own option tables) under $(DESTDIR)$(PREFIX).
PREFIX ?= /usr/local
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/flinkops
	install -m 644 docs/flinkops.1 $(DESTDIR)$(PREFIX)/share/man/man1/flinkops.1
	./$(BIN) completion bash >$(DESTDIR)$(PREFIX)/share/bash-completion/completions/flinkops
	./$(BIN) completion zsh >$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_flinkops

# Install missing Debian packages. Runs apt-get only when something is missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# What the tests run must be installed by make deps or the rig (a few seconds).
check-deps:
	@tests/check-deps --pc "$(PKGS) cmocka" $(DEB_PKGS)

# Every test, in the order that fails fastest: pure unit tests first, servers last.
test: deps
	$(MAKE) check-deps
	$(MAKE) unit
	$(MAKE) unit SAN=1
	$(MAKE) flink-memory
	$(MAKE) fuzz-regress
	$(MAKE) image-test
	$(MAKE) rig-smoke
	$(MAKE) e2e-both

unit: $(BIN) $(UNIT_BINS)
	@tests/run-unit $(BUILD) $(UNIT_BINS)
	@tests/cli/run ./$(BIN)
	@tests/cli/completion ./$(BIN)
	@rm -rf $(BUILD)/install && $(MAKE) -s install DESTDIR=$(CURDIR)/$(BUILD)/install PREFIX=/usr >/dev/null
	@tests/docs/man ./$(BIN) $(BUILD)/install/usr
	@tests/docs/links
	@tests/roundtrip/check ./$(BIN)

# Process sizes and memory options at Flink's boundaries: validate accepts
# exactly what Flink's BashJavaUtils accepts (tests/flink-memory/check).
flink-memory: $(BIN)
	@tests/flink-memory/check ./$(BIN)

rig-smoke:
	tests/rig/rig smoke

# The sanitizer run leaves out the install on the real node (it runs the
# image, which holds the plain binary), the demo (the same story as the rollout tests)
# and the rollouts on real pods (the same code paths as the rollout tests,
# with ten minutes of pods starting).
E2E_SAN_SKIP := tests/e2e/test_pods_bluegreen.sh tests/e2e/test_pods_install.sh tests/e2e/test_zy_demo.sh tests/e2e/test_pods_example.sh tests/e2e/test_pods_rollout.sh tests/e2e/test_pods_ha.sh tests/e2e/test_pods_app.sh
e2e: $(BIN)
ifeq ($(SAN),1)
	@tests/e2e/run ./$(BIN) $(filter-out $(E2E_SAN_SKIP),$(sort $(wildcard tests/e2e/test_*.sh)))
else
	@tests/e2e/run ./$(BIN)
endif

# The plain and the sanitizer build's end-to-end runs side by side (they
# wait on servers far more than they compute): the second on a Flink
# cluster of its own, its lines marked "[san] ". Fails when either fails.
# The tests on real pods stay in one run, one after another: the node has
# two cores, and two of them at once leave a rollout's pods unschedulable.
e2e-both:
	@$(MAKE) -s flinkops && $(MAKE) -s SAN=1 flinkops-san
	@( E2E_OWN_FLINK=1 $(MAKE) -s e2e SAN=1 2>&1; echo "$$?" >build-san/e2e.rc ) | sed -u 's/^/[san] /' & \
	$(MAKE) -s e2e; plain=$$?; wait; \
	san=$$(cat build-san/e2e.rc 2>/dev/null || echo 1); \
	echo "e2e: the plain build's run exited $$plain, the sanitizer build's $$san"; \
	[ $$plain -eq 0 ] && [ $$san -eq 0 ]

bench: deps $(BIN)
	tests/bench/run ./$(BIN)

# Fuzzing (tests/fuzz/README.md). The library objects are compiled again with
# clang, libFuzzer's coverage hooks, ASan and UBSan into build-fuzz/; each
# tests/fuzz/fuzz_NAME.c is linked with them into build-fuzz/fuzz_NAME.
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(PKG_CFLAGS)
# agent/ is left out but for its pure webhook check, which a target fuzzes
FUZZ_OBJS := $(patsubst %.c,build-fuzz/%.o,$(filter-out agent/%,$(SRCS)) agent/webhook.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
FUZZ_TIME ?= 180

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIBS)

-include $(FUZZ_OBJS:.o=.d)

fuzz-build: $(FUZZ_OBJS) $(FUZZ_BINS)

# every target for FUZZ_TIME seconds, one at a time; new inputs and crashes
# go to build-fuzz/ (never into the committed corpus by themselves)
fuzz: fuzz-build
	@tests/fuzz/run fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

# the committed corpus replayed, then a short deterministic slice of each target
fuzz-regress: fuzz-build
	@tests/fuzz/run regress $(FUZZ_TARGETS)

clean:
	rm -rf build build-san build-fuzz flinkops flinkops-san

# The container image: packaging/rootfs + umoci, no registry (see packaging/image).
IMAGE := build/flinkops-image.oci.tar
image: $(BIN)
	@command -v umoci >/dev/null || $(MAKE) deps
	packaging/image ./$(BIN) $(IMAGE)

image-test: image
	tests/image/test $(IMAGE)

# examples/install/install.yaml: the Kustomize base rendered with the rig's kubectl.
install-yaml:
	@eval "$$(tests/rig/rig env k8s)"; test -x "$$RIG_KUBECTL" || tests/rig/rig build k8s; eval "$$(tests/rig/rig env k8s)"; \
	{ echo "# Rendered from examples/install by \`make install-yaml\` (kubectl kustomize); do not edit."; \
	  echo "# kubectl apply -f install.yaml — read examples/install/kustomization.yaml first: two Secrets come before it."; \
	  "$$RIG_KUBECTL" kustomize examples/install; } >examples/install/install.yaml.tmp && \
	mv examples/install/install.yaml.tmp examples/install/install.yaml

# The story in one command (examples/demo/demo); everything stays up until demo-down.
demo: deps $(BIN)
	examples/demo/demo up ./$(BIN)

demo-down:
	examples/demo/demo down
