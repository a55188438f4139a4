#!/usr/bin/env bash
# Tools the contract tests run (tests/test_contract.py): Redocly's OpenAPI lint,
# openapi-typescript and the TypeScript compiler, from npm at the versions locked in
# tests/contract/package-lock.json. Re-installs only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../tests/contract"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  ../../scripts/apt.sh nodejs npm
fi
stamp=node_modules/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
