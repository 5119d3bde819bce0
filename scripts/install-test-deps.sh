#!/usr/bin/env bash
# Installs what the tests need: Debian's Chromium and the end2end npm packages for the browser
# tests, Debian's PostgreSQL server for the integration suite's second run (scripts/with-postgres.sh
# starts a throwaway cluster of it; the package's own cluster is not used).
# Never `npx playwright install`: its browser download cannot reach this network.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install-test-deps] installing Debian's ${missing[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ]; then
  echo "[install-test-deps] installing the Playwright packages"
  (cd end2end && npm ci --no-audit --no-fund --silent)
fi
