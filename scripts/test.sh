#!/usr/bin/env bash
# The test command: builds .venv if missing, installs the provider with its test extras, lints, runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k recurrence).
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
.venv/bin/ruff check src tests example_dags benchmarks
.venv/bin/python -m pytest "$@"
