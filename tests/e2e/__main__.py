"""``python -m tests.e2e WORK_DIR [--stages local,celery] [--only NAME,...]``: the deployment test (see
scripts/e2e.sh, which builds the virtualenv and installs PostgreSQL and Redis first).

Prints a table of scenario, result, seconds and figure, and the time of each stage; exits 1 naming the
scenarios that failed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from tests.e2e import scenarios as s
from tests.e2e import term_sync as t
from tests.e2e.clients import AirflowAPI, Emulator
from tests.e2e.deployment import REPO, USER, Deployment, say, wait_until

Scenario = Callable[[s.Context], str]

#: A scenario whose name starts with this goes on with the previous scenario's account (no reset).
CONTINUES = "+ "

STAGES: dict[str, list[tuple[str, Scenario]]] = {
    "local": [
        ("term provisioning, mapped", s.term_provisioning),
        ("term provisioning, bulk", s.term_provisioning_bulk),
        ("enrollment pipeline, deferrable sensor", s.enrollment_pipeline),
        ("reschedule-mode sensor", s.reschedule_sensor),
        ("200 deferrable sensors, one triggerer", s.many_waits(200)),
        ("50 waits woken by status pings; pings lost: polling; a wrong token refused", s.pinged_waits(50)),
        ("triggerer SIGKILLed and restarted", s.triggerer_killed),
        ("task SIGKILLed, create_recurring in flight", s.task_killed("task", "in_flight")),
        ("task SIGKILLed, series committed", s.task_killed("task", "committed")),
        ("supervisor SIGKILLed, create_recurring in flight", s.task_killed("supervisor", "in_flight")),
        ("supervisor SIGKILLed, series committed", s.task_killed("supervisor", "committed")),
        ("term sync adopts the provisioned term; re-run writes nothing", t.term_sync_adopts_then_idles),
        (CONTINUES + "term sync: a renamed key and a zone alias send no write", t.term_sync_rename_and_alias),
        (CONTINUES + "term sync SIGKILLed between two ledger batches, retried", t.term_sync_killed_between_batches),
        ("term sync with ledger_path SIGKILLed between two ledger batches", t.term_sync_path_killed_between_batches),
    ],
    "celery": [
        ("celery: 40 sections over two workers", s.celery_spread),
        ("celery: a worker SIGKILLed mid-run", s.celery_worker_killed),
    ],
}
#: The DAGs every stage waits for before its first scenario.
DAGS = (
    "wiziq_term_provisioning",
    "wiziq_term_provisioning_bulk",
    "wiziq_enrollment_pipeline",
    "e2e_waits",
    "e2e_series",
    "e2e_reschedule",
    "e2e_pings",
    "e2e_pings_lost",
    "e2e_term_sync_path",
)
#: Scenarios that need a DAG some checkouts do not ship yet: skipped (and said so) without it.
NEEDS = {
    t.term_sync_adopts_then_idles: "wiziq_term_sync",
    t.term_sync_rename_and_alias: "wiziq_term_sync",
    t.term_sync_killed_between_batches: "wiziq_term_sync",
}


@dataclass
class Result:
    stage: str
    name: str
    ok: bool
    seconds: float
    figure: str


def bring_up(deployment: Deployment, stage: str) -> AirflowAPI:
    """(Re)start Airflow's processes for ``stage``, log in, and wait until every DAG is parsed."""
    deployment.stop_airflow()
    deployment.executor = "CeleryExecutor" if stage == "celery" else "LocalExecutor"
    say(f"stage {stage}: starting Airflow with the {deployment.executor}")
    deployment.start_airflow()
    if stage == "celery":
        for name in ("worker-a", "worker-b"):
            deployment.start_component(
                name,
                "celery",
                "worker",
                "--concurrency",
                "4",
                "--celery-hostname",
                f"{name}@%h",
                "--skip-serve-logs",
                E2E_WORKER_NAME=name,
            )
    api = AirflowAPI(f"http://127.0.0.1:{deployment.api_port}", USER, deployment.password)
    components = [name for name in deployment.processes if name not in {"postgres", "redis", "emulator"}]

    def healthy() -> bool:
        deployment.check_alive(*components)
        return api.healthy()

    wait_until(healthy, 240, "the api-server to answer", every=2)
    api.login()

    def parsed() -> bool:
        deployment.check_alive(*components)
        return all(api.dag_ready(dag_id) for dag_id in DAGS)

    wait_until(parsed, 300, "the dag-processor to parse every DAG", every=3)
    for dag_id in sorted(set(NEEDS.values()) & shipped_dags()):
        wait_until(lambda dag_id=dag_id: api.dag_ready(dag_id), 300, f"the dag-processor to parse {dag_id}", every=3)
    say(f"stage {stage}: {', '.join(components)} up; DAGs parsed")
    return api


def run_stage(deployment: Deployment, stage: str, only: set[str] | None) -> tuple[list[Result], float]:
    began = time.monotonic()
    results: list[Result] = []
    try:
        api = bring_up(deployment, stage)
    except Exception as error:
        say(f"stage {stage}: the deployment did not come up: {error}")
        for process in deployment.processes.values():
            say(f"--- last lines of {process.name}:\n{process.tail(15)}")
        return [Result(stage, f"{stage} deployment up", False, time.monotonic() - began, str(error)[:200])], (
            time.monotonic() - began
        )
    emulator = Emulator(deployment.emulator_url)
    for name, scenario in STAGES[stage]:
        if only and not any(word in name for word in only):
            continue
        needed = NEEDS.get(scenario)
        if needed and needed not in shipped_dags():
            say(f"skipped {name}: this checkout has no {needed} DAG")
            continue
        ctx = s.Context(deployment, api, emulator)
        say(f"scenario: {name}")
        started = time.monotonic()
        try:
            if not name.startswith(CONTINUES):
                emulator.reset()
            deployment.check_alive(*deployment.processes)
            figure, ok = scenario(ctx), True
        except Exception as error:
            ok = False
            figure = f"{type(error).__name__}: {error}" if not isinstance(error, s.ScenarioFailed) else str(error)
            say(f"FAILED {name}: {figure}")
            if not isinstance(error, (s.ScenarioFailed, TimeoutError)):
                traceback.print_exc()
            abandon(ctx)
        seconds = time.monotonic() - started
        say(f"{'ok' if ok else 'FAILED'} {name} ({seconds:.0f} s): {figure}")
        results.append(Result(stage, name, ok, seconds, figure))
    return results, time.monotonic() - began


def shipped_dags() -> set[str]:
    """The example DAG ids this checkout ships (by their files' names)."""
    return {path.stem for path in (REPO / "example_dags").glob("*.py")}


def abandon(ctx: s.Context) -> None:
    """Fail the runs a failed scenario left behind, so that they book nothing in the next one's account."""
    for dag_id, run_id in ctx.runs:
        try:
            ctx.api.session.patch(
                f"{ctx.api.base_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}", json={"state": "failed"}, timeout=30
            )
        except Exception as error:
            say(f"could not fail {run_id}: {error}")
    time.sleep(3)


def table(results: list[Result], stage_times: dict[str, float]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'scenario':<{width}}  result  seconds  figure", f"{'-' * width}  ------  -------  ------"]
    for r in results:
        lines.append(f"{r.name:<{width}}  {'ok' if r.ok else 'FAIL':<6}  {r.seconds:>7.0f}  {r.figure}")
    lines.append("")
    lines.extend(f"stage {stage}: {seconds:.0f} s" for stage, seconds in stage_times.items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m tests.e2e")
    cli.add_argument("work", type=Path, help="an empty temp dir for the deployment")
    cli.add_argument("--stages", default="local,celery", help="comma-separated: local, celery")
    cli.add_argument("--only", default="", help="comma-separated words: run the scenarios whose name has one")
    cli.add_argument("--hold", action="store_true", help="after the scenarios, keep the deployment up until Ctrl-C")
    args = cli.parse_args(argv)
    stages = [stage.strip() for stage in args.stages.split(",") if stage.strip()]
    unknown = [stage for stage in stages if stage not in STAGES]
    if unknown:
        cli.error(f"unknown stage(s) {unknown}; stages: {', '.join(STAGES)}")
    only = {word.strip() for word in args.only.split(",") if word.strip()} or None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    deployment = Deployment(args.work)
    results: list[Result] = []
    stage_times: dict[str, float] = {}
    holding = False
    try:
        began = time.monotonic()
        redis = f", Redis on {deployment.redis_port}" if "celery" in stages else ""
        say(
            f"ports: PostgreSQL {deployment.pg_port}, emulator {deployment.emulator_port}, "
            f"api-server {deployment.api_port}{redis}"
        )
        deployment.prepare_airflow()
        deployment.start_postgres()
        deployment.start_emulator()
        if "celery" in stages:
            deployment.start_redis()
        say("airflow db migrate")
        deployment.airflow("db", "migrate")
        stage_times["set-up"] = time.monotonic() - began
        for stage in stages:
            stage_results, seconds = run_stage(deployment, stage, only)
            results.extend(stage_results)
            stage_times[stage] = seconds
        if args.hold:
            holding = True
            say(
                f"holding: API http://127.0.0.1:{deployment.api_port} (user {USER}, password in "
                f"{deployment.work / 'passwords.json'}), emulator {deployment.emulator_url}; Ctrl-C ends it"
            )
            signal.pause()
    except KeyboardInterrupt as interrupt:
        say(f"interrupted ({interrupt})")
        if not holding:
            results.append(Result("-", "interrupted", False, 0, str(interrupt)))
    except Exception as error:
        traceback.print_exc()
        results.append(Result("-", "set-up", False, 0, f"{type(error).__name__}: {error}"[:300]))
    finally:
        say("tearing down")
        deployment.teardown()
    print()
    print(table(results, stage_times) if results else "no scenario ran")
    failed = [r.name for r in results if not r.ok]
    print(f"\ne2e: {len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print(f"e2e FAILED: {'; '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
