"""Messages a user reads say what happened: a client-side check does not read as WizIQ's answer, a series that is
too long says how long and what to do, counts agree with their nouns, and a failed create logs no false error."""

from __future__ import annotations

import pytest

from airflow_provider_wiziq._compat import AirflowFailException
from airflow_provider_wiziq.api.engine.provision import describe, wiziq_error_entry
from airflow_provider_wiziq.api.protocol.errors import WizIQAPIError, WizIQValidationError
from airflow_provider_wiziq.api.protocol.request import CreateRecurringRequest
from airflow_provider_wiziq.api.protocol.words import counted
from airflow_provider_wiziq.failures import wiziq_failures
from tests.support.create import BASE, SERIES, YEAR, run_create


def refused(**changes) -> WizIQValidationError:
    params = {**BASE, "start_time": f"{YEAR}-09-06T09:00", "class_repeat_type": "mon_fri", **changes}
    with pytest.raises(WizIQValidationError) as caught:
        CreateRecurringRequest.from_params(params).validate()
    return caught.value


@pytest.mark.parametrize(
    ("bound", "says"),
    [
        ({"class_end_date": f"{YEAR}-12-17"}, "has 75 classes, more than the 60 one series may hold"),
        ({"class_occurrence": 75}, "75 classes, more than the 60 one series may hold"),
        ({"class_end_date": "9999-01-01"}, "has more than 10000 classes"),
    ],
)
def test_a_too_long_series_says_how_many_classes_and_that_the_sync_splits_terms(bound, says):
    error = refused(**bound)
    assert error.code == 1082
    assert says in str(error)
    assert "SyncTermOperator splits" in str(error)


def test_a_check_made_before_sending_does_not_read_as_wiziqs_answer():
    with_code = refused(title="")
    assert str(with_code).startswith("Not sent (WizIQ would answer 1014): title parameter is missing.")
    assert "WizIQ error" not in str(with_code)
    without_code = refused(duration=0)
    assert str(without_code).startswith("duration: must be at least 1")
    with pytest.raises(AirflowFailException) as caught, wiziq_failures():
        raise with_code
    assert str(caught.value).startswith("Not sent (WizIQ would answer 1014)")
    # WizIQ's own answers keep saying so.
    assert str(WizIQAPIError.from_code(1032)).startswith("WizIQ error 1032: ")


def test_a_result_entry_remembers_that_the_check_was_made_before_sending():
    entry = wiziq_error_entry(refused(title=""))
    assert entry["sent"] is False and entry["code"] == 1014
    assert describe(entry).startswith("Not sent (WizIQ would answer 1014): title parameter is missing.")
    answered = wiziq_error_entry(WizIQAPIError.from_code(1032))
    assert "sent" not in answered
    assert describe(answered).startswith("WizIQ error 1032: ")


@pytest.mark.parametrize(
    ("number", "noun", "plural", "said"),
    [
        (1, "section", None, "1 section"),
        (0, "section", None, "0 sections"),
        (2, "class", None, "2 classes"),
        (1, "class", None, "1 class"),
        (3, "series", "series", "3 series"),
        (1, "WizIQ call", None, "1 WizIQ call"),
    ],
)
def test_counts_agree_with_their_nouns(number, noun, plural, said):
    assert counted(number, noun, plural) == said


def test_a_failed_create_logs_no_error_about_a_missing_xcom(wiziq_emulator, capfd):
    """The class link is computed when every task ends: a failed one has no return value, which is no error."""
    dag_run, ti = run_create("link_of_a_failed_create", **{**BASE, **SERIES["daily"], "title": ""})
    assert dag_run.state == "failed"
    output = "".join(capfd.readouterr())
    assert "1014" in output
    assert "XCom not found" not in output
    assert ti.xcom_pull(task_ids="create", key="_link_WizIQClassLink") == ""
