"""The newcomer's scripts: the venv is built once and reinstalled only when pyproject.toml changes; the demo
prints each series' DST changes and leaves no temporary directory behind."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Stands in for python: records ``-m venv`` and ``-m pip`` calls, makes the venv's python, runs ``-c`` for real.
FAKE_PYTHON = f"""#!/usr/bin/env bash
echo "$*" >> "$CALLS"
if [ "$1" = "-c" ]; then exec {sys.executable} "$@"; fi
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "_venv.sh", tmp_path / "scripts" / "_venv.sh")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def source_venv_script(project: Path) -> tuple[list[str], str]:
    calls = project / "calls.log"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "PYTHON": str(project / "fake-python"), "CALLS": str(calls)}
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail; source scripts/_venv.sh"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    made = [line for line in calls.read_text().splitlines() if not line.startswith("-c")] if calls.exists() else []
    return made, done.stderr


def test_the_venv_is_built_once_and_updated_only_when_pyproject_changes(project):
    made, said = source_venv_script(project)
    assert made == ["-m venv .venv", "-m pip install --quiet --disable-pip-version-check -e .[test]"]
    assert "Building .venv" in said
    assert "first run only" in said
    assert ".venv ready in" in said

    made, said = source_venv_script(project)
    assert (made, said) == ([], "")

    with open(project / "pyproject.toml", "a") as pyproject:
        pyproject.write('version = "2"\n')
    made, said = source_venv_script(project)
    assert made == ["-m pip install --quiet --disable-pip-version-check -e .[test]"]
    assert "pyproject.toml changed" in said


def load_demo():
    import importlib.util

    spec = importlib.util.spec_from_file_location("wiziq_demo", ROOT / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dst_column_shows_each_change_of_utc_offset():
    demo = load_demo()
    starts = ["2027-10-25T09:30:00-04:00", "2027-11-01T09:30:00-04:00", "2027-11-08T09:30:00-05:00"]
    assert demo.dst_column([{"local_start": start} for start in starts]) == "-04:00>-05:00"
    assert demo.dst_column([{"local_start": "2027-10-25T09:30:00+05:30"}]) == "none"


def test_the_demo_says_each_step_and_its_duration_before_running_it(tmp_path, monkeypatch, capsys):
    """A step is a minute or two of silence: its heading (with how long it takes) comes first."""
    demo = load_demo()
    for name in ("AIRFLOW_HOME", "AIRFLOW__CORE__LOAD_EXAMPLES", "AIRFLOW__CORE__DAGS_FOLDER"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # the demo sets them for its own runs
    monkeypatch.setenv("WIZIQ_REPORT_DIR", str(tmp_path))
    (tmp_path / "wiziq_term_report.json").write_text("[]")
    monkeypatch.setattr(demo, "airflow", lambda *args, env, log: print("RAN", " ".join(args[:3])))
    monkeypatch.setattr(demo, "print_report", lambda report, emulator: None)
    monkeypatch.setattr(demo, "show_sync", lambda *args, **kwargs: None)
    demo.main()
    lines = capsys.readouterr().out.splitlines()
    ran = [index for index, line in enumerate(lines) if line.startswith("RAN ")]
    headings = [line for line in lines if line.startswith("== ")]
    assert len(ran) == len(demo.STEPS) == len(headings) == 6
    for index, (title, seconds) in zip(ran, demo.STEPS.values(), strict=True):
        assert lines[index - 1] == f"== {title} (about {seconds} s) ...", lines[index - 1]
    assert lines[-1].startswith("Done in ")


@pytest.mark.integration  # the whole product once; the example DAGs run in every matrix cell on their own
def test_the_demo_prints_dst_and_removes_its_airflow_home(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env.update(TMPDIR=str(scratch), WIZIQ_REPORT_DIR=str(tmp_path / "report"))
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    header = next(line for line in done.stdout.splitlines() if line.startswith("section"))
    assert " DST " in header
    assert any(">" in line for line in done.stdout.splitlines() if line[:1].isalnum() and "-0" in line)
    assert (tmp_path / "report" / "wiziq_term_report.json").exists()
    assert list(scratch.iterdir()) == []
    # The term kept in sync: an unchanged re-run sends no write, a changed export's plan shows the changes.
    out = done.stdout
    again = out.split("== 3. the same export again (about ")[1].splitlines()
    assert again[1].startswith("wiziq_term_sync took ") and again[1].endswith(" 0 of them writes")
    changed = out.split("== 4.")[1].splitlines()
    assert changed[1].startswith("wiziq_term_sync_plan took ") and changed[1].endswith(" 0 of them writes")
    assert {"update", "reschedule", "cancel"} <= {line.split()[1] for line in changed[3:6]}


@pytest.mark.integration
def test_ci_runs_the_unit_suite_beside_the_floor_cell_and_fails_when_a_stage_fails(tmp_path):
    """The layout of scripts/test.sh's CI run, its stages' commands only said (--dry-run): every stage has its log,
    one failed stage fails the run and shows its log's tail, the others still run."""
    env = {**os.environ, "TEST_LOG_DIR": str(tmp_path), "TEST_DRY_FAIL": "unit"}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test.sh"), "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()

    def at(prefix: str) -> int:
        return next(index for index, line in enumerate(lines) if line.startswith(prefix))

    unit_failed = at("=== unit suite: FAILED (exit 1)")
    assert at("=== unit suite: started") < at("=== af3.1-py") < unit_failed  # side by side
    assert lines[unit_failed + 2] == "failing on purpose (TEST_DRY_FAIL=unit)"
    assert at("=== af3.1-py") < at("=== e2e (scripts/e2e.sh)") < at("=== af3.3-py") < at("=== newcomer")
    table = lines[at("=== time budget") + 2 :]
    results = {line[:36].strip(): line[36:58].strip() for line in table if not line.startswith("tests:")}
    assert results.pop("unit suite") == "failed (exit 1)"
    assert results.pop("total (wall clock)") == "failed"
    assert set(results.values()) == {"passed"}, results
    assert len(results) == 6  # venv, lint, the two cells, e2e, newcomer
    assert {path.name for path in tmp_path.glob("*.log")} >= {"venv.log", "lint.log", "unit.log", "e2e.log"}
