#!/usr/bin/env bash
# Prints what a browser downloads of the site (gzip, as served): the wasm and script every page
# loads first — all a kiosk or a citizen's phone needs — then each chunk the staff and admin
# pages load when they are first shown (`cargo leptos build --split`).
set -euo pipefail
PKG="${1:-target/site/pkg}"

gz() { gzip -9 -c "$1" | wc -c; }

first=0
for f in "$PKG"/hailong.wasm "$PKG"/hailong.js "$PKG"/__wasm_split*.js; do
  [ -e "$f" ] && first=$((first + $(gz "$f")))
done
chunks=0 total=0
for f in "$PKG"/split_*.wasm "$PKG"/chunk_*.wasm; do
  [ -e "$f" ] || continue
  chunks=$((chunks + 1)) total=$((total + $(gz "$f")))
done
printf 'bundle: first load %d KB gzip (hailong.wasm %d KB raw); %d lazy chunks, %d KB gzip together\n' \
  $((first / 1024)) $(($(wc -c < "$PKG/hailong.wasm") / 1024)) "$chunks" $((total / 1024))
