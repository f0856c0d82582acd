"""SyncTermOperator with each ledger store, in real Airflow: the default (asset state store on 3.3, Airflow
Variables before), an object storage path (``ledger_path="file://..."``), and none at all (``ledger_path="none"``).

Each keeps a term in sync the same way; without a ledger the sync still adopts and converges, and what it cannot
do is shown: a dropped section is never cancelled, rosters are enrolled again every run, a retitled section
cannot be told from a new one (its creates meet the old classes' slots: WizIQ's 1032), and a failed run's
changes are announced by nobody.
"""

from __future__ import annotations

import json

import pytest

from tests.support.term import standing
from tests.sync_support import TERM_OPENS, TermRunner, asset_events, section

HOLIDAYS = ["2027-09-06"]
ROSTER = [{"attendee_id": "s1", "screen_name": "Ann"}, {"attendee_id": "s2", "screen_name": "Bo"}]
pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)


@pytest.fixture
def runner(wiziq_emulator, monkeypatch, request):
    import airflow_provider_wiziq.operators.sync as sync_module

    monkeypatch.setattr(sync_module, "clock", wiziq_emulator.clock)
    name = request.node.name.replace("_", "-")[5:40].strip("-[]").replace("[", "-")
    return TermRunner(wiziq_emulator, name)


@pytest.mark.parametrize("where", ["default", "object storage"])
def test_a_term_converges_and_keeps_its_ids_with_each_store(runner, wiziq_emulator, tmp_path, where):
    options = {} if where == "default" else {"ledger_path": (tmp_path / "ledger").as_uri()}
    sections = [section(key) for key in "ABCDEF"]
    runner.run(sections, holidays=HOLIDAYS, **options)
    again = runner.run(sections, holidays=HOLIDAYS, **options)
    assert again.writes == []
    before = {c["class_id"] for c in standing(wiziq_emulator)}
    moved = runner.run([section("A", start_time="2027-09-06T10:00"), *sections[1:]], holidays=HOLIDAYS, **options)
    assert {r["method"] for r in moved.writes} == {"modify"}
    assert {c["class_id"] for c in standing(wiziq_emulator)} == before
    dropped = runner.run([section("A", start_time="2027-09-06T10:00"), *sections[1:5]], holidays=HOLIDAYS, **options)
    assert dropped.plan("F")["action"] == "cancel"
    assert len(standing(wiziq_emulator)) == 5 * 74
    if where == "object storage":
        objects = sorted(path.name for path in (tmp_path / "ledger").rglob("*.json"))
        assert objects == ["0.json", "head.json"]  # the head and one shard, under the account's folder
        head = json.loads(next((tmp_path / "ledger").rglob("head.json")).read_text())
        assert head["lease"] is None and head["marker"]


def test_without_a_ledger_the_sync_adopts_and_converges_every_run(runner, wiziq_emulator):
    options = {"ledger_path": "none"}
    sections = [section("A", attendees=ROSTER), section("B")]
    first = runner.run(sections, holidays=HOLIDAYS, **options)
    assert first.summary["created"] == 2 * 74
    again = runner.run(sections, holidays=HOLIDAYS, **options)
    assert again.calls("create_recurring") == []  # what stands is adopted
    # What no ledger can know: the roster is enrolled again in every class, every run.
    assert {r["method"] for r in again.writes} == {"add_attendees"}
    assert len(again.writes) == 74
    moved = runner.run([section("A", attendees=ROSTER), section("B", start_time="2027-09-06T10:00")],
                       holidays=HOLIDAYS, **options)  # fmt: skip
    # Without a ledger, B's series at 09:00 are no longer "the same series": B is created at 10:00 and the
    # 09:00 classes are nobody's (they stand until cancelled by hand).
    assert moved.summary["created"] == 74
    assert len([c for c in standing(wiziq_emulator) if c["presenter_email"] == "b@school.example"]) == 2 * 74


def test_without_a_ledger_a_dropped_section_is_never_cancelled_and_a_retitled_one_meets_its_old_slots(
    runner, wiziq_emulator
):
    options = {"ledger_path": "none"}
    runner.run([section("A"), section("B")], holidays=HOLIDAYS, **options)
    dropped = runner.run([section("A")], holidays=HOLIDAYS, **options)
    assert dropped.writes == []
    assert len(standing(wiziq_emulator)) == 2 * 74  # B's classes stand: no ledger remembers B

    retitled = runner.run([section("A", title="Algebra")], holidays=HOLIDAYS, expect="failed", **options)
    assert "1032" in json.dumps(retitled.result["sections"]["A"]["error"])
    assert {c["title"] for c in standing(wiziq_emulator) if c["presenter_email"] == "a@school.example"} == {"Section A"}


def test_without_a_ledger_nothing_is_announced_after_a_failed_run(runner, wiziq_emulator):
    options = {"ledger_path": "none"}
    runner.run([section("A"), section("B", attendee_limit=500)], holidays=HOLIDAYS, expect="failed", **options)
    runner.run([section("A"), section("B")], holidays=HOLIDAYS, **options)
    (event,) = asset_events(runner.term)
    # A's classes, made by the failed run, are adopted, and adopted classes are not announced (nothing remembers
    # whether an earlier run announced them): A's are never announced. B's are created now.
    assert "A" not in event["sections"]
    assert len(event["sections"]["B"]["created"]) == 74
    assert runner.run([section("A"), section("B")], holidays=HOLIDAYS, **options).writes == []


def test_an_object_storage_ledger_refuses_a_concurrent_run_and_a_stale_lease_is_taken_over(
    runner, wiziq_emulator, tmp_path
):
    path = tmp_path / "ledger"
    options = {"ledger_path": path.as_uri()}
    runner.run([section("A")], holidays=HOLIDAYS, **options)
    head_file = next(path.rglob("head.json"))
    head = json.loads(head_file.read_text())
    head["lease"] = {"owner": "other/run/sync/1", "run": "other", "at": wiziq_emulator.clock.now().timestamp()}
    head_file.write_text(json.dumps(head))
    refused = runner.run([section("A", title="Changed")], holidays=HOLIDAYS, expect="failed", retries=0, **options)
    assert refused.writes == []
    head["lease"]["at"] -= 3600
    head_file.write_text(json.dumps(head))
    assert runner.run([section("A", title="Changed")], holidays=HOLIDAYS, **options).summary["modified"] == 74
