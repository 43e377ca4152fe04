#!/usr/bin/env bash
# Installs (only when missing) everything Witness needs to build and test, on a fresh Debian
# bookworm machine: Debian's Rust 1.96 (rustc-web) for server and panel alike, std sources for
# the wasm32 build-std route (rustup cannot fetch the wasm32 target here), trunk and
# wasm-bindgen-cli at pinned versions, wasm-opt from npm's binaryen (Debian's breaks the panel),
# and with `--browser` Chromium, ChromeDriver and axe-core for the browser tests.
#
# Idempotent: every step checks first and does nothing when the pinned version is present.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.22.1
CARGO_FUZZ_VERSION=0.13.1
BINARYEN_VERSION=132.0.0
AXE_CORE_VERSION=4.14.1
TOOLS_DIR="${WITNESS_TOOLS_DIR:-$HOME/.local/share/witness-tools}"

want_browser=0
want_fuzz=0
[ "${1:-}" = "--browser" ] && want_browser=1
[ "${1:-}" = "--fuzz" ] && want_fuzz=1

log() { printf '==> %s\n' "$*" >&2; }

packages=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 rust-web-clippy rustfmt-web
  pkg-config gcc make nodejs npm)
[ "$want_browser" = 1 ] && packages+=(chromium chromium-driver fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# node and npm may come from elsewhere than Debian (they do on these machines): accept them.
if command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's cargo and rustc, never the rustup shims.
export PATH="$TOOLS_DIR/bin:$TOOLS_DIR/npm/node_modules/.bin:/usr/bin:$PATH"
export RUSTC_BOOTSTRAP=1
mkdir -p "$TOOLS_DIR"

installed_version() { # $1 binary; prints the first version-looking word of `$1 --version`
  "$TOOLS_DIR/bin/$1" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

if [ "$(installed_version wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes)"
  # --locked fails for this version: a locked dependency is missing from the index.
  CARGO_PROFILE_RELEASE_LTO=false cargo install --root "$TOOLS_DIR" --force \
    wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(installed_version trunk)" != "$TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION (several minutes)"
  # trunk declares Rust 1.96.1, Debian has 1.96.0; fat LTO only makes the install slower.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --root "$TOOLS_DIR" --force --locked --ignore-rust-version \
    trunk --version "$TRUNK_VERSION"
fi

if [ ! -x "$TOOLS_DIR/npm/node_modules/.bin/wasm-opt" ] ||
  [ "$(cat "$TOOLS_DIR/npm/.binaryen-version" 2>/dev/null)" != "$BINARYEN_VERSION" ]; then
  log "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
  mkdir -p "$TOOLS_DIR/npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/npm" "binaryen@$BINARYEN_VERSION"
  echo "$BINARYEN_VERSION" >"$TOOLS_DIR/npm/.binaryen-version"
fi

# axe-core, injected into each page by the end-to-end accessibility test (tests/e2e).
if [ "$want_browser" = 1 ] &&
  [ "$(cat "$TOOLS_DIR/axe/.axe-core-version" 2>/dev/null)" != "$AXE_CORE_VERSION" ]; then
  log "installing axe-core $AXE_CORE_VERSION (npm)"
  mkdir -p "$TOOLS_DIR/axe"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR/axe" "axe-core@$AXE_CORE_VERSION"
  echo "$AXE_CORE_VERSION" >"$TOOLS_DIR/axe/.axe-core-version"
fi

if [ "$want_fuzz" = 1 ] && [ "$(installed_version cargo-fuzz)" != "$CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (a few minutes)"
  cargo install --root "$TOOLS_DIR" --force --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
