# Witness: `make run` serves the product, `make test` tests all of it.
# Both install what is missing first (scripts/toolchain.sh) and are safe to run again.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

TOOLS_DIR ?= $(HOME)/.local/share/witness-tools
export WITNESS_TOOLS_DIR := $(TOOLS_DIR)
# Debian's Rust 1.96 (rustc-web) for everything, never rustup's shims; pinned tools first.
export PATH := $(TOOLS_DIR)/bin:$(TOOLS_DIR)/npm/node_modules/.bin:/usr/bin:$(PATH)
# std for wasm32 is compiled from Debian's rust-web-src with cargo's build-std, whose -Z
# options a stable compiler (Debian's rustc) takes only with RUSTC_BOOTSTRAP=1. Only for the
# wasm builds: the server, the native tests and clippy build as on any stable compiler (and
# in .cargo/config.toml build-std would rebuild std for native builds too).
WASM_ENV := RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort
# The panel's release build only (not the wasm tests, never the server), for size
# (BENCHMARKS.md, "Panel size"): a panic stops the program without formatting or unwinding
# (`immediate-abort`: cargo's unstable flag, and in Cargo.toml it would break every other
# build), std built with `optimize_for_size`, no source locations, no `{:?}` formatting (the
# panel shows nothing through Debug), and Leptos components type-erased (`erase_components`).
PANEL_ENV := $(WASM_ENV) CARGO_UNSTABLE_PANIC_IMMEDIATE_ABORT=true \
	CARGO_PROFILE_WASM_RELEASE_PANIC=immediate-abort \
	CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zlocation-detail=none -Zfmt-debug=none --cfg erase_components"

WITNESS_LISTEN ?= 127.0.0.1:5341
WITNESS_DATA_DIR ?= ./data

PANEL_INPUTS := $(shell find src style crates/witness-api/src -type f 2>/dev/null) \
	index.html Trunk.toml Cargo.toml Cargo.lock crates/witness-api/Cargo.toml Makefile

.PHONY: run test toolchain browser-toolchain panel server fmt-check clippy native-test wasm-test e2e-prereqs panel-report fuzz

run: toolchain panel
	cargo build --release -p witness-server --bin witness
	@echo "Starting Witness with data in $(WITNESS_DATA_DIR); stop it with Ctrl-C."
	WITNESS_LISTEN=$(WITNESS_LISTEN) WITNESS_DATA_DIR=$(WITNESS_DATA_DIR) WITNESS_PANEL_DIR=./dist \
		exec target/release/witness serve

test: browser-toolchain fmt-check clippy panel e2e-prereqs native-test wasm-test

toolchain:
	@bash scripts/toolchain.sh

browser-toolchain:
	@bash scripts/toolchain.sh --browser

# The panel in release mode; rebuilt only when one of its inputs changed. The server writes
# each file's .br and .gz next to it when it starts (crates/witness-server/src/panel.rs).
panel: dist/index.html
dist/index.html: $(PANEL_INPUTS)
	$(PANEL_ENV) trunk build --release --skip-version-check
	@touch dist/index.html

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# The end-to-end tests start the real debug binary and serve ./dist.
e2e-prereqs:
	cargo build -p witness-server --bin witness

# The native tests of every crate (the server's on SQLite), then the server's API suite again
# against PostgreSQL 15: a private cluster (Unix socket only, one database per test) that
# scripts/postgres.sh installs when missing, starts for this run and removes afterwards.
native-test:
	bash scripts/postgres.sh run bash -euo pipefail -c ' \
		WITNESS_TEST_BACKEND=sqlite cargo test --workspace; \
		WITNESS_TEST_BACKEND=postgres cargo test -p witness-server --test api'

# Chromium's temporary files (~100 MB per browser, left in /tmp when the test runner stops
# ChromeDriver) go to a directory of this run, removed afterwards.
wasm-test:
	browser_tmp=$$(mktemp -d) && status=0 && \
	$(WASM_ENV) CHROMEDRIVER=/usr/bin/chromedriver TMPDIR="$$browser_tmp" \
		cargo test -p witness-panel --target wasm32-unknown-unknown --test components --test table \
		|| status=$$?; rm -rf "$$browser_tmp"; exit $$status

# The panel's size and speed report (BENCHMARKS.md): gzipped bundle, then first-rows timings
# over 120,000 events against a release server. Not part of `make test`.
panel-report: browser-toolchain panel
	cargo build --release -p witness-server --bin witness
	@for f in dist/*.wasm dist/*.js dist/*.css; do \
		printf '%-60s %8d bytes gzipped\n' "$$f" "$$(gzip -9 -c "$$f" | wc -c)"; done
	@printf 'total %d bytes gzipped\n' "$$(cat dist/*.wasm dist/*.js dist/*.css | gzip -9 -c | wc -c)"
	@if command -v brotli >/dev/null; then for f in dist/*.wasm dist/*.js dist/*.css; do \
		printf '%-60s %8d bytes brotli\n' "$$f" "$$(brotli -q 11 -c "$$f" | wc -c)"; done; fi
	WITNESS_BIN=target/release/witness cargo test -p witness-panel --test e2e -- \
		--ignored --nocapture panel_speed_report

# Fuzzes the parsers that take untrusted input (fuzz/, libFuzzer through cargo-fuzz), each for
# FUZZ_RUNS executions. New inputs go to target/fuzz-corpus/, the seeds in fuzz/corpus/ stay.
# Not part of `make test`; BENCHMARKS.md has the counts.
FUZZ_RUNS ?= 10000000
FUZZ_TARGETS := clef classic filter
fuzz: toolchain
	@bash scripts/toolchain.sh --fuzz
	@for target in $(FUZZ_TARGETS); do \
		mkdir -p target/fuzz-corpus/$$target; \
		echo "==> fuzzing $$target for $(FUZZ_RUNS) executions"; \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --release $$target \
			target/fuzz-corpus/$$target fuzz/corpus/$$target -- \
			-runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 || exit 1; \
	done
