"""The term sync's bookkeeping, on the engine over real HTTP: what a run announces, the writes it plans against
the calls it sends, what counts as a clean run, and the account a ledger is bound to."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_wiziq.api.engine.ledger import account_scope
from airflow_provider_wiziq.api.protocol.client import WizIQClient
from airflow_provider_wiziq.api.protocol.config import config_from_connection
from tests.support.term import WRITES, EngineTerm, standing
from tests.sync_support import TERM_OPENS, section

HOLIDAYS = ["2027-09-06", "2027-11-24..2027-11-26"]
ROSTER = [{"attendee_id": f"s{n}", "screen_name": f"Student {n}"} for n in range(3)]
pytestmark = pytest.mark.wiziq_emulator(clock_start=TERM_OPENS)


def test_without_a_ledger_only_what_the_run_itself_changed_is_announced(term, wiziq_emulator, caplog):
    term.store = None  # ledger_path="none": nothing durable, so nothing remembers what an earlier run announced
    first = term.run([section("A"), section("B")], HOLIDAYS)
    assert {key: len(news["created"]) for key, news in first.outcome.announcement.items()} == {"A": 71, "B": 71}

    caplog.set_level(logging.INFO)
    again = term.run([section("A"), section("B")], HOLIDAYS)  # A and B are adopted from WizIQ
    assert again.writes == []
    assert again.outcome.announcement is None and not again.outcome.changed
    assert "not announced" in caplog.text

    added = term.run([section("A"), section("B"), section("C")], HOLIDAYS)
    assert set(added.outcome.announcement) == {"C"}
    assert len(added.outcome.announcement["C"]["created"]) == 71


def test_the_planned_writes_of_a_first_run_with_rosters_are_the_write_calls_it_sends(term, wiziq_emulator, caplog):
    short = section("C", attendees=ROSTER, class_end_date="2027-09-24")
    sections = [section("A", attendees=ROSTER), section("B"), short]
    dry = term.run(sections, HOLIDAYS, dry_run=True)
    planned = dry.result["summary"]["planned"]["writes"]

    caplog.set_level(logging.INFO, logger="airflow_provider_wiziq.api.engine.apply")
    run = term.run(sections, HOLIDAYS)

    sent = [item for item in run.requests if item["method"] in WRITES]
    assert len(run.calls("add_attendees")) == 71 + 14
    assert run.plan.writes == planned == len(sent)
    assert f"Applied {len(sent)} of {len(sent)} planned writes" in caplog.text


def test_a_run_with_a_conflict_in_the_export_is_not_clean_for_removal_grace_nor_for_its_news(term, wiziq_emulator):
    sections = [section(key) for key in "ABCDE"]
    term.run(sections, HOLIDAYS, removal_grace=2)
    conflict = [section(key, presenter_email="t@school.example") for key in "MN"]  # one teacher, one hour

    failed = term.run([*sections[1:], section("F"), *conflict], HOLIDAYS, removal_grace=2)
    assert set(failed.outcome.errors) == {"M", "N"}
    assert failed.row("A")["reason"] == "missing 1 of 2"
    assert len(failed.outcome.announcement["F"]["created"]) == 71  # made by a failed run: no asset event

    after = term.run([*sections[1:], section("F")], HOLIDAYS, removal_grace=2)
    assert after.outcome.errors == {}
    assert after.row("A")["action"] == "missing" and after.row("A")["reason"] == "missing 1 of 2"
    assert len(after.outcome.announcement["F"]["created"]) == 71  # kept until a successful run announced it
    assert len([c for c in standing(wiziq_emulator) if c["presenter_email"] == "a@school.example"]) == 71


def test_credentials_in_the_endpoint_neither_change_the_account_nor_reach_the_ledger(wiziq_emulator):
    key = wiziq_emulator.access_key
    plain = wiziq_emulator.url
    with_userinfo = plain.replace("://", "://proxyuser:Pr0xyS3cret@", 1)
    assert account_scope(with_userinfo, key) == account_scope(plain, key)
    assert account_scope(plain, key) != account_scope(plain, key + "x")
    assert account_scope(plain, key) != account_scope(plain.rstrip("/") + "/other/", key)

    engine = EngineTerm(wiziq_emulator)
    engine.client.close()
    connection = dict(wiziq_emulator.connection, host=with_userinfo)
    engine.client = WizIQClient(config_from_connection(**{k: v for k, v in connection.items() if k != "conn_type"}))
    assert "Pr0xyS3cret" in engine.client.config.endpoint
    try:
        engine.run([section("A")], HOLIDAYS)
        stored = b"".join(engine.store.data.values()) + "".join(engine.store.data).encode()
        assert b"Pr0xyS3cret" not in stored and b"proxyuser" not in stored
        assert wiziq_emulator.secret_key.encode() not in stored and key.encode() not in stored
        assert {name.split("/")[0] for name in engine.store.data} == {account_scope(plain, key)}
    finally:
        engine.close()
