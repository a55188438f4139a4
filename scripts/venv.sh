#!/usr/bin/env bash
# Creates .venv with the project and its pinned dependencies; re-runs only when
# pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "Peacemap needs Python 3.11 or newer ($python is $("$python" --version 2>&1))." >&2
  exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1; then
  scripts/apt.sh python3-venv
fi

stamp=.venv/.installed
if ! { [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; }; then
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi

# The gettext catalogues (api/web/translations/*/: the web pages' messages.po, the API's
# problems.po) compiled to .mo, whenever a .po is newer than its .mo (README, "Adding a
# language").
for po in api/web/translations/*/LC_MESSAGES/*.po; do
  if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
    .venv/bin/pybabel compile -i "$po" -o "${po%.po}.mo" >/dev/null
  fi
done
