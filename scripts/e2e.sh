#!/usr/bin/env bash
# The deployment test: the provider in a real Airflow (api-server, scheduler, dag-processor, triggerer as separate
# processes on PostgreSQL; then CeleryExecutor with Redis and two workers) against the WizIQ emulator, all on
# 127.0.0.1 with free ports and one temp dir, torn down by PID at the end, also on failure.
#
#   bash scripts/e2e.sh                      both stages
#   bash scripts/e2e.sh --stages local       the LocalExecutor stage only
#   bash scripts/e2e.sh --only "triggerer"   scenarios whose name holds a word
#   E2E_PATCH=file.diff bash scripts/e2e.sh  apply a diff to the e2e venv's installed copy of the provider first
#   E2E_KEEP=1                               keep the temp dir (logs) even when everything passed
#   E2E_SETUP_ONLY=1                         build .venv-e2e (and install the services) and stop there
#
# Installs what it needs: PostgreSQL and redis-server with apt-get when missing, and .venv-e2e with Airflow,
# the Celery provider and the provider itself (not editable, so E2E_PATCH never touches the work tree), pinned by
# tests/e2e/constraints.txt. See docs/deployment.md.
set -euo pipefail
if [ -n "${E2E_PATCH:-}" ]; then E2E_PATCH=$(realpath "$E2E_PATCH"); fi  # before leaving the caller's directory
cd "$(dirname "$0")/.."
say() { echo "[e2e $(date +%H:%M:%S)] $*"; }
started=$SECONDS

need_apt=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts the packaged services; the test runs its own on other ports and needs neither.
  $sudo service postgresql stop >/dev/null 2>&1 || true
  $sudo service redis-server stop >/dev/null 2>&1 || true
fi

python=${PYTHON:-python3}
venv=.venv-e2e
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$python" -m venv "$venv"
fi
pip_install() {  # quiet, but everything pip said is shown when it fails
  local out
  if ! out=$("$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    return 1
  fi
}
stamp="$venv/.e2e-constraints"
if ! cmp -s tests/e2e/constraints.txt "$stamp"; then
  say "installing Airflow, the Celery provider and the PostgreSQL driver into $venv (tests/e2e/constraints.txt)"
  pip_install -c tests/e2e/constraints.txt \
    apache-airflow apache-airflow-providers-celery apache-airflow-providers-postgres redis psutil requests .
  cp tests/e2e/constraints.txt "$stamp"
fi
say "installing this provider into $venv"
# A fresh, non-editable copy every run: undoes any earlier E2E_PATCH. (A stale build/ would be copied in.)
rm -rf build
pip_install --no-deps --force-reinstall .
if [ -n "${E2E_PATCH:-}" ]; then
  site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  say "applying $E2E_PATCH to the installed provider in $venv (not to the work tree)"
  # The diff names files as src/airflow_provider_wiziq/...: strip a/ and src/.
  patch --batch --forward -p2 -d "$site" < "$E2E_PATCH"
fi
say "set-up took $((SECONDS - started)) s"
if [ -n "${E2E_SETUP_ONLY:-}" ]; then exit 0; fi  # benchmarks/district_scale.py starts its own deployment

work=$(mktemp -d "${TMPDIR:-/tmp}/wiziq-e2e.XXXXXX")
cleanup() {
  status=$?
  # The driver stops everything itself; this catches what is left if it was killed. Each server runs in its
  # own process group, whose id is the PID written to $work/pids.
  if [ -f "$work/pids" ]; then
    while read -r pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done < "$work/pids"
  fi
  if [ $status -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then
    rm -rf "$work"
  else
    say "logs kept in $work/logs"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$venv/bin/python" -m tests.e2e "$work" "$@"
