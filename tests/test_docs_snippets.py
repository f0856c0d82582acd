"""Docs that cannot rot: every Python snippet of README.md and docs/*.md runs against the emulator, as written.

A plain snippet is executed here with the ``wiziq_emulator`` fixture active (``wiziq_default`` points at it).
Snippets that define tests run as test modules of one pytest session of a throwaway project that opts in
with ``wiziq_airflow = true``, as a user's project would. A date in a snippet less than six months ahead fails
here, naming the page and line. See tests/docsnippets.py for the markers that keep a snippet from running.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date

import pytest

from tests.docsnippets import NEEDS_AIRFLOW, Snippet, installed_airflow, near_dates, snippets

SNIPPETS = snippets()
AIRFLOW = installed_airflow()
PLAIN = [snippet for snippet in SNIPPETS if snippet.run and not snippet.is_test_module]
TEST_MODULES = [snippet for snippet in SNIPPETS if snippet.run and snippet.is_test_module]


def test_the_snippets_are_found_and_few_are_not_run():
    docs = {snippet.doc for snippet in SNIPPETS}
    assert {"README.md", "docs/emulator.md", "docs/sensor.md"} <= docs
    assert any(s.doc == "README.md" and s.is_test_module for s in SNIPPETS), "the README's CI recipe"
    not_run = [snippet.name for snippet in SNIPPETS if not snippet.run]
    assert len(not_run) <= 2, f"keep snippets that do not run rare: {not_run}"


def test_a_snippet_in_a_list_item_is_found_and_runs_on_every_supported_airflow():
    """The README's first sync is a numbered list; its indented blocks run too, on 3.1 as on 3.3."""
    first_sync = [s for s in SNIPPETS if s.doc == "README.md" and "FALL_TERM_SECTIONS" in s.code]
    assert len(first_sync) == 2
    assert not first_sync[0].code.startswith(" ")
    assert first_sync[1].needs_airflow is None and first_sync[1].is_test_module


def test_a_needs_airflow_marker_is_read_from_the_line_before_a_block():
    marked = NEEDS_AIRFLOW.search("<!-- snippet: needs Airflow 3.3 -->")
    assert marked is not None and (int(marked.group(1)), int(marked.group(2))) == (3, 3)
    snippet = Snippet("docs/x.md", 1, "x = 1\n", run=True, needs_airflow=(3, 3))
    assert snippet.runs_on((3, 3)) and not snippet.runs_on((3, 1))


def test_every_date_in_a_snippet_is_at_least_six_months_ahead():
    near = [found for snippet in SNIPPETS for found in near_dates(snippet)]
    assert near == [], "move these docs' dates on (and keep their weekdays): " + ", ".join(near)


def test_a_date_less_than_six_months_ahead_is_named_with_its_page_and_line():
    snippet = Snippet("docs/x.md", 10, 'a = "2027-09-08T09:30"\nb = "2028-01-05"\nc = "2027-13-45"\n', run=True)
    assert near_dates(snippet, today=date(2027, 5, 1)) == ["docs/x.md:11: 2027-09-08"]
    assert near_dates(snippet, today=date(2027, 1, 1)) == []
    assert near_dates(snippet, today=date(2028, 1, 6)) == ["docs/x.md:11: 2027-09-08", "docs/x.md:12: 2028-01-05"]


@pytest.mark.parametrize("snippet", PLAIN, ids=lambda snippet: snippet.name)
def test_snippet_runs(snippet: Snippet, wiziq_emulator):
    if not snippet.runs_on(AIRFLOW):
        pytest.skip(f"needs Airflow {snippet.needs_airflow}")
    code = compile(snippet.code, snippet.name, "exec")
    exec(code, {"__name__": f"snippet_{snippet.line}"})


@pytest.fixture(scope="module")
def test_module_session(tmp_path_factory) -> tuple[dict[str, str], str]:
    """One pytest session running every test-module snippet; each snippet's file name, and the output."""
    project = tmp_path_factory.mktemp("docs-project")
    (project / "pytest.ini").write_text("[pytest]\nwiziq_airflow = true\n")
    files = {}
    for number, snippet in enumerate(s for s in TEST_MODULES if s.runs_on(AIRFLOW)):
        files[snippet.name] = f"test_snippet_{number}.py"
        (project / files[snippet.name]).write_text(snippet.code)
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


@pytest.mark.integration  # a user's project's session; its Airflow side is every matrix cell's own session
@pytest.mark.parametrize("snippet", TEST_MODULES, ids=lambda snippet: snippet.name)
def test_test_module_snippet_passes(snippet: Snippet, test_module_session):
    if not snippet.runs_on(AIRFLOW):
        pytest.skip(f"needs Airflow {snippet.needs_airflow}")
    files, output = test_module_session
    outcomes = re.findall(rf"^{re.escape(files[snippet.name])}::\S+ (\w+)", output, re.MULTILINE)
    assert outcomes, output[-4000:]
    assert set(outcomes) == {"PASSED"}, output[-8000:]
