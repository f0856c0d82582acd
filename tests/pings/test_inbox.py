"""The ping inbox on a real file system: what a reader learns from it, replays, clock skew, the 24-hour limit."""

from __future__ import annotations

import time

import pytest

from airflow_provider_wiziq.plugins.inbox import CLOCK_SKEW, KEEP_SECONDS, PingInbox, parse_entry, valid_conn_id


def test_a_reader_learns_each_new_ping_once_and_not_what_was_there_before_it(tmp_path):
    inbox = PingInbox(tmp_path.as_uri(), "wiziq_default")
    inbox.record(1)
    reader = inbox.reader()
    assert reader.read() == {}  # the first read notes what is there
    assert reader.read() == {}
    inbox.record(2)
    inbox.record(3)
    assert set(reader.read()) == {2, 3}
    assert reader.read() == {}  # the bell did not change: nothing listed


def test_a_replayed_ping_rings_again_as_one_class(tmp_path):
    inbox = PingInbox(tmp_path.as_uri(), "wiziq_default")
    reader = inbox.reader()
    reader.read()
    for _ in range(5):
        inbox.record(7)
    assert list(reader.read()) == [7]
    inbox.record(7)
    assert list(reader.read()) == [7]


def test_entries_stamped_by_a_clock_a_little_off_are_read(tmp_path):
    inbox = PingInbox(tmp_path.as_uri(), "wiziq_default")
    reader = inbox.reader()
    now = time.time()
    reader.read(now)
    inbox.record(1, received_at=now - CLOCK_SKEW + 5)  # the api-server's clock is behind
    inbox.record(2, received_at=now + CLOCK_SKEW - 5)  # or ahead
    assert set(reader.read(now + 1)) == {1, 2}


def test_connections_have_their_own_inboxes(tmp_path):
    one, other = PingInbox(tmp_path.as_uri(), "wiziq_a"), PingInbox(tmp_path.as_uri(), "wiziq_b")
    reader = one.reader()
    reader.read()
    other.record(5)
    assert reader.read() == {}


def test_entries_older_than_24_hours_are_deleted(tmp_path):
    inbox = PingInbox(tmp_path.as_uri(), "wiziq_default")
    now = time.time()
    inbox.record(1, received_at=now - KEEP_SECONDS - 120)
    (tmp_path / "wiziq_default" / "199901010000").mkdir()  # a folder from long ago
    inbox.record(2, received_at=now - 60)  # a writer prunes now and then (here: its first write past 10 minutes)
    assert inbox.prune(now) == 0
    assert [parse_entry(path.name)[0] for path in (tmp_path / "wiziq_default").glob("*/*")] == [2]
    assert sorted(path.name for path in (tmp_path / "wiziq_default").iterdir())[-1] == "bell"
    assert len(list((tmp_path / "wiziq_default").iterdir())) == 2


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "../x", "a b"])
def test_connection_ids_that_cannot_name_a_folder_are_refused(bad):
    assert not valid_conn_id(bad)
    assert valid_conn_id("wiziq_default") and valid_conn_id("wiziq.term-2")


@pytest.mark.parametrize("name", ["bell", "1700000000000-abc-0000abcd", "1700000000000-0-0000abcd", "x"])
def test_what_is_not_an_entry_is_ignored(name):
    assert parse_entry(name) is None
