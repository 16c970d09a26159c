# Thin wrapper over meson (builddir: build/). Every entry point installs any
# missing Debian packages first, so a fresh Debian 12 machine needs nothing else.
BUILD   ?= build
MESON   ?= meson
PREFIX  ?= /usr/local
MESONFLAGS ?=
DEPS     = scripts/install-deps.sh

.PHONY: all deps setup demo test test-deps bench eval install clean test-sanitize test-valgrind fuzz

all: setup
	ninja -C $(BUILD)

deps:
	@bash $(DEPS)

setup: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then $(MESON) setup $(BUILD) $(MESONFLAGS) >/dev/null; fi

demo: all
	@bash scripts/demo.sh $(BUILD)

# The report's browser test needs Chromium (large, so only `make test`
# installs it; docs/OBSERVABILITY.md). Where it cannot be installed the test
# is skipped with a message. `make test BROWSER_DEPS=` does not try.
BROWSER_DEPS ?= chromium
test-deps:
	@bash $(DEPS) $(BROWSER_DEPS) || echo "make test: could not install $(BROWSER_DEPS); the report's browser test will be skipped" >&2

# Runs every suite through meson, then prints exactly one line
# "N passed, N failed" (test cases, counted from each suite's own output)
# and exits non-zero if anything failed.
test: all test-deps
	@$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2 >$(BUILD)/test-output.txt 2>&1; \
	  status=$$?; tail -n 40 $(BUILD)/test-output.txt | grep -v '^ *$$' | grep -E 'FAIL|ERROR|TIMEOUT|SKIP' || true; \
	  python3 scripts/test-summary.py $(BUILD)/meson-logs/testlog.json $$status

# Reliability (docs/RELIABILITY.md). Each uses its own build directory and
# ends with "N passed, N failed". test-sanitize: the whole C suite under
# ASan+UBSan, then the threads test under TSan (TSAN_SECONDS=N: a soak of
# N seconds). test-valgrind: the suite under memcheck. fuzz: each libFuzzer
# target for FUZZ_SECONDS (clang; FUZZ_JOBS=2 runs two at a time).
FUZZ_SECONDS ?= 60
test-sanitize: deps
	@TSAN_SECONDS=$(TSAN_SECONDS) bash scripts/test-sanitize.sh build-asan build-tsan

test-valgrind: deps
	@bash scripts/test-valgrind.sh build-valgrind

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS) build-fuzz

# Benchmarks: replyguard against the raw hs_scan limit and a naive PCRE2
# loop on corpora built from ../shared/data (docs/PERFORMANCE.md).
bench: all
	@python3 bench/run-bench.py --build $(BUILD)

# Detection quality on the labelled set tests/eval/ and the benign replies of
# ../shared/data: precision and recall per category and language, benign
# block/handoff rates, compile time; fails below tests/eval/floors.json
# (docs/QUALITY.md). The same check runs in `make test` (meson test 'eval').
eval: all
	@python3 scripts/eval.py --replyguard $(BUILD)/tools/replyguard -p policies --check

# Installs into PREFIX (default /usr/local): libreplyguard.so with its
# soname, replyguard.h, replyguard.pc, the CLI and the shipped policies
# (share/replyguard/policies). DESTDIR stages the install. docs/BINDINGS.md.
install: setup
	@$(MESON) configure $(BUILD) -Dprefix=$(abspath $(PREFIX)) >/dev/null
	ninja -C $(BUILD)
	$(MESON) install -C $(BUILD) $(if $(DESTDIR),--destdir $(abspath $(DESTDIR)))
	@# /usr/local/lib/<multiarch> is on the loader's path only through its cache.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then \
	  case "$(abspath $(PREFIX))" in /usr|/usr/local) ldconfig ;; esac; fi

clean:
	rm -rf $(BUILD)
