"""The control API under ``/_emulator/`` (JSON in and out): what tests and demos use, never a WizIQ client.

Each endpoint calls the same public method of :class:`~airflow_provider_wiziq.emulator.server.WizIQEmulator`
that a test in the same process would call directly. ``docs/emulator.md`` lists them with examples.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_wiziq.api.protocol.calls import RECORDING_FORMATS
from airflow_provider_wiziq.emulator.handler import CONTROL_PREFIX, XML, Reply

if TYPE_CHECKING:
    from airflow_provider_wiziq.emulator.server import WizIQEmulator

JSON = "application/json"


class _ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handle(emulator: WizIQEmulator, verb: str, path: str, query: dict[str, str], body: bytes) -> Reply:
    """Answer one control request; a bad one gets a JSON ``{"error": ...}`` with a 4xx status."""
    parts = [part for part in path[len(CONTROL_PREFIX) :].split("/") if part]
    try:
        if verb == "GET" and len(parts) == 2 and parts[0] in ("classroom", "recording"):
            return _page(emulator, parts[0], _int(parts[1], "class id"), query)
        if verb == "GET" and len(parts) == 3 and parts[0] == "recording":
            return _recording(emulator, _int(parts[1], "class id"), parts[2], query)
        data = _json(body)
        return _reply(200, _route(emulator, verb, parts, query, data))
    except _ControlError as error:
        return _reply(error.status, {"error": error.message})
    except LookupError as error:
        return _reply(404, {"error": str(error.args[0]) if error.args else "not found"})
    except (ValueError, TypeError) as error:
        return _reply(400, {"error": str(error)})


def _route(emulator: WizIQEmulator, verb: str, parts: list[str], query: dict[str, str], data: dict[str, Any]) -> Any:
    head = parts[0] if parts else ""
    rest = parts[1:]
    if head == "" and verb == "GET":
        return emulator.describe()
    if head == "clock":
        return _clock(emulator, verb, rest, data)
    if head == "faults" and not rest:
        if verb == "GET":
            return {"faults": [fault.as_dict() for fault in emulator.faults()]}
        if verb == "POST":
            return {"fault": emulator.inject_fault(**data).as_dict()}
        if verb == "DELETE":
            emulator.clear_faults()
            return {"faults": []}
    if head == "latency" and not rest:
        if verb in ("POST", "PUT"):
            emulator.set_latency(float(_required(data, "seconds")))
        if verb in ("GET", "POST", "PUT"):
            return {"seconds": emulator.latency}
    if head == "requests" and not rest:
        if verb == "GET":
            return {"requests": emulator.requests(query.get("method") or None)}
        if verb == "DELETE":
            emulator.clear_requests()
            return {"requests": []}
    if head == "classes" and verb == "GET" and not rest:
        master = query.get("class_master_id")
        return {"classes": emulator.classes(None if master is None else _int(master, "class_master_id"))}
    if head == "classes" and rest:
        class_id = _int(rest[0], "class id")
        if verb == "GET" and len(rest) == 1:
            return emulator.get_class(class_id)
        if verb in ("POST", "PUT") and rest[1:] == ["outcome"]:
            return emulator.set_outcome(class_id, str(_required(data, "outcome")))
    if head == "series" and verb == "GET":
        if not rest:
            return {"series": emulator.series()}
        if len(rest) == 1:
            return emulator.get_series(_int(rest[0], "class_master_id"))
    if head == "pings":
        if verb == "GET" and not rest:
            return {"pings": emulator.pings()}
        if verb == "POST" and rest == ["wait"]:
            return {
                "done": emulator.wait_for_pings(float(data.get("timeout", 5.0))),
                "pings": emulator.pings(),
            }
    if head == "config" and not rest:
        if verb in ("POST", "PUT"):
            emulator.configure(**data)
        if verb in ("GET", "POST", "PUT"):
            return emulator.config.public()
    if head == "reset" and not rest and verb == "POST":
        emulator.reset()
        return {"reset": True}
    raise _ControlError(404, f"no control endpoint {verb} {CONTROL_PREFIX}/{'/'.join(parts)}")


def _clock(emulator: WizIQEmulator, verb: str, rest: list[str], data: dict[str, Any]) -> dict[str, Any]:
    if verb == "GET" and not rest:
        pass
    elif verb == "POST" and rest == ["set"]:
        emulator.clock.set(parse_instant(str(_required(data, "now"))))
    elif verb == "POST" and rest == ["advance"]:
        emulator.clock.advance(_duration(data))
    elif verb == "POST" and rest == ["reset"]:
        emulator.clock.reset()
    else:
        raise _ControlError(404, f"no control endpoint {verb} {CONTROL_PREFIX}/clock/{'/'.join(rest)}")
    return {"now": emulator.clock.now().isoformat(), "offset_seconds": emulator.clock.offset}


def _duration(data: dict[str, Any]) -> timedelta:
    units = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
    unknown = sorted(set(data) - set(units))
    if unknown or not data:
        raise _ControlError(400, "give seconds, minutes, hours and/or days")
    return timedelta(seconds=sum(float(data[name]) * units[name] for name in data))


def parse_instant(text: str) -> datetime:
    """ISO 8601, ``Z`` allowed; a naive time is UTC."""
    spelled = text.strip()
    return datetime.fromisoformat(spelled[:-1] + "+00:00" if spelled.endswith("Z") else spelled)


def _page(emulator: WizIQEmulator, kind: str, class_id: int, query: dict[str, str]) -> Reply:
    """A stand-in for the classroom and recording pages the answers link to."""
    found = emulator.get_class(class_id)
    what = "Recording" if kind == "recording" else f"Virtual classroom ({query.get('role', 'guest')})"
    text = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>WizIQ emulator</title></head><body>"
        f"<h1>{html.escape(what)}</h1><p>Class {class_id}: {html.escape(str(found['title']))}, "
        f"{html.escape(str(found['status']))}.</p><p>Served by the local WizIQ emulator.</p></body></html>"
    )
    return Reply(200, text.encode(), "text/html; charset=utf-8")


def _recording(emulator: WizIQEmulator, class_id: int, name: str, query: dict[str, str]) -> Reply:
    """A recording download's status document (``status.xml``), or the package (``download.zip``/``.exe``):
    what WizIQ's clients fetch after ``download_recording`` (docs/emulator.md)."""
    if name == "status.xml":
        recording_format = query.get("format", "zip")
        if recording_format not in RECORDING_FORMATS:
            raise _ControlError(400, f"format must be {' or '.join(RECORDING_FORMATS)}")
        return Reply(200, emulator.recording_status(class_id, recording_format), XML)
    stem, _, recording_format = name.partition(".")
    if stem != "download" or recording_format not in RECORDING_FORMATS:
        raise _ControlError(404, f"no such recording file: {name[:40]}")
    package = emulator.recording_package(class_id, recording_format)
    return Reply(200, package, "application/zip" if recording_format == "zip" else "application/octet-stream")


def _json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise _ControlError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise _ControlError(400, "the body must be a JSON object")
    return data


def _required(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise _ControlError(400, f"{name} is required")
    return data[name]


def _int(text: str, what: str) -> int:
    if not text.isdigit():
        raise _ControlError(400, f"{what} must be a number")
    return int(text)


def _reply(status: int, data: Any) -> Reply:
    return Reply(status, json.dumps(data, indent=1, sort_keys=True).encode(), JSON)
