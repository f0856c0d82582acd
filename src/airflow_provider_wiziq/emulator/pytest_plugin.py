"""The provider's pytest plugin: the ``wiziq_emulator`` fixture, and opt-in DAG runs with ``wiziq_dag_run``.

Published through the ``pytest11`` entry point, so it loads in every pytest session of a project that has the
provider installed. Loading it changes nothing: ``wiziq_emulator`` starts a server only for a test that asks,
and the Airflow set-up happens only when the project opts in with ``wiziq_airflow = true`` in its pytest
configuration (or ``--wiziq-airflow``): then, before any test module imports Airflow, ``AIRFLOW_HOME`` points at
a throwaway directory with an empty dags folder and no examples, removed when the session ends.

Emulator options come from a marker: ``@pytest.mark.wiziq_emulator(limits=PlanLimits(max_class_minutes=60))``
passes its keyword arguments to :class:`~airflow_provider_wiziq.emulator.server.WizIQEmulator`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_wiziq.emulator.server import WizIQEmulator

_OPT_IN = "wiziq_airflow"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        _OPT_IN,
        type="bool",
        default=False,
        help="wiziq: run this session's Airflow on a throwaway AIRFLOW_HOME, for the wiziq_dag_run fixture",
    )
    parser.addoption(
        "--wiziq-airflow",
        action="store_true",
        dest=_OPT_IN,
        help="the same as the ini option wiziq_airflow = true",
    )


def _opted_in(config: pytest.Config) -> bool:
    # Before the command line is fully parsed (pytest_load_initial_conftests) only the known args hold the flag.
    flag = getattr(config.known_args_namespace, _OPT_IN, False) or config.getoption(_OPT_IN, default=False)
    return bool(flag or config.getini(_OPT_IN))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Set the throwaway Airflow home before conftest files (and so any test module) can import Airflow."""
    if _opted_in(early_config):
        from airflow_provider_wiziq.emulator.dag_runs import AirflowAlreadyImportedError, use_throwaway_airflow_home

        try:
            use_throwaway_airflow_home()
        except AirflowAlreadyImportedError as error:
            raise pytest.UsageError(str(error)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wiziq_emulator(**options): keyword arguments for the wiziq_emulator fixture's WizIQEmulator",
    )


@pytest.fixture
def wiziq_emulator(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[WizIQEmulator]:
    """A WizIQ emulator on 127.0.0.1 for one test; the ``wiziq_default`` connection points at it."""
    from airflow_provider_wiziq.emulator.server import WizIQEmulator

    marker = request.node.get_closest_marker("wiziq_emulator")
    options = dict(marker.kwargs) if marker is not None else {}
    with WizIQEmulator(**options) as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_WIZIQ_DEFAULT", emulator.connection_json)
        yield emulator


@pytest.fixture
def wiziq_dag_run(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``wiziq_dag_run(dag, **test_kwargs)`` runs ``dag`` with ``dag.test()`` and returns the DagRun.

    The test fails, naming each task that did not succeed, unless the run succeeded; pass ``check=False``
    to judge a run that is meant to fail yourself. Needs ``wiziq_airflow = true`` (see the module's docs).
    """
    if not _opted_in(request.config):
        pytest.fail(
            "wiziq_dag_run runs DAGs on a throwaway Airflow home, which this project has not asked for: "
            "add `wiziq_airflow = true` to its pytest configuration (or pass --wiziq-airflow).",
            pytrace=False,
        )
    from airflow_provider_wiziq.emulator.dag_runs import failed_tasks, run_dag

    def run(dag: Any, *, check: bool = True, **test_kwargs: Any) -> Any:
        dag_run = run_dag(dag, **test_kwargs)
        if check and dag_run.state != "success":
            failed = ", ".join(f"{task} ({state})" for task, state in sorted(failed_tasks(dag_run).items()))
            pytest.fail(f"DAG {dag.dag_id} ended {dag_run.state}; tasks that did not succeed: {failed}", pytrace=False)
        return dag_run

    return run
