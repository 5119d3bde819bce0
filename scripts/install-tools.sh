#!/usr/bin/env bash
# Installs the build tools that are missing (cargo-leptos, wasm-bindgen-cli and wasm-opt at the
# versions below, which build together); skips what is already there.
# Everything comes from crates.io or npm: this network reaches nothing else.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
TOOLS_DIR="${HAILONG_TOOLS_DIR:-$HOME/.cache/hailong-tools}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$TOOLS_DIR/node_modules/.bin:$CARGO_BIN:$PATH"

log() { printf '\033[1m[install-tools]\033[0m %s\n' "$*"; }

# Installs a crate whose published lockfile names a dependency this registry lacks or this
# rustc cannot build: fetch the source, pin that one dependency, install from the copy.
install_patched() {
  local crate=$1 version=$2 dep=$3 dep_version=$4
  local registry_src
  cargo install "$crate" --version "$version" --locked >/dev/null 2>&1 && return 0
  registry_src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$crate-$version" | head -n 1)
  local work="$TOOLS_DIR/src/$crate-$version"
  rm -rf "$work" && mkdir -p "$TOOLS_DIR/src" && cp -r "$registry_src" "$work"
  (cd "$work" && cargo update -p "$dep" --precise "$dep_version" \
    && CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
       cargo install --path . --locked)
}

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "building wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  install_patched wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "building cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes, once)"
  install_patched cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1
fi

# Debian's binaryen (v108) builds a wasm that never hydrates: always the npm one.
if ! "$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  log "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS_DIR" "binaryen@$BINARYEN_VERSION"
fi

log "tools ready: $(cargo leptos --version), $(wasm-bindgen --version), wasm-opt in $TOOLS_DIR"
