"""The judge's own rules, on hand-made snapshots: each check fires on what it is for and stays quiet otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.semester.checks import Judge, Seen
from tests.semester.drive import DayRun
from tests.semester.oracle import expect

NOW = datetime(2027, 9, 7, 12, 17, tzinfo=timezone.utc)
SECTION = {
    "key": "A",
    "title": "Algebra",
    "presenter_email": "ann@school.example",
    "time_zone": "UTC",
    "start_time": "2027-09-06T15:00",
    "class_repeat_type": 1,
    "class_occurrence": 4,
    "attendees": [{"attendee_id": "s1", "screen_name": "S"}],
}  # Sep 6 (past), 7, 8, 9 at 15:00 UTC


def at(day: int) -> datetime:
    return datetime(2027, 9, day, 15, tzinfo=timezone.utc)


def seen(class_id, day, *, cancelled=False, presenter="ann@school.example", title="Algebra", students=("s1",)):
    return Seen(class_id, at(day), cancelled, presenter, title, 50 if title == "x" else 60, frozenset(students))


def term(**changes):
    return expect([{**SECTION, **changes}])


def standing(*days, first_id=1, **options):
    return {first_id + n: seen(first_id + n, day, **options) for n, day in enumerate(days)}


def judge_once(judge, after, *, before=None, expected=None, run=None, **options):
    return judge.judge(
        day=options.pop("day", 2),
        now=NOW,
        expected=expected or term(),
        before=before if before is not None else after,
        after=after,
        run=run or DayRun(via="engine"),
        writes=options.pop("writes", []),
        quiet=options.pop("quiet", False),
        **options,
    )


def checks_of(found):
    return sorted({item.check for item in found})


def test_a_converged_term_has_no_finding():
    after = standing(6, 7, 8, 9)
    assert judge_once(Judge("A"), after) == []


def test_a_missing_a_holiday_and_a_stray_class_are_each_named():
    expected = expect([{**SECTION, "class_occurrence": 3}], ["2027-09-08"])  # Sep 6, 7, 9; Sep 8 is a holiday
    after = {**standing(6, 8, 9), 99: seen(99, 10, title="Other")}
    found = judge_once(Judge("A"), after, expected=expected)
    details = sorted(item.detail for item in found if item.check == "a")
    assert details[0].startswith("1 missing: 2027-09-07T15:00Z")
    assert details[1].startswith("1 of no declared section")
    assert any("on a holiday: 2027-09-08T15:00Z" in item.detail for item in found)


def test_a_past_class_changed_or_created_is_caught():
    before = standing(6, 7, 8, 9)
    after = {**before, 1: seen(1, 6, cancelled=True), 99: seen(99, 6)}
    found = [item for item in judge_once(Judge("A"), after, before=before) if item.check == "b"]
    assert {item.detail.split(":")[0] for item in found} == {"1 past classes changed", "1 classes created in the past"}


def test_writes_count_only_on_quiet_days_after_a_converged_run():
    judge = Judge("A")
    after = standing(6, 7, 8, 9)
    assert checks_of(judge_once(judge, after, quiet=True, writes=["modify"])) == []  # not converged before
    assert checks_of(judge_once(judge, after, quiet=True, writes=["modify"])) == ["c"]
    assert checks_of(judge_once(judge, after, quiet=False, writes=["modify"])) == []


def test_ids_rename_alias_must_keep_every_id_and_a_teacher_change_none():
    judge = Judge("A")
    judge_once(judge, standing(7, 8, 9))
    renamed = expect([{**SECTION, "key": "A2"}])
    new_ids = standing(7, 8, 9, first_id=10)
    found = judge_once(
        judge, new_ids, before=standing(7, 8, 9), expected=renamed, tags={"A2": {"rename"}}, renamed={"A2": "A"}
    )
    assert [item.detail for item in found if item.check == "d"] == ["rename: 3 of 3 ids changed: [1, 2, 3]"]

    judge = Judge("A")
    judge_once(judge, standing(7, 8, 9))
    other = term(presenter_email="bo@school.example")
    after = {
        **{
            i: Seen(i, c.start, True, c.presenter, c.title, c.duration, c.attendees)
            for i, c in standing(7, 8, 9).items()
        }
    }
    after.update(standing(7, 8, 9, first_id=10, presenter="bo@school.example"))
    found = judge_once(judge, after, before=standing(7, 8, 9), expected=other, tags={"A": {"teacher"}})
    assert [item for item in found if item.check == "d"] == []
    kept = {**standing(7, 8, 9), **standing(7, first_id=10, presenter="bo@school.example")}
    judge = Judge("A")
    judge_once(judge, standing(7, 8, 9))
    found = judge_once(judge, kept, before=standing(7, 8, 9), expected=other, tags={"A": {"teacher"}})
    assert [item.detail for item in found if item.check == "d"] == ["teacher change: 3 of 3 old ids still stand"]


def test_ids_a_move_keeps_as_many_ids_as_can_move():
    judge = Judge("A")
    judge_once(judge, standing(7, 8, 9))
    later = term(start_time="2027-09-06T16:00")
    moved = {
        i: Seen(i, c.start + timedelta(hours=1), False, c.presenter, c.title, 60, c.attendees)
        for i, c in standing(7, 8, 9).items()
    }
    assert judge_once(judge, moved, before=standing(7, 8, 9), expected=later, tags={"A": {"move"}}) == []
    judge = Judge("A")
    judge_once(judge, standing(7, 8, 9))
    replaced = standing(7, 8, 9, first_id=10)
    replaced = {
        i: Seen(i, c.start + timedelta(hours=1), False, c.presenter, c.title, 60, c.attendees)
        for i, c in replaced.items()
    }
    found = judge_once(judge, {**replaced}, before=standing(7, 8, 9), expected=later, tags={"A": {"move"}})
    assert [item.detail for item in found if item.check == "d"] == ["move: kept 0 ids where 3 could move (3 -> 3)"]


def test_every_change_must_be_announced_by_a_successful_run():
    judge = Judge("A")
    judge_once(judge, standing(6, 7, 8))
    grown = standing(6, 7, 8, 9)
    failed = DayRun(via="engine", errors={"A": "1032"})
    assert checks_of(judge_once(judge, grown, before=standing(6, 7, 8), run=failed)) == []  # may come later
    found = judge_once(judge, grown, run=DayRun(via="engine"))
    assert [item.detail for item in found if item.check == "e"] == ["1 created ids of day 2 not announced: [4]"]

    judge = Judge("A")
    judge_once(judge, standing(6, 7, 8))
    announced = DayRun(via="engine", announcement={"A": {"created": [4], "cancelled": []}})
    assert judge_once(judge, grown, before=standing(6, 7, 8), run=announced) == []


def test_announcements_that_say_what_did_not_happen_are_caught():
    judge = Judge("A")
    judge_once(judge, standing(6, 7, 8, 9))
    after = {**standing(6, 7, 8, 9), 5: seen(5, 10, cancelled=True)}
    wrong = DayRun(via="engine", announcement={"A": {"created": [77], "cancelled": [5, 2]}})
    found = sorted(
        item.detail for item in judge_once(judge, after, before=standing(6, 7, 8, 9), run=wrong) if item.check == "e"
    )
    assert found == [
        "1 announced as cancelled but stands: A [2]",
        "1 announced as created but does not stand: A [77]",
        "1 created and cancelled in one run, yet announced as cancelled: A [5]",
    ]


def test_the_roster_and_left_enrolled():
    judge = Judge("A")
    two = [{"attendee_id": "s1", "screen_name": "S"}, {"attendee_id": "s2", "screen_name": "T"}]
    judge_once(judge, standing(7, 8, 9, students=("s1", "s2")), expected=term(attendees=two))
    lacking = standing(7, 8, 9, students=())
    assert [item.check for item in judge_once(Judge("A"), lacking)] == ["f"]
    after = standing(7, 8, 9, students=("s1", "s2"))
    found = judge_once(judge, after, tags={"A": {"roster"}})
    assert [item.detail for item in found] == ["no left_enrolled in the report; removed and still enrolled: ['s2']"]
    reported = DayRun(via="engine", report={"A": {"left_enrolled": ["s2"]}})
    judge = Judge("A")
    judge_once(judge, after, expected=term(attendees=two))
    assert judge_once(judge, after, tags={"A": {"roster"}}, run=reported) == []
