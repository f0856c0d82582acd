"""500 series with the emulator answering after 50 ms: the bulk operator vs the ideal and vs a sequential loop.

The ideal wall time is ``calls x 50 ms / max_concurrency`` (every worker always waiting on a call, nothing
else costing time); the target is at least 0.8 of it. The sequential loop is ``hook.create_recurring`` per
series in one thread, what one mapped task per series does at best (without the tasks' own overhead).
The operator runs with ``verify_schedule=False`` (one call per series, what the ideal counts) and with the
default read-back (two calls per series). A run at the default ``max_calls_per_second`` shows the limiter
holding its rate. To show the emulator (its own process) is not the bottleneck, its CPU time per call is
read, and the operator is also run with latency 0, which gives the most calls a second it can take.
Run: .venv/bin/python benchmarks/bulk_throughput.py
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from emulator_process import EmulatorProcess, quiet_airflow_home, quiet_logs

SERIES = 500
LATENCY = 0.05
CONCURRENCY = 16
YEAR = datetime.now().year + 1


def specs(run: str) -> list[dict[str, Any]]:
    """``SERIES`` two-class weekly series, each with its own presenter."""
    return [
        {
            "key": f"{run}-{index}",
            "title": f"Bulk {run} {index}",
            "presenter_email": f"t{index}@{run}.bench.example",
            "time_zone": "America/Chicago",
            "start_time": f"{YEAR}-02-01T{8 + index % 8:02d}:{15 * (index % 4):02d}",
            "class_repeat_type": "weekly",
            "days_of_week": "monday",
            "class_occurrence": 2,
            "attendee_limit": 30,
        }
        for index in range(SERIES)
    ]


class _TI:
    try_number = 1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


class _Store(dict):
    def set(self, key: str, value: Any) -> None:
        self[key] = value


def run_operator(emulator: EmulatorProcess, run: str, **kwargs: Any) -> tuple[float, float, int]:
    """Wall seconds, emulator CPU seconds and emulator calls of one operator run on a fresh account."""
    from airflow_provider_wiziq.operators.wiziq import CreateRecurringClassesOperator

    emulator.reset()
    operator = CreateRecurringClassesOperator(
        task_id=f"bench_{run}", series=specs(run), max_concurrency=CONCURRENCY, progress_interval=60, **kwargs
    )
    cpu = emulator.cpu_seconds()
    started = time.perf_counter()
    result = operator.execute({"ti": _TI(), "task_state_store": _Store()})
    wall = time.perf_counter() - started
    cpu = emulator.cpu_seconds() - cpu
    assert len(result) == SERIES and not any("error" in entry for entry in result.values()), run
    calls = emulator.api_calls("create_recurring") + emulator.api_calls("view_schedule")
    return wall, cpu, calls


def run_sequential(emulator: EmulatorProcess) -> float:
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    emulator.reset()
    hook = WizIQHook()
    params = [{k: v for k, v in spec.items() if k != "key"} for spec in specs("sequential")]
    started = time.perf_counter()
    for one in params:
        hook.create_recurring(**one)
    wall = time.perf_counter() - started
    hook.close()
    return wall


def main() -> None:
    quiet_airflow_home()
    quiet_logs()
    with EmulatorProcess(latency=LATENCY) as emulator:
        emulator.use_as_default_connection()
        one_call, cpu_one, calls_one = run_operator(
            emulator, "one_call", max_calls_per_second=None, verify_schedule=False
        )
        two_calls, _, calls_two = run_operator(emulator, "read_back", max_calls_per_second=None)
        limited, _, calls_limited = run_operator(emulator, "limited", max_calls_per_second=100, verify_schedule=False)
        sequential = run_sequential(emulator)
        emulator.set_latency(0)
        unloaded, cpu_unloaded, calls_unloaded = run_operator(
            emulator, "latency0", max_calls_per_second=None, verify_schedule=False
        )

    ideal_one = calls_one * LATENCY / CONCURRENCY
    ideal_two = calls_two * LATENCY / CONCURRENCY
    print(f"{SERIES} series, emulator latency {LATENCY * 1000:.0f} ms, max_concurrency {CONCURRENCY}")
    print(f"ideal (calls x latency / concurrency), one call a series: {ideal_one:6.2f} s")
    print(f"bulk operator, verify_schedule=False:  {one_call:6.2f} s = {ideal_one / one_call:.2f} of ideal")
    print(
        f"bulk operator, read-back (2 calls):    {two_calls:6.2f} s = {ideal_two / two_calls:.2f} of its ideal "
        f"{ideal_two:.2f} s"
    )
    print(f"sequential hook.create_recurring loop: {sequential:6.2f} s = {sequential / one_call:.1f}x the bulk time")
    print(f"max_calls_per_second=100: {calls_limited} calls in {limited:.2f} s = {calls_limited / limited:.1f} calls/s")
    print(
        f"emulator CPU per call: {cpu_one / calls_one * 1000:.2f} ms at 50 ms latency "
        f"({cpu_one / one_call * 100:.0f}% of one core during the run)"
    )
    print(
        f"latency 0: {calls_unloaded} calls in {unloaded:.2f} s = {calls_unloaded / unloaded:.0f} calls/s, "
        f"{cpu_unloaded / calls_unloaded * 1000:.2f} ms emulator CPU per call; the 50 ms run needed "
        f"{calls_one / one_call:.0f} calls/s"
    )
    print(
        f"ratio: {ideal_one / one_call:.2f} of ideal (target >= 0.8); {sequential / one_call:.1f}x faster than "
        "the sequential loop"
    )


if __name__ == "__main__":
    main()
