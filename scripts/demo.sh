#!/usr/bin/env bash
# The main job: provision the sample fall term with the example DAG against the bundled WizIQ emulator.
# Builds .venv if missing, starts the emulator on a free loopback port, runs `airflow dags test` on a throwaway
# SQLite AIRFLOW_HOME (removed afterwards), prints the series created and where the report is, and stops the
# emulator.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python scripts/demo.py
