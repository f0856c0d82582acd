#!/usr/bin/env bash
# The load test: WizIQHook against the emulator from 16 threads for 60 s; prints the throughput.
# Not part of scripts/test.sh. WIZIQ_LOAD_SECONDS / WIZIQ_LOAD_THREADS change the defaults.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
export WIZIQ_LOAD=1
.venv/bin/python -m pytest -m load tests/reliability -q -p no:cacheprovider "$@"
