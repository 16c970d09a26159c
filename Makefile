# Thin wrapper over meson (builddir: build/). Every entry point installs any
# missing Debian packages first, so a fresh Debian 12 machine needs nothing else.
BUILD   ?= build
MESON   ?= meson
DEPS     = scripts/install-deps.sh

.PHONY: all deps setup demo test clean

all: setup
	ninja -C $(BUILD)

deps:
	@bash $(DEPS)

setup: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then $(MESON) setup $(BUILD) >/dev/null; fi

demo: all
	@bash scripts/demo.sh $(BUILD)

# Runs every suite through meson, then prints exactly one line
# "N passed, N failed" (test cases, counted from each suite's own output)
# and exits non-zero if anything failed.
test: all
	@$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2 >$(BUILD)/test-output.txt 2>&1; \
	  status=$$?; tail -n 40 $(BUILD)/test-output.txt | grep -v '^ *$$' | grep -E 'FAIL|ERROR|TIMEOUT' || true; \
	  python3 scripts/test-summary.py $(BUILD)/meson-logs/testlog.json $$status

clean:
	rm -rf $(BUILD)
