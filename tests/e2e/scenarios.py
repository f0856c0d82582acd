"""The deployment test's scenarios. Each one starts from a freshly reset emulator account, drives Airflow only
through its REST API, and asserts on what the emulator stored and the calls it received.

A scenario returns a short figure for the table, or raises :class:`ScenarioFailed` saying what went wrong.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.clients import AirflowAPI, Emulator, recorded_at
from tests.e2e.deployment import REPO, Deployment, say, wait_until

SAMPLES = REPO / "src" / "airflow_provider_wiziq" / "example_dags"
SECTIONS_CSV = SAMPLES / "fall_term_sections.csv"
ROSTER_CSV = SAMPLES / "roster.csv"
#: Seconds a poll round of the coalescing poller may spread over; rounds are ``poke_interval`` (2 s) apart.
ROUND_GAP = 1.0


class ScenarioFailed(AssertionError):
    """A scenario's assertion did not hold."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


@dataclass
class Context:
    """What a scenario works with; ``runs`` are the DAG runs it started (failed on purpose if it fails)."""

    deployment: Deployment
    api: AirflowAPI
    emulator: Emulator
    runs: list[tuple[str, str]] = field(default_factory=list)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run_id = self.api.trigger(dag_id, conf)
        self.runs.append((dag_id, run_id))
        say(f"triggered {dag_id} ({run_id})")
        return run_id

    def run(self, dag_id: str, conf: dict[str, Any] | None = None, timeout: float = 600) -> str:
        """Trigger ``dag_id`` and wait until the run succeeds; its run id."""
        run_id = self.trigger(dag_id, conf)
        self.expect_success(dag_id, run_id, timeout)
        return run_id

    def expect_success(self, dag_id: str, run_id: str, timeout: float = 600) -> None:
        state = self.api.wait_for_run(dag_id, run_id, timeout)
        check(state == "success", f"{dag_id} run {state}: {', '.join(self.api.failed_tasks(dag_id, run_id))}")

    def tis(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        return self.api.task_instances(dag_id, run_id, task_id)

    def no_failures(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's task instances; a failed one fails the scenario at once, with the reason from its log."""
        found = self.api.task_instances(dag_id, run_id)
        failed = [ti for ti in found if ti["state"] in {"failed", "upstream_failed"}]
        if failed:
            first = next((ti for ti in failed if ti["state"] == "failed"), failed[0])
            raise ScenarioFailed(
                f"{len(failed)} task instance(s) of {dag_id} failed; {first['task_id']}[{first['map_index']}]: "
                f"{self.api.failure_reason(first)}"
            )
        return found

    def until(self, check: Callable[[], Any], timeout: float, what: str, run: tuple[str, str]) -> Any:
        """``wait_until(check)``, failing early when a task instance of ``run`` (dag_id, run_id) fails."""

        def checked() -> Any:
            self.no_failures(*run)
            return check()

        return wait_until(checked, timeout, what, every=2)

    def wait_for_states(
        self, dag_id: str, run_id: str, task_id: str, state: str, count: int, timeout: float
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` instances of ``task_id`` are in ``state``; fail early if one failed."""

        def reached() -> list[dict[str, Any]] | None:
            found = [ti for ti in self.no_failures(dag_id, run_id) if ti["task_id"] == task_id]
            return found if sum(ti["state"] == state for ti in found) >= count else None

        return wait_until(reached, timeout, f"{count} {task_id} task instances {state}", every=2)


# Helpers on what the emulator saw ------------------------------------------------------------------------------


def section_titles() -> list[str]:
    with open(SECTIONS_CSV, newline="") as handle:
        return [row["title"] for row in csv.DictReader(handle)]


def every_series_once(emulator: Emulator, titles: list[str]) -> str:
    """Each title booked as exactly one series, nothing else booked; a figure with the calls it took."""
    series = Counter(item["params"]["title"] for item in emulator.series())
    twice = sorted(title for title, n in series.items() if n > 1)
    check(not twice, f"booked twice: {twice[:5]}")
    missing = sorted(set(titles) - set(series))
    check(not missing, f"{len(missing)} series missing, e.g. {missing[:3]}")
    extra = sorted(set(series) - set(titles))
    check(not extra, f"unexpected series: {extra[:3]}")
    creates = emulator.requests("create_recurring")
    created = [entry for entry in creates if entry["committed"] and entry["error_code"] is None]
    check(len(created) == len(titles), f"{len(created)} create_recurring succeeded for {len(titles)} series")
    classes = len(emulator.classes())
    return f"{len(series)} series, {classes} classes; {len(creates)} create_recurring"


def poller_calls(emulator: Emulator) -> list[dict[str, Any]]:
    """The triggerer's coalesced polls: get_data by ``multiple_class_id``."""
    return [entry for entry in emulator.requests("get_data") if entry["fields"].get("multiple_class_id")]


def polled_ids(entry: dict[str, Any]) -> set[int]:
    return {int(part) for part in str(entry["fields"]["multiple_class_id"]).split(",") if part.strip()}


def rounds(calls: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group poll calls into rounds: calls less than ``ROUND_GAP`` apart belong to one round."""
    grouped: list[list[dict[str, Any]]] = []
    last: datetime | None = None
    for entry in sorted(calls, key=recorded_at):
        moment = recorded_at(entry)
        if last is None or (moment - last).total_seconds() > ROUND_GAP:
            grouped.append([])
        grouped[-1].append(entry)
        last = moment
    return grouped


def round_ids(one_round: list[dict[str, Any]]) -> set[int]:
    return set().union(*(polled_ids(entry) for entry in one_round))


def local_start(emulator: Emulator, zone: str, **ahead: float) -> str:
    """A wall-clock start ``ahead`` of the emulator's clock, as create_recurring takes it."""
    return (emulator.now() + timedelta(**ahead)).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


# Stage 1: LocalExecutor ---------------------------------------------------------------------------------------


def term_provisioning(ctx: Context) -> str:
    """The mapped example DAG: one task per section."""
    ctx.run("wiziq_term_provisioning", timeout=900)
    return every_series_once(ctx.emulator, section_titles())


def term_provisioning_bulk(ctx: Context) -> str:
    """The bulk example DAG: every section in one rate-limited task."""
    ctx.run("wiziq_term_provisioning_bulk", timeout=600)
    return every_series_once(ctx.emulator, section_titles())


def enrollment_pipeline(ctx: Context) -> str:
    """The example pipeline; its deferrable sensor waits in the real triggerer while the clock moves
    upcoming -> live -> completed."""
    dag_id = "wiziq_enrollment_pipeline"
    run_id = ctx.trigger(dag_id)
    ctx.wait_for_states(dag_id, run_id, "wait_for_first_class", "deferred", 1, 300)
    (series,) = ctx.emulator.series()
    first = ctx.emulator.get_class(series["class_ids"][0])
    check(first["status"] == "upcoming", f"first class is {first['status']} before the clock moved")
    check(len(series["class_ids"]) == 8, f"the series holds {len(series['class_ids'])} classes, not 8")

    def polled_since(moment: datetime) -> bool:
        return any(
            first["class_id"] in polled_ids(entry) and recorded_at(entry) > moment
            for entry in poller_calls(ctx.emulator)
        )

    ctx.until(lambda: polled_since(datetime.min.replace(tzinfo=timezone.utc)), 60, "a triggerer poll", (dag_id, run_id))
    start = datetime.fromisoformat(first["utc_start"])
    ctx.emulator.set_clock(start + timedelta(minutes=1))
    moved = ctx.emulator.now()
    check(ctx.emulator.get_class(first["class_id"])["status"] == "live", "the class is not live at its start")
    ctx.until(lambda: polled_since(moved), 60, "a triggerer poll while the class is live", (dag_id, run_id))
    (sensor,) = ctx.tis(dag_id, run_id, "wait_for_first_class")
    check(sensor["state"] == "deferred", f"the sensor is {sensor['state']} while the class is live")
    ctx.emulator.set_clock(datetime.fromisoformat(first["utc_end"]) + timedelta(minutes=1))
    ctx.expect_success(dag_id, run_id, 300)
    with open(ROSTER_CSV, newline="") as handle:
        roster = len(list(csv.DictReader(handle)))
    enrolled = ctx.emulator.get_class(first["class_id"])["attendees"]
    check(len(enrolled) == roster, f"{len(enrolled)} attendees enrolled, the roster has {roster}")
    reports = [e for e in ctx.emulator.requests("get_attendance_report") if e["error_code"] is None]
    check(reports, "no attendance report was fetched")
    polls = sum(first["class_id"] in polled_ids(entry) for entry in poller_calls(ctx.emulator))
    return f"upcoming->live->completed; {polls} triggerer polls; {roster} enrolled; report fetched"


def reschedule_sensor(ctx: Context) -> str:
    """A reschedule-mode sensor frees its slot between pokes and succeeds once the class is over."""
    dag_id = "e2e_reschedule"
    run_id = ctx.trigger(dag_id, {"start_time": local_start(ctx.emulator, "America/New_York", days=1)})
    ctx.wait_for_states(dag_id, run_id, "wait", "up_for_reschedule", 1, 300)

    def pokes() -> int:
        return sum("class_id" in entry["fields"] for entry in ctx.emulator.requests("get_data"))

    ctx.until(lambda: pokes() >= 2, 120, "a second poke", (dag_id, run_id))
    ctx.emulator.advance(days=2)
    ctx.expect_success(dag_id, run_id, 300)
    check(len(ctx.emulator.series()) == 1, "not exactly one series")
    return f"{pokes()} pokes, rescheduled between them"


def many_waits(count: int) -> Callable[[Context], str]:
    def scenario(ctx: Context) -> str:
        """``count`` deferrable sensors join one triggerer one by one; all succeed and, once all have joined,
        a poll round holds at most ceil(count / 100) get_data calls."""
        ctx.emulator.set_latency(0.3)  # rounds in flight long enough for sensors to join during one
        dag_id = "e2e_waits"
        run_id = ctx.trigger(dag_id, {"count": count})
        ctx.wait_for_states(dag_id, run_id, "wait", "deferred", count, 900)
        wanted = {c["class_id"] for c in ctx.emulator.classes()}
        check(len(wanted) == count, f"{len(wanted)} classes booked, not {count}")
        ctx.until(
            lambda: any(round_ids(r) == wanted for r in rounds(poller_calls(ctx.emulator))),
            120,
            "a poll round over every waiting class",
            (dag_id, run_id),
        )
        time.sleep(6)  # a few more rounds with everyone joined
        ctx.no_failures(dag_id, run_id)
        ctx.emulator.set_latency(0)
        ctx.emulator.advance(days=60)
        ctx.expect_success(dag_id, run_id, 600)
        all_rounds = rounds(poller_calls(ctx.emulator))
        joined = next(i for i, r in enumerate(all_rounds) if round_ids(r) == wanted)
        after = all_rounds[joined:]
        limit = -(-count // 100)
        widest = max(len(r) for r in after)
        check(widest <= limit, f"a poll round after all joined held {widest} get_data calls (at most {limit})")
        succeeded = sum(ti["state"] == "success" for ti in ctx.tis(dag_id, run_id, "wait"))
        check(succeeded == count, f"{succeeded} of {count} waits succeeded")
        return f"{succeeded}/{count} succeeded; {len(after)} rounds after all joined, at most {widest} calls each"

    return scenario


#: How soon after its class ends a pinged wait's trigger must have fired (the task instance scheduled again).
PING_DEADLINE = 5.0


def inbox_entries(ctx: Context) -> int:
    return sum(1 for path in ctx.deployment.ping_inbox.rglob("*") if path.is_file() and path.name != "bell")


def pinged_round(ctx: Context, dag_id: str, count: int, timeout: float) -> tuple[float, list[dict[str, Any]]]:
    """Run ``dag_id``'s ``count`` waits until all are deferred and asked once, end every class with one clock
    jump, and wait for the run's success: the longest delay from the jump to a wait's trigger firing (its task
    instance's ``scheduled_when``), and the poller's get_data calls after the jump."""
    run_id = ctx.trigger(dag_id, {"count": count})
    ctx.wait_for_states(dag_id, run_id, "wait", "deferred", count, 900)
    wanted = {c["class_id"] for c in ctx.emulator.classes()}
    check(len(wanted) == count, f"{len(wanted)} classes booked, not {count}")

    def asked() -> bool:  # with pings on, a new wait is asked once at the next read of the inbox
        return set().union(*(polled_ids(entry) for entry in poller_calls(ctx.emulator))) >= wanted

    ctx.until(asked, 120, "every new wait asked once", (dag_id, run_id))
    time.sleep(3)  # the last asks' answers delivered
    before = len(poller_calls(ctx.emulator))
    ended = datetime.now(timezone.utc)
    ctx.emulator.advance(days=60)  # every class of the series is over: two pings each (live, completed)
    ctx.expect_success(dag_id, run_id, timeout)
    tis = ctx.tis(dag_id, run_id, "wait")
    check(sum(ti["state"] == "success" for ti in tis) == count, f"not all {count} waits succeeded")
    fired = [datetime.fromisoformat(ti["scheduled_when"].replace("Z", "+00:00")) for ti in tis]
    return max((moment - ended).total_seconds() for moment in fired), poller_calls(ctx.emulator)[before:]


def pinged_waits(count: int) -> Callable[[Context], str]:
    def scenario(ctx: Context) -> str:
        """``count`` deferred waits on the connection whose classes ping the api-server's /wiziq/ping (polling
        every 600 s): each trigger fires within ``PING_DEADLINE`` s of its class ending, with at most one
        get_data per round. A forged ping is refused (403) and recorded nothing. Then, with every ping dropped
        or forged by the emulator, the same waits complete by the triggerer's full rounds (every 20 s here)."""
        import requests

        worst, calls = pinged_round(ctx, "e2e_pings", count, 600)
        widest = max(len(r) for r in rounds(calls))
        check(widest <= 1, f"a poll round after the pings held {widest} get_data calls (at most 1)")
        check(worst <= PING_DEADLINE, f"a pinged wait fired {worst:.1f} s after its class ended (> {PING_DEADLINE})")
        check(ctx.emulator.wait_for_pings(30), "the emulator's pings were not all delivered")
        pings = ctx.emulator.pings()
        check(len(pings) == 2 * count and all(p["delivered"] for p in pings), "not every ping was recorded")
        pinged = f"{count}/{count} fired <= {worst:.1f} s after their classes ended, {len(calls)} get_data"

        recorded = inbox_entries(ctx)
        with requests.Session() as session:
            session.trust_env = False
            answer = session.post(
                f"{ctx.deployment.ping_base_url}?conn_id=wiziq_pings&k=forged",
                data={"class_id": "15001", "class_status": "completed"},
                timeout=30,
            )
        check(answer.status_code == 403, f"a forged ping got HTTP {answer.status_code}, not 403")
        check(inbox_entries(ctx) == recorded, "a forged ping was recorded")

        ctx.emulator.reset()
        ctx.emulator.inject("ping_drop", count=count)
        ctx.emulator.inject("ping_bad_token", count=count)
        lost_worst, lost_calls = pinged_round(ctx, "e2e_pings_lost", count, 600)
        check(ctx.emulator.wait_for_pings(30), "the emulator's pings were not all sent")
        lost = ctx.emulator.pings()
        refused = sum(p["error"] == "HTTP 403" for p in lost)
        check(len(lost) == 2 * count and not any(p["delivered"] for p in lost), "a ping got through")
        check(refused == count, f"{refused} wrong-token pings refused with 403, not {count}")
        check(inbox_entries(ctx) == recorded, "a dropped or forged ping was recorded")
        return (
            f"pings: {pinged} (at most {widest} a round); forged ping 403; pings lost: {count}/{count} by polling "
            f"<= {lost_worst:.0f} s, {len(lost_calls)} get_data"
        )

    return scenario


def triggerer_killed(ctx: Context) -> str:
    """The triggerer is SIGKILLed while waits are deferred; a new one takes them over and all complete."""
    count = 20
    dag_id = "e2e_waits"
    run_id = ctx.trigger(dag_id, {"count": count})
    ctx.wait_for_states(dag_id, run_id, "wait", "deferred", count, 600)
    wanted = {c["class_id"] for c in ctx.emulator.classes()}
    ctx.until(
        lambda: any(round_ids(r) == wanted for r in rounds(poller_calls(ctx.emulator))),
        120,
        "a poll round over every waiting class",
        (dag_id, run_id),
    )
    say("SIGKILL triggerer")
    ctx.deployment.processes.pop("triggerer").kill()
    killed_at = ctx.emulator.now()
    began = time.monotonic()
    ctx.deployment.start_triggerer()

    def polled_again() -> bool:
        later = [r for r in rounds(poller_calls(ctx.emulator)) if recorded_at(r[0]) > killed_at]
        return any(round_ids(r) == wanted for r in later)

    ctx.until(polled_again, 180, "the new triggerer to poll every deferred class", (dag_id, run_id))
    resumed = time.monotonic() - began
    ctx.emulator.advance(days=60)
    ctx.expect_success(dag_id, run_id, 300)
    succeeded = sum(ti["state"] == "success" for ti in ctx.tis(dag_id, run_id, "wait"))
    check(succeeded == count, f"{succeeded} of {count} waits succeeded")
    return f"{succeeded}/{count} completed; the new triggerer polled them {resumed:.0f} s after the kill"


#: How long the emulator holds a create_recurring: longer than Airflow takes to retry a killed task (about 10 s)
#: or a task whose supervisor died (the 20 s heartbeat timeout, then the retry), so that the retry reaches
#: WizIQ before the killed call does.
HOLD = 40.0


def task_killed(target: str, moment: str) -> Callable[[Context], str]:
    """SIGKILL the task process (``target="task"``) or its supervisor (``"supervisor"``) while create_recurring
    is in flight (``moment="in_flight"``: held by emulator latency, not yet committed) or right after the
    emulator committed the series (``"committed"``: its answer held back); after Airflow's retry the account
    holds exactly one series. In flight, the retry's own create_recurring comes first and the killed call,
    landing later, must be refused with 1032."""

    def scenario(ctx: Context) -> str:
        import psutil

        if moment == "in_flight":
            ctx.emulator.set_latency(HOLD)
        else:
            ctx.emulator.inject("delay", method="create_recurring", seconds=HOLD)
        dag_id = "e2e_series"
        run_id = ctx.trigger(dag_id, {"title": f"Killed {target} {moment}", "start_time": "2030-01-08T10:00"})
        port = ctx.deployment.emulator_port

        def ready() -> int | None:
            (ti,) = ctx.tis(dag_id, run_id, "create_series")
            if ti["state"] != "running" or not ti.get("pid"):
                return None
            if moment == "committed":
                return ti["pid"] if ctx.emulator.requests("create_recurring") else None
            try:  # the first try's first call is create_recurring: a connection to the emulator means it is sent
                connections = psutil.Process(ti["pid"]).net_connections("tcp")
            except psutil.Error:
                return None
            talking = any(c.raddr and c.raddr.port == port and c.status == "ESTABLISHED" for c in connections)
            return ti["pid"] if talking else None

        pid = wait_until(ready, 300, f"create_recurring {moment.replace('_', ' ')}")
        victim = pid if target == "task" else psutil.Process(pid).ppid()
        check(victim not in {p.pid for p in ctx.deployment.processes.values()}, "would kill a component")
        say(f"SIGKILL {target} pid {victim} ({moment.replace('_', ' ')})")
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        if moment == "in_flight":
            ctx.emulator.set_latency(0)  # the held call keeps its wait; the retry's calls do not wait
        ctx.expect_success(dag_id, run_id, 300)
        recovered = time.monotonic() - killed
        (ti,) = ctx.tis(dag_id, run_id, "create_series")
        check(ti["try_number"] >= 2, f"the task succeeded in try {ti['try_number']}: the kill did not count")
        if moment == "in_flight":  # let the held call land before judging (and before the next scenario)
            wait_until(
                lambda: len(ctx.emulator.requests("create_recurring")) >= 2,
                HOLD + 30 - (time.monotonic() - killed),
                "the killed call to reach the emulator",
            )
        with contextlib.suppress(psutil.Error):  # a supervisor's orphaned task process, if still there
            psutil.Process(pid).kill()
        series = ctx.emulator.series()
        check(len(series) == 1, f"{len(series)} series after the retry")
        creates = ctx.emulator.requests("create_recurring")
        refused = sum(e["error_code"] == 1032 for e in creates)
        if moment == "in_flight":
            check(refused == 1, f"the killed call was not refused with 1032: {len(creates)} calls, {refused} 1032")
        how = "the killed call refused 1032" if refused else "adopted by lookup"
        return f"try {ti['try_number']} succeeded {recovered:.0f} s after; {how}; 1 series"

    return scenario


# Stage 2: CeleryExecutor ------------------------------------------------------------------------------------


def celery_spread(ctx: Context) -> str:
    """The 40 mapped sections run on both workers."""
    run_id = ctx.run("wiziq_term_provisioning", timeout=900)
    figure = every_series_once(ctx.emulator, section_titles())
    hosts = Counter(ti["hostname"] for ti in ctx.tis("wiziq_term_provisioning", run_id, "create_series"))
    check(set(hosts) == {"worker-a", "worker-b"}, f"sections ran on {dict(hosts)}, not on both workers")
    return f"{figure}; worker-a {hosts['worker-a']}, worker-b {hosts['worker-b']}"


def celery_worker_killed(ctx: Context) -> str:
    """One worker is SIGKILLed mid-run: nothing duplicated, nothing lost, the run succeeds."""
    dag_id = "wiziq_term_provisioning"
    ctx.emulator.set_latency(1.0)  # every call takes a second: the run is still going when the worker dies
    run_id = ctx.trigger(dag_id)

    def busy() -> list[dict[str, Any]] | None:
        tis = ctx.tis(dag_id, run_id, "create_series")
        done = sum(ti["state"] == "success" for ti in tis)
        running = [ti for ti in tis if ti["state"] == "running" and ti["hostname"] == "worker-a"]
        return running if done >= 4 and len(running) >= 2 else None

    running = ctx.until(busy, 600, "worker-a running two sections after a few succeeded", (dag_id, run_id))
    say(f"SIGKILL worker-a with {len(running)} sections running")
    ctx.deployment.processes.pop("worker-a").kill()
    ctx.expect_success(dag_id, run_id, 900)
    ctx.emulator.set_latency(0)
    figure = every_series_once(ctx.emulator, section_titles())
    retried = sum(ti["try_number"] > 1 for ti in ctx.tis(dag_id, run_id, "create_series"))
    return f"{len(running)} running on the killed worker; {retried} retried; {figure}"
