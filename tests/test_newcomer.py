"""A new user's path, from the README alone: the wheel pip-installed with Airflow in a fresh venv, a DAG project of
their own (the packaged sample export, an absolute path to their own CSV, an upstream task returning a list), run
with the README's pytest recipe against the emulator; the term is provisioned.

Slow (a venv with Airflow: about a minute from pip's cache), so it runs in a stage of its own of
``scripts/test.sh`` (``WIZIQ_NEWCOMER=1``), never in the unit suite. The venv is pinned to this venv's versions
(``pip freeze``), so pip resolves nothing new and takes every package from its cache when it has it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tests.docsnippets import ROOT, snippets, toml_block
from tests.support.dists import build

pytestmark = pytest.mark.skipif(
    os.environ.get("WIZIQ_NEWCOMER") != "1", reason="a fresh venv with Airflow: run by scripts/test.sh's newcomer stage"
)
RECIPE_HEADING = "## The emulator in your own CI"
FIRST_SYNC_HEADING = "## Your first term sync, from a pip install"

#: The user's own DAG, written from the README: three ways to hand over sections.
DAG_FILE = '''
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_wiziq.example_dags import FALL_TERM_SECTIONS
from airflow_provider_wiziq.operators.wiziq import SyncTermOperator

OWN_EXPORT = {own_export!r}  # an absolute path to the school's own CSV


@task
def export():
    """The student information system's export, as an upstream task returns it: a list of dicts."""
    return [
        {{
            "key": "SPR-1",
            "title": "Statistics",
            "presenter_email": "lee@school.example",
            "time_zone": "America/Chicago",
            "start_time": "2027-09-07T10:00",
            "class_repeat_type": "weekly",
            "days_of_week": "tuesday,thursday",
            "class_occurrence": 8,
            "attendee_limit": 25,
            "attendees": [{{"attendee_id": "s-1", "screen_name": "Ana Torres"}}],
        }}
    ]


with DAG("newcomer_terms", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1) as dag:
    SyncTermOperator(task_id="sample", term="sample-2027", sections=str(FALL_TERM_SECTIONS))
    SyncTermOperator(task_id="own_csv", term="own-2027", sections=OWN_EXPORT)
    SyncTermOperator(task_id="from_task", term="task-2027", sections=export())
'''
OWN_CSV = (
    "section_id,title,presenter_email,time_zone,start_time,class_repeat_type,days_of_week,class_end_date,duration\n"
    "OWN-1,Chemistry lab,okafor@own.example,Europe/London,2027-09-08T14:00,weekly,wednesday,2027-12-15,90\n"
    "OWN-2,Chemistry lab 2,okafor@own.example,Europe/London,2027-09-09T14:00,weekly,thursday,2027-12-16,90\n"
)
TEST_FILE = """
from newcomer_dags import dag


def test_each_form_provisions_its_term(wiziq_emulator, wiziq_dag_run):
    run = wiziq_dag_run(dag)
    syncs = [ti for ti in run.get_task_instances() if ti.task_id != "export"]
    results = {ti.task_id: ti.xcom_pull(task_ids=ti.task_id) for ti in syncs}
    assert results["sample"]["summary"]["sections"] == 40
    assert set(results["own_csv"]["sections"]) == {"OWN-1", "OWN-2"}
    assert set(results["from_task"]["sections"]) == {"SPR-1"}
    for result in results.values():
        assert {row["action"] for row in result["plan"]} == {"create"}
    standing = [cls for cls in wiziq_emulator.classes() if cls["cancelled_at"] is None]
    assert len(standing) == sum(result["summary"]["created"] for result in results.values())
    assert wiziq_emulator.requests("add_attendees")
"""


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]


def test_a_new_user_provisions_a_term_from_the_readme_with_the_wheel_in_a_fresh_venv(tmp_path):
    timings = {}
    started = time.monotonic()
    wheel = build(tmp_path / "dists", sdist=False)["wheel"]
    timings["wheel build"] = time.monotonic() - started

    # A fresh venv with pip; Airflow and pytest pinned to this venv's versions, from pip's cache.
    started = time.monotonic()
    venv = tmp_path / "venv"
    made = run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    frozen = run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], timeout=120)
    pins = tmp_path / "pins.txt"
    pins.write_text("\n".join(line for line in frozen.stdout.splitlines() if not line.startswith("-e ")) + "\n")
    airflow = next(line for line in frozen.stdout.splitlines() if line.startswith("apache-airflow=="))
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(pins)]
    install = run([*pip, str(wheel), airflow, "pytest"], timeout=1800)
    assert install.returncode == 0, install.stdout[-4000:] + install.stderr[-4000:]
    timings["fresh venv with Airflow"] = time.monotonic() - started

    # The user's project, from the README: its pytest configuration, their DAG, their test, and the README's.
    project = tmp_path / "school"
    project.mkdir()
    (project / "pyproject.toml").write_text(toml_block("README.md", RECIPE_HEADING))
    own_export = project / "exports" / "own_term.csv"
    own_export.parent.mkdir()
    own_export.write_text(OWN_CSV)
    (project / "newcomer_dags.py").write_text(DAG_FILE.format(own_export=str(own_export)))
    (project / "test_newcomer_terms.py").write_text(TEST_FILE)
    first_sync = (ROOT / "README.md").read_text(encoding="utf-8").splitlines().index(FIRST_SYNC_HEADING) + 1
    recipe = next(s for s in snippets() if s.doc == "README.md" and s.is_test_module and s.line > first_sync)
    assert "FALL_TERM_SECTIONS" in recipe.code, "the README's first sync has its CI test"
    (project / "test_readme_first_sync.py").write_text(recipe.code)

    started = time.monotonic()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW", "PYTHON"))}
    done = run([python, "-m", "pytest", "-p", "no:cacheprovider", "-v"], cwd=project, env=env, timeout=1800)
    timings["the project's tests"] = time.monotonic() - started
    print("\n" + "\n".join(f"newcomer: {what}: {seconds:.0f} s" for what, seconds in timings.items()))
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert re.search(r"^2 passed", done.stdout.splitlines()[-1].strip("= "), re.MULTILINE), done.stdout[-2000:]
    where = run([python, "-c", "import airflow_provider_wiziq as p; print(p.__file__)"], cwd=project, env=env)
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's copy, not the work tree's
