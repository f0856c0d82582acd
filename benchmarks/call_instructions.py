"""Per-call instructions of ``WizIQHook.create_recurring`` vs a minimal hand-written client (target: <= 1.08x).

Three sides create one-class series on the emulator (its own process, not counted) over one keep-alive
connection, each in its own interpreter under callgrind (see ``instructions.py``), counting only the calls:

- **hook**: what a DAG author calls, ``WizIQHook().create_recurring(**params)``: reads and validates the
  parameters, signs, posts (timeouts, redirects refused, streamed under the size cap and the deadline),
  retries what may be retried, parses the XML with every defence on, returns a typed result;
- **minimal** (the baseline): what a careful user writes by hand, no provider code: a ``requests.Session``
  with the hook's session settings (``trust_env=False``, its User-Agent), the wire fields written out, the
  HMAC signature, ``session.post(url, data=..., timeout=(connect, read))`` and ``ElementTree.fromstring``
  of the answer, reading ``status`` and ``class_master_id``;
- **bare** (the floor): the same session posting a body signed before counting starts, reading the bytes.

Every input (parameters, wire fields, signed bodies) is made before counting starts; each side warms up
first (connection open, caches filled). Instruction counts, unlike timings, hold on a busy machine.
Run: .venv/bin/python benchmarks/call_instructions.py
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import sys
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

CALLS = 100
WARM_UP = 20
YEAR = datetime.now().year + 1
SIDES = ("hook", "minimal", "bare")


def params(index: int) -> dict[str, Any]:
    """A one-class series of its own (its own presenter, so WizIQ's 1032 never answers), as a DAG author writes it."""
    return {
        "title": f"Overhead {index}",
        "presenter_email": f"p{index}@bench.example",
        "time_zone": "America/New_York",
        "start_time": f"{YEAR}-03-02T09:00",
        "class_repeat_type": "daily",
        "class_occurrence": 1,
        "attendee_limit": 30,
    }


def wire_fields(index: int) -> dict[str, str]:
    """The same series as the form fields a hand-written client sends."""
    return {
        "title": f"Overhead {index}",
        "start_time": f"03/02/{YEAR} 09:00:00",
        "time_zone": "America/New_York",
        "attendee_limit": "30",
        "duration": "60",
        "presenter_email": f"p{index}@bench.example",
        "class_repeat_type": "1",
        "class_occurrence": "1",
    }


class MinimalClient:
    """The baseline: sign, keep-alive post with the hook's session settings and timeouts, ElementTree parse."""

    def __init__(self, url: str, access_key: str, secret_key: str, timeouts: tuple[float, float], agent: str) -> None:
        import requests

        self.url = f"{url}?method=create_recurring"
        self.access_key = access_key
        self.key = quote_plus(secret_key).encode()
        self.timeouts = timeouts
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["User-Agent"] = agent

    def sign(self, timestamp: str) -> str:
        message = f"access_key={self.access_key}&timestamp={timestamp}&method=create_recurring"
        return base64.b64encode(hmac.new(self.key, message.encode(), hashlib.sha1).digest()).decode()

    def signed(self, fields: dict[str, str]) -> dict[str, str]:
        timestamp = str(int(time.time()))
        auth = {"access_key": self.access_key, "timestamp": timestamp, "signature": self.sign(timestamp)}
        return {**fields, "method": "create_recurring", **auth}

    def create_recurring(self, fields: dict[str, str]) -> int:
        from xml.etree import ElementTree

        response = self.session.post(self.url, data=self.signed(fields), timeout=self.timeouts)
        root = ElementTree.fromstring(response.content)
        if root.get("status") != "ok":
            raise RuntimeError(f"WizIQ answered {root.get('status')}")
        return int(root.findtext(".//class_master_id") or 0)

    def post(self, body: dict[str, str]) -> bytes:
        return self.session.post(self.url, data=body, timeout=self.timeouts).content


def child(side: str, calls: int) -> None:
    """One side, run under callgrind: warm up, then ``calls`` calls inside the counted stretch."""
    from emulator_process import quiet_airflow_home, quiet_logs
    from instructions import counted

    quiet_airflow_home()
    quiet_logs()
    from airflow_provider_wiziq.api.protocol.client import USER_AGENT

    base = 1_000_000 * (1 + SIDES.index(side))
    first, rest = range(base, base + WARM_UP), range(base + WARM_UP, base + WARM_UP + calls)
    if side == "hook":
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook()
        for index in first:
            hook.create_recurring(**params(index))
        inputs = [params(index) for index in rest]

        def work() -> None:
            for one in inputs:
                hook.create_recurring(**one)

        counted(work)
        return
    import json

    from airflow_provider_wiziq.api.protocol.config import config_from_connection

    connection = json.loads(os.environ["AIRFLOW_CONN_WIZIQ_DEFAULT"])
    config = config_from_connection(host=connection["host"], login=connection["login"], password=connection["password"])
    minimal = MinimalClient(
        config.endpoint, config.access_key, config.secret_key, (config.connect_timeout, config.read_timeout), USER_AGENT
    )
    if side == "minimal":
        for index in first:
            minimal.create_recurring(wire_fields(index))
        fields = [wire_fields(index) for index in rest]
        ids: list[int] = []

        def work() -> None:
            for one in fields:
                ids.append(minimal.create_recurring(one))

        counted(work)
        assert all(ids), "every call created a series"
        return
    for index in first:
        minimal.post(minimal.signed(wire_fields(index)))
    bodies = [minimal.signed(wire_fields(index)) for index in rest]
    answers: list[bytes] = []

    def work() -> None:
        for body in bodies:
            answers.append(minimal.post(body))

    counted(work)
    assert all(b'status="ok"' in answer for answer in answers), answers[0][:200]


def main() -> None:
    from emulator_process import EmulatorProcess, quiet_airflow_home
    from instructions import count, valgrind

    if valgrind() is None:
        print("ratio: not measured (valgrind is not installed: Debian package valgrind)")
        return
    quiet_airflow_home()
    per_call: dict[str, float] = {}
    with EmulatorProcess() as emulator:
        emulator.use_as_default_connection()
        for side in SIDES:
            per_call[side] = count(__file__, ["--side", side, "--calls", str(CALLS)], env=dict(os.environ)) / CALLS
    hook, minimal, bare = (per_call[side] for side in SIDES)
    print(f"instructions per create_recurring call, {CALLS} calls a side after {WARM_UP} to warm up (callgrind)")
    print(f"  bare post of a pre-signed body (floor):     {bare / 1e6:6.3f} M")
    print(f"  minimal hand-written client (baseline):     {minimal / 1e6:6.3f} M  ({minimal / bare:.3f}x the floor)")
    print(f"  WizIQHook.create_recurring(**params):       {hook / 1e6:6.3f} M  ({hook / bare:.3f}x the floor)")
    print(f"ratio: {hook / minimal:.3f} hook / minimal client (floor: {hook / bare:.3f} hook / bare post)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=SIDES)
    parser.add_argument("--calls", type=int, default=CALLS)
    arguments = parser.parse_args()
    if arguments.side:
        child(arguments.side, arguments.calls)
    else:
        main()
