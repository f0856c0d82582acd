"""Docs that cannot rot: every Python snippet of README.md and docs/*.md runs against the emulator.

A plain snippet is executed here with the ``wiziq_emulator`` fixture active (``wiziq_default`` points at it).
Snippets that define tests run as test modules of one pytest session of a throwaway project that opts in
with ``wiziq_airflow = true``, as a user's project would. See tests/docsnippets.py for the marker that
keeps a snippet from running and for how dates are kept in the future.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import pytest

from tests.docsnippets import Snippet, in_the_future, snippets

SNIPPETS = snippets()
PLAIN = [snippet for snippet in SNIPPETS if snippet.run and not snippet.is_test_module]
TEST_MODULES = [snippet for snippet in SNIPPETS if snippet.run and snippet.is_test_module]


def test_the_snippets_are_found_and_few_are_not_run():
    docs = {snippet.doc for snippet in SNIPPETS}
    assert {"README.md", "docs/emulator.md", "docs/sensor.md"} <= docs
    assert any(s.doc == "README.md" and s.is_test_module for s in SNIPPETS), "the README's CI recipe"
    not_run = [snippet.name for snippet in SNIPPETS if not snippet.run]
    assert len(not_run) <= 2, f"keep snippets that do not run rare: {not_run}"


def test_dates_that_passed_move_forward_keeping_their_weekdays():
    code = 'start_time="2026-09-08T09:30", class_end_date="2026-12-18", other="2026-13-45"'
    moved = in_the_future(code, today=date(2027, 5, 1))
    start, end = (date.fromisoformat(day) for day in re.findall(r"\d{4}-\d{2}-\d{2}(?=[T\"])", moved)[:2])
    assert start > date(2027, 5, 1)
    assert (start.weekday(), end.weekday()) == (date(2026, 9, 8).weekday(), date(2026, 12, 18).weekday())
    assert (start.month, start.day, end.month, end.day) == (9, 8, 12, 18)
    assert '"2026-13-45"' in moved
    assert in_the_future(code, today=date(2026, 1, 1)) == code


@pytest.mark.parametrize("snippet", PLAIN, ids=lambda snippet: snippet.name)
def test_snippet_runs(snippet: Snippet, wiziq_emulator):
    code = compile(in_the_future(snippet.code), snippet.name, "exec")
    exec(code, {"__name__": f"snippet_{snippet.line}"})


@pytest.fixture(scope="module")
def test_module_session(tmp_path_factory) -> tuple[dict[str, str], str]:
    """One pytest session running every test-module snippet; each snippet's file name, and the output."""
    project = tmp_path_factory.mktemp("docs-project")
    (project / "pytest.ini").write_text("[pytest]\nwiziq_airflow = true\n")
    files = {}
    for number, snippet in enumerate(TEST_MODULES):
        files[snippet.name] = f"test_snippet_{number}.py"
        (project / files[snippet.name]).write_text(in_the_future(snippet.code))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return files, done.stdout + done.stderr


@pytest.mark.parametrize("snippet", TEST_MODULES, ids=lambda snippet: snippet.name)
def test_test_module_snippet_passes(snippet: Snippet, test_module_session):
    files, output = test_module_session
    outcomes = re.findall(rf"^{re.escape(files[snippet.name])}::\S+ (\w+)", output, re.MULTILINE)
    assert outcomes, output[-4000:]
    assert set(outcomes) == {"PASSED"}, output[-8000:]
