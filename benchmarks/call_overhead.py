"""Per-call cost of ``WizIQHook.create_recurring`` over keep-alive HTTP vs a bare ``requests`` post (target: <= 1.10x).

Both sides create one-class series on the emulator (its own process) over one keep-alive connection. The
hook side is what a DAG author calls: ``hook.create_recurring(**params)`` reads and validates the
parameters, signs, posts (with timeouts, streaming under a size cap) and parses WizIQ's XML into a result.
The baseline posts the same signed body, built before the clock starts, with a bare
``requests.Session().post`` and reads the bytes. The two alternate in blocks, so drift (the emulator's store
grows) hits both alike. Measured with the emulator answering at once (latency 0: the hardest case for the
ratio) and with 5 ms latency (a nearby server); the CPU-only parts of the hook's work are timed apart.
Run: .venv/bin/python benchmarks/call_overhead.py
"""

from __future__ import annotations

import statistics
import time
import timeit
from datetime import datetime
from typing import Any

from emulator_process import EmulatorProcess, quiet_airflow_home

BLOCKS = 12
PER_BLOCK = 50
YEAR = datetime.now().year + 1
_counter = iter(range(10**9))


def params() -> dict[str, Any]:
    """A one-class series of its own (its own presenter, so WizIQ's 1032 never answers)."""
    index = next(_counter)
    return {
        "title": f"Overhead {index}",
        "presenter_email": f"p{index}@bench.example",
        "time_zone": "America/New_York",
        "start_time": f"{YEAR}-03-02T09:00",
        "class_repeat_type": "daily",
        "class_occurrence": 1,
        "attendee_limit": 30,
    }


def measure(emulator: EmulatorProcess, latency: float) -> tuple[float, float, float]:
    """Median seconds per call for the hook and for the bare post, and the emulator's CPU seconds per call."""
    import requests

    from airflow_provider_wiziq.api import calls
    from airflow_provider_wiziq.api.request import CreateRecurringRequest
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    emulator.reset()
    emulator.set_latency(latency)
    hook = WizIQHook()
    config = hook.config
    bare = requests.Session()

    def signed_body() -> dict[str, str]:
        return calls.create_recurring(CreateRecurringRequest.from_params(params())).body(config, int(time.time()))

    url = calls.create_recurring(CreateRecurringRequest.from_params(params())).url(config)
    hook.create_recurring(**params())  # open both keep-alive connections first
    bare.post(url, data=signed_body()).raise_for_status()
    hook_times: list[float] = []
    bare_times: list[float] = []
    cpu_before, calls_before = emulator.cpu_seconds(), emulator.api_calls("create_recurring")
    for _ in range(BLOCKS):
        batch = [params() for _ in range(PER_BLOCK)]
        started = time.perf_counter()
        for one in batch:
            hook.create_recurring(**one)
        hook_times.append((time.perf_counter() - started) / PER_BLOCK)

        bodies = [signed_body() for _ in range(PER_BLOCK)]
        started = time.perf_counter()
        for body in bodies:
            response = bare.post(url, data=body)
            assert b'status="ok"' in response.content, response.content[:200]
        bare_times.append((time.perf_counter() - started) / PER_BLOCK)
    cpu = (emulator.cpu_seconds() - cpu_before) / (emulator.api_calls("create_recurring") - calls_before)
    hook.close()
    bare.close()
    return statistics.median(hook_times), statistics.median(bare_times), cpu


def client_side_parts() -> dict[str, float]:
    """Microseconds of the hook's own CPU work per call, timed without HTTP."""
    from airflow_provider_wiziq.api import calls, responses
    from airflow_provider_wiziq.api.config import config_from_connection
    from airflow_provider_wiziq.api.request import CreateRecurringRequest

    config = config_from_connection(host="http://127.0.0.1:1/apimanager.ashx", login="ak", password="sk")
    one = params()
    request = CreateRecurringRequest.from_params(one)
    answer = (
        b'<rsp status="ok" call_id="72fe7bbe8df0"><method>create_recurring</method><create_recurring status="true">'
        b"<recurring_class_details><class_master_id>2345</class_master_id><class_details><class_id>15716</class_id>"
        b"<recording_url><![CDATA[]]></recording_url><presenter_list><presenter><presenter_email><![CDATA[t@x.example]]>"
        b"</presenter_email><presenter_url><![CDATA[http://x/y]]></presenter_url></presenter></presenter_list>"
        b'</class_details></recurring_class_details><is_recurring value="1"><recurring_summary><![CDATA[Your recurring '
        b"series starts on 10/23/2013 at 05:00 and repeats daily (all 7 days)]]></recurring_summary></is_recurring>"
        b"</create_recurring></rsp>"
    )
    parts = {
        "read the parameters (from_params)": lambda: CreateRecurringRequest.from_params(one),
        "validate and expand the series": lambda: request.validate(),
        "write and sign the body": lambda: calls.create_recurring(request).body(config, 1_700_000_000),
        "parse the XML answer (defusedxml)": lambda: responses.parse_create_recurring(answer),
    }
    return {name: min(timeit.repeat(work, number=2000, repeat=3)) / 2000 * 1e6 for name, work in parts.items()}


def main() -> None:
    quiet_airflow_home()
    with EmulatorProcess() as emulator:
        emulator.use_as_default_connection()
        figures = {latency: measure(emulator, latency) for latency in (0.0, 0.005)}
    print(f"calls per side and latency: {BLOCKS * PER_BLOCK}, alternating blocks of {PER_BLOCK}, keep-alive HTTP")
    for latency, (hook_call, bare_call, cpu) in figures.items():
        print(f"emulator latency {latency * 1000:.0f} ms (emulator CPU {cpu * 1000:.3f} ms/call):")
        print(f"  bare requests.post of the signed body: {bare_call * 1000:7.3f} ms/call (baseline)")
        print(f"  WizIQHook.create_recurring(**params):  {hook_call * 1000:7.3f} ms/call")
        print(f"  ratio hook / bare: {hook_call / bare_call:.3f} (target <= 1.10)")
    print("the hook's own CPU work per call, without HTTP:")
    for name, micros in client_side_parts().items():
        print(f"  {name:36} {micros:6.1f} us")
    hook_call, bare_call, _ = figures[0.0]
    print(f"ratio: {hook_call / bare_call:.3f} (latency 0; target <= 1.10)")


if __name__ == "__main__":
    main()
