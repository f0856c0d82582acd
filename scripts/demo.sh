#!/usr/bin/env bash
# The main job: provision the sample fall term with the example DAG against the bundled WizIQ emulator.
# Builds .venv if missing, starts the emulator on a free loopback port, runs `airflow dags test` on a throwaway
# SQLite AIRFLOW_HOME (removed afterwards), prints the series created and where the report is, then keeps the term in
# sync; about three minutes, each step announced (with its expected time) before it runs.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python -u scripts/demo.py  # -u: each line shows as it is printed, also through a pipe
