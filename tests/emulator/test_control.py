"""The control API under /_emulator/, over HTTP with JSON, as a demo or another language would use it."""

from __future__ import annotations

from datetime import datetime

import requests

from airflow_provider_wiziq.api.protocol import responses
from tests.emulator.conftest import T0, Api, series_fields


def control(api: Api, verb: str, path: str, json: object = None, **params: str) -> requests.Response:
    return api.session.request(verb, f"{api.emulator.control_url}{path}", json=json, params=params or None)


def test_overview(api):
    overview = control(api, "GET", "/").json()
    assert overview["url"] == api.emulator.url
    assert overview["classes"] == 0
    assert "secret_key" not in overview["config"]
    assert api.emulator.secret_key not in control(api, "GET", "/").text


def test_clock_endpoints(api):
    assert datetime.fromisoformat(control(api, "GET", "/clock").json()["now"]) >= T0
    moved = control(api, "POST", "/clock/set", {"now": "2031-05-01T12:00:00Z"}).json()
    assert moved["now"].startswith("2031-05-01T12:00:0")
    advanced = control(api, "POST", "/clock/advance", {"hours": 1, "minutes": 30}).json()
    assert advanced["now"].startswith("2031-05-01T13:30:0")
    back = control(api, "POST", "/clock/reset").json()
    assert abs(back["offset_seconds"]) < 1
    assert control(api, "POST", "/clock/advance", {"fortnights": 1}).status_code == 400


def test_fault_endpoints(api):
    added = control(api, "POST", "/faults", {"kind": "http_503", "count": 2, "method": "get_data"})
    assert added.json()["fault"]["kind"] == "http_503"
    assert [f["count"] for f in control(api, "GET", "/faults").json()["faults"]] == [2]
    assert api.post("get_data").status_code == 503
    assert control(api, "DELETE", "/faults").json() == {"faults": []}
    assert api.post("get_account_info").status_code == 200
    assert control(api, "POST", "/faults", {"kind": "nope"}).status_code == 400


def test_latency_endpoint(api):
    assert control(api, "POST", "/latency", {"seconds": 0.05}).json() == {"seconds": 0.05}
    assert api.emulator.latency == 0.05
    assert control(api, "GET", "/latency").json() == {"seconds": 0.05}


def test_requests_classes_series_outcome(api):
    series = responses.parse_create_recurring(api.call("create_recurring", **series_fields()))
    api.call("get_account_info")
    recorded = control(api, "GET", "/requests", method="create_recurring").json()["requests"]
    assert len(recorded) == 1
    assert recorded[0]["fields"]["title"] == "Algebra I"
    assert "signature" not in recorded[0]["fields"]
    assert len(control(api, "GET", "/requests").json()["requests"]) == 2

    classes = control(api, "GET", "/classes").json()["classes"]
    assert [c["status"] for c in classes] == ["upcoming"] * 3
    assert len(control(api, "GET", "/classes", class_master_id=str(series.class_master_id)).json()["classes"]) == 3
    one = control(api, "GET", f"/classes/{series.first_class.class_id}").json()
    assert one["title"] == "Algebra I" and one["outcome"] == "completed"
    changed = control(api, "POST", f"/classes/{series.first_class.class_id}/outcome", {"outcome": "expired"})
    assert changed.json()["outcome"] == "expired"
    assert control(api, "GET", "/classes/999").status_code == 404

    listed = control(api, "GET", "/series").json()["series"]
    assert listed[0]["class_master_id"] == series.class_master_id
    assert control(api, "GET", f"/series/{series.class_master_id}").json()["recurring_summary"].startswith("Your")
    assert control(api, "DELETE", "/requests").json() == {"requests": []}
    assert api.emulator.requests() == []


def test_config_endpoint(api):
    config = control(api, "GET", "/config").json()
    assert config["max_class_minutes"] == 300
    assert "secret_key" not in config
    changed = control(api, "POST", "/config", {"max_class_minutes": 45, "report_delay": 0}).json()
    assert (changed["max_class_minutes"], changed["report_delay"]) == (45, 0)
    assert api.emulator.limits.max_class_minutes == 45
    assert control(api, "POST", "/config", {"secret_key": "x"}).status_code == 400


def test_pings_endpoints(api):
    assert control(api, "GET", "/pings").json() == {"pings": []}
    assert control(api, "POST", "/pings/wait", {"timeout": 1}).json() == {"done": True, "pings": []}


def test_reset(api):
    api.call("create_recurring", **series_fields())
    api.emulator.inject_fault("http_500", method="cancel")
    api.emulator.configure(max_class_minutes=10)
    control(api, "POST", "/clock/advance", {"days": 3})
    assert control(api, "POST", "/reset").json() == {"reset": True}
    assert api.emulator.classes() == [] and api.emulator.faults() == [] and api.emulator.requests() == []
    assert api.emulator.limits.max_class_minutes == 300
    assert abs(api.emulator.clock.now() - T0).total_seconds() < 5  # back to clock_start
    body = api.call("create_recurring", **series_fields(start_time="01/08/2050 10:00"))
    assert responses.parse_create_recurring(body).class_master_id == 2001  # ids start again


def test_classroom_pages_behind_the_links(api):
    series = responses.parse_create_recurring(api.call("create_recurring", **series_fields(create_recording="true")))
    page = api.session.get(series.first_class.presenter_url)
    assert page.status_code == 200 and "Algebra I" in page.text and "presenter" in page.text
    assert api.session.get(series.first_class.recording_url).status_code == 200


def test_unknown_control_endpoints(api):
    assert control(api, "GET", "/nothing").status_code == 404
    assert api.session.post(f"{api.emulator.control_url}/faults", data="{not json").status_code == 400
