# Sourced by the project's commands: make .venv if missing and install the provider with its test extras.
# The install is repeated only when pyproject.toml changed (its hash is stamped in .venv), so later runs
# start at once.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-python3}
stamp=.venv/.pyproject-sha256
wanted=$("$python" -c "import hashlib; print(hashlib.sha256(open('pyproject.toml', 'rb').read()).hexdigest())")
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  started=$SECONDS
  if [ ! -x .venv/bin/python ]; then
    echo "Building .venv with Apache Airflow and the provider (first run only; about a minute) ..." >&2
    "$python" -m venv .venv
  else
    echo "pyproject.toml changed: updating .venv ..." >&2
  fi
  if ! installed=$(.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" 2>&1); then
    printf '%s\n' "$installed" >&2
    echo "Installing the provider into .venv failed (output above)." >&2
    exit 1
  fi
  printf '%s\n' "$installed" | grep -v -e "^WARNING: Location" -e '^$' >&2 || true
  echo "$wanted" > "$stamp"
  echo ".venv ready in $((SECONDS - started)) s." >&2
fi
