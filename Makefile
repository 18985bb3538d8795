# SPDX-License-Identifier: Apache-2.0
# smartcfg — the user's entry point. See README.md.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CC         ?= cc
FUZZ_SECONDS ?= 12

.PHONY: all build install deps test test-load test-unit test-asan test-asan-integ test-tsan test-cluster fuzz bench bench-cluster demo cross test-m4 clean

all: build

deps:
	@sh scripts/deps.sh

build:
	@cmake -S . -B "$(BUILD)" -DCMAKE_C_COMPILER=$(CC) >/dev/null
	@cmake --build "$(BUILD)" -j $(JOBS)

# Headers, libsmartcfg.a/.so, smartcfg.pc, the CMake package, the smartcfg program and the
# broker plugin under $(PREFIX) (cmake --install does the same: cmake/SmartcfgInstall.cmake).
# Installs what $(BUILD) holds (building it first if it was never configured).
# The prefix is checked first (as cmake/SmartcfgInstall.cmake's first rule does), so a user who
# may not write there gets that message, not a build step's error about the build directory.
install:
	@d="$(DESTDIR)$(PREFIX)"; while [ ! -e "$$d" ]; do d=$$(dirname "$$d"); done; \
	if [ ! -w "$$d" ]; then echo "smartcfg: cannot write to $$d (installing to $(DESTDIR)$(PREFIX)); nothing was" \
	  "installed. Run as a user who may write there, or choose another prefix (make install PREFIX=DIR)." >&2; exit 1; fi
	@test -f "$(BUILD)/cmake_install.cmake" || $(MAKE) build
	@cmake --build "$(BUILD)" -j $(JOBS)
	@cmake --install "$(BUILD)" --prefix "$(PREFIX)"

# The whole suite (scripts/run-tests.sh): unit + integration (real sockets, mosquitto,
# namespaces), the unit tests again under ASan+UBSan, each fuzzer for a bounded time, and the
# Cortex-M cross-build of the core.
test: deps build
	@BUILD=$(BUILD) BUILD_ASAN=$(BUILD_ASAN) JOBS=$(JOBS) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		bash scripts/run-tests.sh

# The local cloud as workers of a 3-node RabbitMQ cluster over PostgreSQL, with a node and a
# worker killed mid-run (docs/scale.md); also a phase of `make test`.
test-cluster: build
	@BUILD=$(BUILD) bash scripts/test-cluster.sh

# make test RUNS times in a row (default 3) beside stress-ng keeping every core busy: the
# suite must hold on a busy CI machine (scripts/test-under-load.sh; logs in test-load-K.log).
RUNS ?= 3
test-load: deps
	@bash scripts/test-under-load.sh $(RUNS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

test-asan:
	@cmake -S . -B $(BUILD_ASAN) -DSC_SANITIZE=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit -j $(JOBS)

# The integration tests of the long-lived programs against the ASan+UBSan tree, LeakSanitizer
# at every exit (scripts/test-asan-integ.sh; ~20 min on 2 cores, not part of make test).
test-asan-integ:
	@BUILD_ASAN=$(BUILD_ASAN) JOBS=$(JOBS) bash scripts/test-asan-integ.sh

# The tests that run our threads (the cloud's HTTP, binding, revocation and store threads, the
# MQTT port's network thread, the output writer, the AT front-end, the lwIP port) against a
# ThreadSanitizer build, failing on any report (scripts/test-tsan.sh; not part of make test).
test-tsan:
	@BUILD=$(BUILD) BUILD_TSAN=$(BUILD_TSAN) JOBS=$(JOBS) bash scripts/test-tsan.sh

fuzz:
	@cmake -S . -B $(BUILD_FUZZ) -DSC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target sc_fuzzers
	@sh scripts/run-fuzzers.sh $(BUILD_FUZZ)/fuzz $(FUZZ_SECONDS)

# The core must build freestanding for a Cortex-M target; prints its size, then checks that the
# flash figures and state sizes the README and docs/porting.md print are these
# (scripts/size-doc-check.py, scripts/bench-doc-check.py).
cross:
	@sh scripts/cross-build.sh >build-cross.log 2>&1 || { cat build-cross.log; exit 1; }
	@cat build-cross.log
	@python3 scripts/size-doc-check.py build-cross.log
	@python3 scripts/bench-doc-check.py build-cross.log

# The core and its self-test on an emulated Cortex-M4 (QEMU mps2-an386, picolibc, semihosting);
# see docs/m4.md.
test-m4: deps
	@bash scripts/test-m4.sh

bench: deps build
	@bash scripts/run-bench.sh $(BUILD)

# Bind throughput and p99 latency: 1 vs 2 workers on the cluster, and the default mosquitto +
# SQLite, for 10 000 and 50 000 devices (docs/scale.md). Minutes, so not part of `make bench`.
bench-cluster: build
	@BUILD=$(BUILD) bash bench/cluster/run.sh

demo: deps build
	@bash scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ) build-cross build-m4
