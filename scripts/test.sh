#!/usr/bin/env bash
# The test command: builds .venv if missing, installs the provider with its test extras, lints, runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k recurrence).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1 \
  | grep -v "^WARNING: Location" || true
.venv/bin/ruff check src tests
.venv/bin/python -m pytest "$@"
