# Sourced by scripts/test.sh: the Airflow x Python test matrix, one venv per cell in .venv-matrix/.
# Kept apart from scripts/_venv.sh (the development venv), so either can change without the other.

# Every accepted Airflow minor at its newest patch: the floor first, the newest last.
MATRIX_AIRFLOW=(3.1.8 3.2.2 3.3.2)
MATRIX_PYTHON=(3.10 3.11 3.12 3.13)

# matrix_python 3.12: the path of an installed python3.12, from PATH or else from pyenv's versions (a pyenv
# shim on PATH runs only the versions pyenv has selected); nothing and status 1 when there is none.
matrix_python() {
  local candidate
  for candidate in "$(command -v "python$1" 2>/dev/null)" \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/"python$1" 2>/dev/null | sort -rV); do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

matrix_python_present() {
  matrix_python "$1" >/dev/null
}

# matrix_cell_dir 3.1.8 3.10 -> .venv-matrix/af3.1-py3.10
matrix_cell_dir() {
  echo ".venv-matrix/af${1%.*}-py$2"
}

# matrix_venv 3.1.8 3.10: build the cell's venv, or reuse it when Airflow, the interpreter, pyproject.toml and the
# minor's constraints are what it was built from (the provider is editable: source changes need no reinstall).
matrix_venv() {
  local airflow=$1 python dir stamp log constraints pins=()
  python=$(matrix_python "$2") || { echo "== python$2 not available"; return 1; }
  dir=$(matrix_cell_dir "$airflow" "$2")
  stamp="apache-airflow==$airflow $("$python" -c 'import sys; print(sys.version.split()[0])')"
  constraints=scripts/constraints/airflow-${airflow%.*}.txt
  stamp="$stamp pyproject:$(cat pyproject.toml "$constraints" 2>/dev/null | sha256sum | cut -c1-16)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.built-from" 2>/dev/null)" = "$stamp" ]; then
    echo "== $dir: reusing (nothing changed)"
    return 0
  fi
  echo "== $dir: building (apache-airflow==$airflow on $python; takes a few minutes) ..."
  # Dependency pins a minor needs that its own metadata does not state (see the file's comments).
  if [ -f "$constraints" ]; then pins=(-c "$constraints"); fi
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  log="$(dirname "$dir")/$(basename "$dir").build.log"
  if ! { "$python" -m venv "$dir" &&
    "$dir/bin/python" -m pip install --disable-pip-version-check "${pins[@]}" "apache-airflow==$airflow" -e ".[test]"
  } >"$log" 2>&1
  then
    grep -v "^WARNING: Location" "$log" | tail -n 20
    echo "== $dir: build failed (full log: $log)"
    return 1
  fi
  # pip may settle on another Airflow if the pin conflicts with the provider's own floor: say so, loudly.
  if ! "$dir/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('apache-airflow') != '$airflow')"; then
    echo "== $dir: pip did not install apache-airflow==$airflow (full log: $log)"
    return 1
  fi
  echo "$stamp" >"$dir/.built-from"
}
