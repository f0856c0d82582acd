#!/usr/bin/env bash
# The test command.
#   bash scripts/test.sh            what CI runs, in four steps (a step's stages run side by side, each on its own
#                                   core of the two):
#                                     1. the venv (.venv), then lint (ruff, ruff format, mypy)
#                                     2. the unit suite (every test)  ||  the floor matrix cell (Airflow's floor
#                                        minor on the oldest Python: builds its venv, then the suite without the
#                                        `integration` tests)
#                                     3. scripts/e2e.sh, alone: a real deployment, sensitive to timing
#                                     4. the newest matrix cell (the newest minor on the newest Python)  ||  a new
#                                        user's path (the wheel with Airflow in a fresh venv, a DAG from the
#                                        README: tests/test_newcomer.py)
#   bash scripts/test.sh --quick    the venv, lint and the unit suite only, one after the other: the development loop
#   bash scripts/test.sh --matrix   every cell, one after the other: each accepted Airflow minor x Python 3.10 .. 3.13
#                                   present here
#   bash scripts/test.sh --dry-run  CI's steps and stages, each stage's command only printed:
#                                   checks the layout; TEST_DRY_FAIL=<stage id> makes that stage fail
# Other arguments go to pytest (bash scripts/test.sh --quick -k recurrence). A matrix cell runs
# -m "not integration": tests that check the whole product once (the demo, the packaging recipe, the docs'
# test modules...) run in the unit stage only. Each stage's output goes to .test-logs/<stage id>.log; a stage
# run beside another prints its log when it ends (its last lines when it failed), with its duration. Each stage
# runs even when an earlier one failed; a time table closes the run, and the exit status is non-zero if any
# stage failed (pytest's "no tests ran", exit 5, included). No two stages build a venv into one folder, and no
# two pip builds of the work tree (editable installs) run at once: the cells' builds run beside stages that
# only read the work tree.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/_matrix.sh

mode=ci
dry=0
pytest_args=()
for arg in "$@"; do
  case $arg in
    --quick) mode=quick ;;
    --matrix) mode=matrix ;;
    --dry-run) dry=1 ;;
    *) pytest_args+=("$arg") ;;
  esac
done

# Budgets (seconds) for the CI run, whose wall clock must fit 60 minutes on two loaded cores. A stage run beside
# another shares the two cores with it, so its budget is its time measured that way.
# Measured on 2 busy cores: see README ("From a clone of the repository").
BUDGET_VENV=240 BUDGET_RUFF=60 BUDGET_UNIT=900 BUDGET_E2E=1080 BUDGET_NEWCOMER=480 BUDGET_CELL=900 BUDGET_TOTAL=3600

logs=${TEST_LOG_DIR:-.test-logs}  # one log per stage, kept after the run (until the next)
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.status
rows=()        # stage|result|tests|started (s after the start)|seconds|budget
failed=0
passed_total=0 failed_total=0
declare -A stage_pid=() stage_running=() stage_name=() stage_budget=() stage_start=()

# The last pytest summary line in a log ("870 passed, 2 skipped in 95.1s"), without its decoration.
pytest_summary() {
  grep -aE "^=*\s*[0-9]+ (passed|failed|errors?|skipped|deselected)|no tests ran" "$1" | tail -n 1 |
    sed -E 's/^=+ //; s/ =+$//; s/ in [0-9.]+s.*$//'
}

count_of() { # count_of "870 passed, 1 failed" failed -> 1
  echo "$1" | grep -oE "[0-9]+ $2" | grep -oE "^[0-9]+" || echo 0
}

# In --dry-run, a stage's command is said, not run.
dry_stage() { # dry_stage ID COMMAND...
  local id=$1
  shift
  echo "would run: $*"
  if [ "${TEST_DRY_FAIL:-}" = "$id" ]; then
    echo "failing on purpose (TEST_DRY_FAIL=$id)"
    return 1
  fi
}

run_stage_command() { # run_stage_command ID COMMAND...
  local id=$1
  shift
  if [ "$dry" -eq 1 ]; then dry_stage "$id" "$@"; else "$@"; fi
}

# record ID NAME BUDGET RC STARTED SECONDS: the stage's table row, from its exit status and its log.
record() {
  local id=$1 name=$2 budget=$3 rc=$4 started=$5 seconds=$6 summary result
  summary=$(pytest_summary "$logs/$id.log")
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
  rows+=("$name|$result|${summary:--}|$started|$seconds|$budget")
}

# stage ID NAME BUDGET COMMAND...: run it alone, its output shown as it comes and kept in its log.
stage() {
  local id=$1 name=$2 budget=$3 started=$SECONDS rc
  shift 3
  echo
  echo "=== $name ($(date +%H:%M:%S), log: $logs/$id.log)"
  run_stage_command "$id" "$@" 2>&1 | tee "$logs/$id.log"
  rc=${PIPESTATUS[0]}
  echo "=== $name: $(( SECONDS - started )) s"
  record "$id" "$name" "$budget" "$rc" "$started" "$((SECONDS - started))"
}

# launch ID NAME BUDGET COMMAND...: start it in the background, its output to its log only; finish ID waits.
launch() {
  local id=$1 name=$2 budget=$3
  shift 3
  echo
  echo "=== $name: started $(date +%H:%M:%S) beside other stages (log: $logs/$id.log)"
  stage_name[$id]=$name stage_budget[$id]=$budget stage_start[$id]=$SECONDS
  (
    started=$SECONDS
    run_stage_command "$id" "$@" >"$logs/$id.log" 2>&1 </dev/null
    echo "$? $((SECONDS - started))" >"$logs/$id.status"
  ) &
  stage_pid[$id]=$!
  stage_running[$id]=1
}

# finish ID: wait for a launched stage, print its log (its last 150 lines when it failed) and keep its row.
finish() {
  local id=$1 rc seconds
  wait "${stage_pid[$id]}"
  unset "stage_running[$id]"
  read -r rc seconds <"$logs/$id.status" || { rc=1 seconds=$((SECONDS - stage_start[$id])); }
  echo
  if [ "$rc" -eq 0 ]; then
    echo "=== ${stage_name[$id]}: passed in $seconds s; its output:"
    cat "$logs/$id.log"
  else
    echo "=== ${stage_name[$id]}: FAILED (exit $rc) in $seconds s; the last 150 lines of $logs/$id.log:"
    tail -n 150 "$logs/$id.log"
  fi
  echo "=== ${stage_name[$id]}: end of its output"
  record "$id" "${stage_name[$id]}" "${stage_budget[$id]}" "$rc" "${stage_start[$id]}" "$seconds"
}

descendants() { # descendants PID: the PIDs of its children, theirs, and so on
  local child
  for child in $(pgrep -P "$1"); do
    echo "$child"
    descendants "$child"
  done
}

# On INT or TERM: stop the stages running in the background (their processes, by PID: TERM, then KILL what is
# left after 5 s), then exit. (Commands started in the background of a script ignore INT, so Ctrl-C alone would
# leave them running; a pytest inside dag.test() may outlive TERM.)
stop_stages() {
  local id pids=()
  for id in "${!stage_running[@]}"; do
    mapfile -t -O "${#pids[@]}" pids < <(echo "${stage_pid[$id]}"; descendants "${stage_pid[$id]}")
  done
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null
    sleep 5
    kill -KILL "${pids[@]}" 2>/dev/null
  fi
  echo "=== stopped"
  exit 130
}
trap stop_stages INT TERM

cell_name() { # cell_name 3.1.8 3.10 -> "af3.1-py3.10 (airflow 3.1.8)"
  echo "af${1%.*}-py$2 (airflow $1)"
}

# cell_missing AIRFLOW PYTHON BUDGET: true (and a "not available" row) when the cell's interpreter is missing.
cell_missing() {
  local name
  name=$(cell_name "$1" "$2")
  if matrix_python_present "$2"; then return 1; fi
  echo
  echo "=== $name: not available (no python$2 on this machine)"
  rows+=("$name|not available|-|$SECONDS|0|$3")
}

# One matrix cell in its own venv (.venv-matrix/<cell>): builds the venv when needed, then the suite without
# the integration tests (the unit stage runs those once).
run_cell() {
  local dir
  dir=$(matrix_cell_dir "$1" "$2")
  matrix_venv "$1" "$2" || return 1
  "$dir/bin/python" -m pytest -q -p no:cacheprovider -m "not integration" "${pytest_args[@]}"
}

# cell AIRFLOW PYTHON BUDGET: one cell, alone (--matrix).
cell() {
  cell_missing "$@" && return 0
  stage "af${1%.*}-py$2" "$(cell_name "$1" "$2")" "$3" run_cell "$1" "$2"
}

# launch_cell AIRFLOW PYTHON BUDGET: one cell beside another stage; its id is its venv's name.
launch_cell() {
  cell_missing "$@" && return 0
  launch "af${1%.*}-py$2" "$(cell_name "$1" "$2")" "$3" run_cell "$1" "$2"
}

finish_cell() { # finish_cell AIRFLOW PYTHON: when it was launched
  if [ -n "${stage_pid[af${1%.*}-py$2]:-}" ]; then finish "af${1%.*}-py$2"; fi
}

dev_venv() {
  source scripts/_venv.sh
}

lint() {
  .venv/bin/ruff check src tests example_dags benchmarks scripts &&
    .venv/bin/ruff format --check src tests example_dags benchmarks scripts &&
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
    stage venv "venv (.venv)" "$BUDGET_VENV" dev_venv
    stage lint "lint (ruff, format, mypy)" "$BUDGET_RUFF" lint
    stage unit "unit suite" "$BUDGET_UNIT" unit
    ;;
  ci)
    mapfile -t pythons < <(present_pythons)
    if [ "${#pythons[@]}" -eq 0 ]; then
      echo "no Python of ${MATRIX_PYTHON[*]} is present: the matrix cells cannot run"
      rows+=("matrix cells|failed (no interpreter)|-|0|0|$((2 * BUDGET_CELL))")
      failed=1
    else
      oldest=${pythons[0]} newest=${pythons[${#pythons[@]} - 1]}
      [ "$oldest" = "${MATRIX_PYTHON[0]}" ] || echo "note: python${MATRIX_PYTHON[0]} not available; the floor cell uses python$oldest"
      [ "$newest" = "${MATRIX_PYTHON[-1]}" ] || echo "note: python${MATRIX_PYTHON[-1]} not available; the newest cell uses python$newest"
    fi
    # 1. .venv first: every later stage but the cells uses it, and its editable install writes into the work tree.
    stage venv "venv (.venv)" "$BUDGET_VENV" dev_venv
    stage lint "lint (ruff, format, mypy)" "$BUDGET_RUFF" lint
    # 2. The unit suite beside the floor cell, which builds its own venv first.
    launch unit "unit suite" "$BUDGET_UNIT" unit
    if [ -n "${oldest:-}" ]; then launch_cell "${MATRIX_AIRFLOW[0]}" "$oldest" "$BUDGET_CELL"; fi
    finish unit
    if [ -n "${oldest:-}" ]; then finish_cell "${MATRIX_AIRFLOW[0]}" "$oldest"; fi
    # 3. The deployment test alone: its scenarios wait on real servers, and it pip-installs the work tree.
    if [ -f scripts/e2e.sh ]; then
      stage e2e "e2e (scripts/e2e.sh)" "$BUDGET_E2E" bash scripts/e2e.sh
    fi
    # 4. The newest cell beside the new user's path (which builds its wheel from a copy of the sources).
    if [ -n "${newest:-}" ]; then launch_cell "${MATRIX_AIRFLOW[-1]}" "$newest" "$BUDGET_CELL"; fi
    launch newcomer "newcomer (wheel, fresh venv, README)" "$BUDGET_NEWCOMER" newcomer
    finish newcomer
    if [ -n "${newest:-}" ]; then finish_cell "${MATRIX_AIRFLOW[-1]}" "$newest"; fi
    ;;
  matrix)
    for airflow in "${MATRIX_AIRFLOW[@]}"; do
      for python in "${MATRIX_PYTHON[@]}"; do
        cell "$airflow" "$python" "$BUDGET_CELL"
      done
    done
    ;;
esac

wall_seconds=$SECONDS
budget_total=0
echo
echo "=== time budget ($mode; at: when the stage started, in seconds from the start; logs in $logs/)"
printf '%-36s %-22s %-40s %8s %8s %8s\n' stage result tests at seconds budget
for row in "${rows[@]}"; do
  IFS='|' read -r name result tests started seconds budget <<<"$row"
  printf '%-36s %-22s %-40s %8s %8s %8s\n' "$name" "$result" "$tests" "$started" "$seconds" "$budget"
  budget_total=$((budget_total + budget))
done
[ "$mode" = ci ] && budget_total=$BUDGET_TOTAL
printf '%-36s %-22s %-40s %8s %8s %8s\n' "total (wall clock)" "$([ "$failed" -eq 0 ] && echo passed || echo failed)" \
  "" "" "$wall_seconds" "$budget_total"
if [ "$wall_seconds" -gt "$budget_total" ]; then
  echo "over budget by $((wall_seconds - budget_total)) s"
fi
echo "tests: $passed_total passed, $failed_total failed"
exit "$failed"
