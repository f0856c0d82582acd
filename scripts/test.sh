#!/usr/bin/env bash
# The test command.
#   bash scripts/test.sh            what CI runs: lint (ruff, ruff format, mypy), the unit suite, scripts/e2e.sh (when present), a
#                                   new user's path (the wheel with Airflow in a fresh venv, a DAG from the README:
#                                   tests/test_newcomer.py), then two matrix cells: the floor Airflow on the oldest
#                                   Python, the newest on the newest
#   bash scripts/test.sh --quick    lint and the unit suite only: the development loop
#   bash scripts/test.sh --matrix   every cell: each accepted Airflow minor x Python 3.10 .. 3.13 present here
# Other arguments go to pytest (bash scripts/test.sh --quick -k recurrence). Each stage runs even when an
# earlier one failed; a time table closes the run, and the exit status is non-zero if any stage failed
# (pytest's "no tests ran", exit 5, included).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/_matrix.sh

mode=ci
pytest_args=()
for arg in "$@"; do
  case $arg in
    --quick) mode=quick ;;
    --matrix) mode=matrix ;;
    *) pytest_args+=("$arg") ;;
  esac
done

# Budgets (seconds) for the CI run, which must fit 60 minutes on two loaded cores.
# Measured on 2 busy cores: the unit suite about 9 min, e2e 13 to 15 min, a cell 3 to 5 min to build and about
# as long as the unit suite to run.
# The newcomer stage: 4 min measured beside other work (a fresh venv from pip's cache 165 s, the project's tests 74 s).
BUDGET_VENV=180 BUDGET_RUFF=60 BUDGET_UNIT=720 BUDGET_E2E=1080 BUDGET_NEWCOMER=480 BUDGET_CELL=780 BUDGET_TOTAL=3600

rows=()        # stage|result|tests|seconds|budget
failed=0
passed_total=0 failed_total=0

# The last pytest summary line in a log ("870 passed, 2 skipped in 95.1s"), without its decoration.
pytest_summary() {
  grep -aE "^=*\s*[0-9]+ (passed|failed|errors?|skipped|deselected)|no tests ran" "$1" | tail -n 1 |
    sed -E 's/^=+ //; s/ =+$//; s/ in [0-9.]+s.*$//'
}

count_of() { # count_of "870 passed, 1 failed" failed -> 1
  echo "$1" | grep -oE "[0-9]+ $2" | grep -oE "^[0-9]+" || echo 0
}

# stage NAME BUDGET COMMAND...: run it, print its output, keep a table row.
stage() {
  local name=$1 budget=$2 log start rc seconds summary result
  shift 2
  log=$(mktemp)
  start=$SECONDS
  echo
  echo "=== $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  seconds=$((SECONDS - start))
  summary=$(pytest_summary "$log")
  rm -f "$log"
  if [ "$rc" -eq 0 ]; then
    result=passed
  elif [ "$rc" -eq 5 ]; then
    result="failed (no tests ran)"
  else
    result="failed (exit $rc)"
  fi
  [ "$rc" -eq 0 ] || failed=1
  if [ -n "$summary" ]; then
    passed_total=$((passed_total + $(count_of "$summary" passed)))
    failed_total=$((failed_total + $(count_of "$summary" failed) + $(count_of "$summary" error)))
  fi
  rows+=("$name|$result|${summary:--}|$seconds|$budget")
}

# cell AIRFLOW PYTHON BUDGET: one matrix cell, in its own venv; "not available" when the interpreter is missing.
cell() {
  local airflow=$1 python=$2 budget=$3 name
  name="af${airflow%.*}-py$python (airflow $airflow)"
  if ! matrix_python_present "$python"; then
    echo
    echo "=== $name: not available (no python$python on this machine)"
    rows+=("$name|not available|-|0|$budget")
    return 0
  fi
  stage "$name" "$budget" run_cell "$airflow" "$python"
}

run_cell() {
  local dir
  dir=$(matrix_cell_dir "$1" "$2")
  matrix_venv "$1" "$2" || return 1
  "$dir/bin/python" -m pytest -q -p no:cacheprovider "${pytest_args[@]}"
}

dev_venv() {
  source scripts/_venv.sh
}

lint() {
  .venv/bin/ruff check src tests example_dags benchmarks &&
    .venv/bin/ruff format --check src tests example_dags benchmarks &&
    .venv/bin/mypy  # strict on the whole package (pyproject's [tool.mypy]); about 15 s cold, 2 s with its cache
}

unit() {
  .venv/bin/python -m pytest -q "${pytest_args[@]}"
}

newcomer() {  # -s: the test prints how long the wheel, the venv and the project's tests took
  WIZIQ_NEWCOMER=1 .venv/bin/python -m pytest -q -s -p no:cacheprovider tests/test_newcomer.py
}

# The oldest and newest interpreters of the matrix that are present (CI's two cells use them).
present_pythons() {
  local python
  for python in "${MATRIX_PYTHON[@]}"; do
    if matrix_python_present "$python"; then echo "$python"; fi
  done
}

case $mode in
  quick)
    stage "venv (.venv)" "$BUDGET_VENV" dev_venv
    stage "lint (ruff, format, mypy)" "$BUDGET_RUFF" lint
    stage "unit suite" "$BUDGET_UNIT" unit
    ;;
  ci)
    stage "venv (.venv)" "$BUDGET_VENV" dev_venv
    stage "lint (ruff, format, mypy)" "$BUDGET_RUFF" lint
    stage "unit suite" "$BUDGET_UNIT" unit
    if [ -f scripts/e2e.sh ]; then
      stage "e2e (scripts/e2e.sh)" "$BUDGET_E2E" bash scripts/e2e.sh
    fi
    stage "newcomer (wheel, fresh venv, README)" "$BUDGET_NEWCOMER" newcomer
    mapfile -t pythons < <(present_pythons)
    if [ "${#pythons[@]}" -eq 0 ]; then
      echo "no Python of ${MATRIX_PYTHON[*]} is present: the matrix cells cannot run"
      rows+=("matrix cells|failed (no interpreter)|-|0|$((2 * BUDGET_CELL))")
      failed=1
    else
      oldest=${pythons[0]} newest=${pythons[${#pythons[@]} - 1]}
      [ "$oldest" = "${MATRIX_PYTHON[0]}" ] || echo "note: python${MATRIX_PYTHON[0]} not available; the floor cell uses python$oldest"
      [ "$newest" = "${MATRIX_PYTHON[-1]}" ] || echo "note: python${MATRIX_PYTHON[-1]} not available; the newest cell uses python$newest"
      cell "${MATRIX_AIRFLOW[0]}" "$oldest" "$BUDGET_CELL"
      cell "${MATRIX_AIRFLOW[-1]}" "$newest" "$BUDGET_CELL"
    fi
    ;;
  matrix)
    for airflow in "${MATRIX_AIRFLOW[@]}"; do
      for python in "${MATRIX_PYTHON[@]}"; do
        cell "$airflow" "$python" "$BUDGET_CELL"
      done
    done
    ;;
esac

total_seconds=0
budget_total=0
echo
echo "=== time budget ($mode)"
printf '%-36s %-22s %-40s %8s %8s\n' stage result tests seconds budget
for row in "${rows[@]}"; do
  IFS='|' read -r name result tests seconds budget <<<"$row"
  printf '%-36s %-22s %-40s %8s %8s\n' "$name" "$result" "$tests" "$seconds" "$budget"
  total_seconds=$((total_seconds + seconds))
  budget_total=$((budget_total + budget))
done
[ "$mode" = ci ] && budget_total=$BUDGET_TOTAL
printf '%-36s %-22s %-40s %8s %8s\n' "total" "$([ "$failed" -eq 0 ] && echo passed || echo failed)" "" \
  "$total_seconds" "$budget_total"
if [ "$total_seconds" -gt "$budget_total" ]; then
  echo "over budget by $((total_seconds - budget_total)) s"
fi
echo "tests: $passed_total passed, $failed_total failed"
exit "$failed"
