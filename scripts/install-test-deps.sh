#!/usr/bin/env bash
# Installs what the browser tests need: Debian's Chromium and the end2end npm packages.
# Never `npx playwright install`: its browser download cannot reach this network.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "[install-test-deps] installing Debian's chromium"
  sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq chromium >/dev/null
fi

if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/@axe-core/playwright ]; then
  echo "[install-test-deps] installing the Playwright packages"
  (cd end2end && npm ci --no-audit --no-fund --silent)
fi
