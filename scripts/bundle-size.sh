#!/usr/bin/env bash
# Prints what a browser downloads of the site (gzip -9, as served): first what a kiosk tablet or
# a citizen's phone loads — the surveys' own wasm and script (project `surveys` in Cargo.toml) —
# then the site's wasm and script that staff and admin pages load first, and the chunks each of
# those pages loads when it is first shown (`cargo leptos build --split`).
set -euo pipefail
SURVEYS="${1:-target/site-surveys/pkg}"
PKG="${2:-target/site/pkg}"

gz() { gzip -9 -c "$1" | wc -c; }

surveys=0
for f in "$SURVEYS"/surveys.wasm "$SURVEYS"/surveys.js; do
  surveys=$((surveys + $(gz "$f")))
done
first=0
for f in "$PKG"/hailong.wasm "$PKG"/hailong.js "$PKG"/__wasm_split*.js; do
  [ -e "$f" ] && first=$((first + $(gz "$f")))
done
chunks=0 total=0
for f in "$PKG"/split_*.wasm "$PKG"/chunk_*.wasm; do
  [ -e "$f" ] || continue
  chunks=$((chunks + 1)) total=$((total + $(gz "$f")))
done
printf 'bundle: a kiosk or phone loads %d KB gzip (surveys.wasm %d KB raw)\n' \
  $((surveys / 1024)) $(($(wc -c < "$SURVEYS/surveys.wasm") / 1024))
printf '        staff and admin pages: %d KB gzip first (hailong.wasm %d KB raw); %d lazy chunks, %d KB gzip together\n' \
  $((first / 1024)) $(($(wc -c < "$PKG/hailong.wasm") / 1024)) "$chunks" $((total / 1024))
