#!/usr/bin/env bash
# What the browser tests drive (tests/browser.py): Debian's chromium and its chromedriver,
# and axe-core from npm at the version locked in tests/axe/package-lock.json, injected into
# each page to find accessibility violations. Re-installs axe-core only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/apt.sh chromium chromium-driver
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  scripts/apt.sh nodejs npm
fi
cd tests/axe
stamp=node_modules/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
