"""The shipped pytest plugin: loading it changes nothing; ``wiziq_airflow = true`` gives a throwaway Airflow
home and ``wiziq_dag_run`` runs a DAG there, failing the test when the run fails.

Each case is a pytest session of its own (a subprocess: Airflow reads its home once per process). They are
``integration`` tests, run once by scripts/test.sh and not in each matrix cell: their Airflow side (the throwaway
home, ``dag.test()``) is what every cell's own session runs on (pyproject.toml opts in).
"""

from __future__ import annotations

import pytest

DAG_TESTS = """
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_wiziq.hooks.wiziq import WizIQHook


def dag_with(callable_, dag_id):
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        task(task_id="work")(callable_)()
    return dag


def account():
    return dict(WizIQHook().get_account_info().fields)


def broken():
    raise ValueError("this task fails")


def test_a_dag_runs_against_the_emulator(wiziq_emulator, wiziq_dag_run, tmp_path):
    import os

    assert os.environ["AIRFLOW_HOME"] != {home!r}
    assert os.path.basename(os.environ["AIRFLOW_HOME"]).startswith("wiziq-airflow-home-")
    dag_run = wiziq_dag_run(dag_with(account, "reads_the_account"))
    assert dag_run.state == "success"
    assert wiziq_emulator.requests("get_account_info")


def test_a_failed_run_fails_the_test(wiziq_dag_run):
    wiziq_dag_run(dag_with(broken, "breaks"))


def test_check_false_hands_back_a_failed_run(wiziq_dag_run):
    assert wiziq_dag_run(dag_with(broken, "breaks_quietly"), check=False).state == "failed"
"""


@pytest.fixture
def project(pytester, monkeypatch, tmp_path):
    """A throwaway project whose own Airflow home is ``home``; none of this suite's Airflow settings."""
    home = tmp_path / "users-own-airflow-home"
    for name in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__LOAD_EXAMPLES", "AIRFLOW_CONN_WIZIQ_DEFAULT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    pytester.makepyfile(test_dags=DAG_TESTS.format(home=str(home)))
    return pytester, home


@pytest.mark.integration
def test_without_the_opt_in_nothing_changes_and_the_fixture_says_how_to_opt_in(project):
    pytester, home = project
    pytester.makepyfile(
        test_home=f"""
        import os

        def test_home_is_the_users_own():
            assert os.environ["AIRFLOW_HOME"] == {str(home)!r}
            assert "AIRFLOW__CORE__DAGS_FOLDER" not in os.environ
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "test_home.py", "test_dags.py::test_a_failed_run_fails_the_test"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*add `wiziq_airflow = true` to its pytest configuration*"])
    assert home.exists()  # Airflow, imported by test_dags.py, used the user's own home


@pytest.mark.integration
def test_opted_in_a_dag_runs_on_a_throwaway_home_and_a_failed_run_fails(project):
    pytester, home = project
    pytester.makeini("[pytest]\nwiziq_airflow = true\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_dags.py")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*DAG breaks ended failed; tasks that did not succeed: work (failed)*"])
    assert not home.exists()


@pytest.mark.integration
def test_the_command_line_flag_opts_in_and_airflow_imported_first_is_refused(project):
    pytester, _ = project
    pytester.makepyfile(
        test_home="""
        import os

        def test_home_is_a_throwaway_one():
            assert os.path.basename(os.environ["AIRFLOW_HOME"]).startswith("wiziq-airflow-home-")
            assert os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        """
    )
    flagged = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--wiziq-airflow", "test_home.py")
    flagged.assert_outcomes(passed=1)
    early = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "airflow", "--wiziq-airflow", "test_home.py")
    assert early.ret == pytest.ExitCode.USAGE_ERROR
    early.stderr.fnmatch_lines(["*Airflow was imported before the throwaway AIRFLOW_HOME could be set*"])
