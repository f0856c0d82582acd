"""CPU a call of ``WizIQHook.create_recurring`` vs the same call written with Airflow's HTTP provider (target: <= 0.6x).

The baseline is what a DAG author writes without this provider: ``HttpHook(method="POST").run(...)`` on an
``http`` connection to the same endpoint, with the signature made by hand (HMAC-SHA1 of access key,
timestamp and method, the keys read from that connection), the same timeouts, and the answer read with
``ElementTree.fromstring`` (its ``status`` and ``class_master_id``). ``HttpHook.run`` reads the connection
and builds a new ``requests.Session`` on every call, so it opens a new connection each time; that is the
HTTP provider's own behaviour, and part of what a user of it pays. The hook side is
``WizIQHook().create_recurring(**params)``, with all its checks and defences.

Both sides create one-class series on the emulator (its own process, so its CPU is not counted) in
alternating blocks; the figure is this process's CPU time (user + system, ``time.process_time``) a call,
as the median over the block pairs of the ratio of the two blocks (a pair ran side by side, so a busy
machine slows both alike). Beside it, both sides' instructions a call are counted under callgrind (see
``instructions.py``; user-space work only, so the system calls of the baseline's new connection each call
are not in it). The HTTP provider is a benchmark-only dependency: it is installed into this virtualenv on
first run (pip), never a dependency of the provider.
Run: .venv/bin/python benchmarks/http_provider.py
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote_plus, urlsplit
from xml.etree import ElementTree

from call_instructions import params, wire_fields
from emulator_process import EmulatorProcess, quiet_airflow_home, quiet_logs

BLOCKS = 12
PER_BLOCK = 40
COUNTED_CALLS = 100
SIDES = ("hook", "http_provider")
HTTP_PROVIDER = "apache-airflow-providers-http>=5"


def http_provider_installed() -> bool:
    """Whether Airflow's HTTP provider can be imported; installs it into this virtualenv when missing."""
    if importlib.util.find_spec("airflow.providers.http") is not None:
        return True
    print(f"installing {HTTP_PROVIDER} into this virtualenv (benchmark only)", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", HTTP_PROVIDER]
    subprocess.run(command, check=False)
    importlib.invalidate_caches()
    return importlib.util.find_spec("airflow.providers.http") is not None


def http_connection(emulator: EmulatorProcess) -> dict[str, Any]:
    """The emulator as an ``http`` connection, the keys as its login and password, as a user would set it up."""
    url = urlsplit(emulator.url)
    return {
        "conn_type": "http",
        "host": url.hostname,
        "port": url.port,
        "schema": url.scheme,
        "login": emulator.connection["login"],
        "password": emulator.connection["password"],
    }


class HttpProviderUser:
    """The baseline: ``HttpHook.run`` with hand signing and an ElementTree parse."""

    def __init__(self, endpoint: str, timeouts: tuple[float, float]) -> None:
        from airflow.providers.http.hooks.http import HttpHook

        self.http = HttpHook(method="POST", http_conn_id="wiziq_http")
        connection = self.http.get_connection("wiziq_http")
        self.access_key = connection.login
        self.key = quote_plus(connection.password).encode()
        self.endpoint = f"{endpoint}?method=create_recurring"
        self.options = {"timeout": timeouts}

    def create_recurring(self, fields: dict[str, str]) -> int:
        timestamp = str(int(time.time()))
        message = f"access_key={self.access_key}&timestamp={timestamp}&method=create_recurring"
        signature = base64.b64encode(hmac.new(self.key, message.encode(), hashlib.sha1).digest()).decode()
        auth = {"access_key": self.access_key, "timestamp": timestamp, "signature": signature}
        data = {**fields, "method": "create_recurring", **auth}
        response = self.http.run(self.endpoint, data=data, extra_options=self.options)
        root = ElementTree.fromstring(response.content)
        if root.get("status") != "ok":
            raise RuntimeError(f"WizIQ answered {root.get('status')}")
        return int(root.findtext(".//class_master_id") or 0)


def child(side: str) -> None:
    """One side under callgrind: warm up, then ``COUNTED_CALLS`` calls inside the counted stretch."""
    from instructions import counted

    quiet_airflow_home()
    quiet_logs()
    base = 10_000_000 * (1 + SIDES.index(side))
    if side == "hook":
        from airflow_provider_wiziq.hooks.wiziq import WizIQHook

        hook = WizIQHook()
        for index in range(base, base + 20):
            hook.create_recurring(**params(index))
        inputs = [params(index) for index in range(base + 20, base + 20 + COUNTED_CALLS)]
        counted(lambda: [hook.create_recurring(**one) for one in inputs])
        return
    connection = json.loads(os.environ["AIRFLOW_CONN_WIZIQ_DEFAULT"])
    user = HttpProviderUser(urlsplit(connection["host"]).path.lstrip("/"), (10.0, 60.0))
    for index in range(base, base + 20):
        user.create_recurring(wire_fields(index))
    fields = [wire_fields(index) for index in range(base + 20, base + 20 + COUNTED_CALLS)]
    counted(lambda: [user.create_recurring(one) for one in fields])


def main() -> None:
    from instructions import count, valgrind

    quiet_airflow_home()
    if not http_provider_installed():
        print(f"ratio: not measured ({HTTP_PROVIDER} could not be installed)")
        return
    quiet_logs()
    from airflow_provider_wiziq.hooks.wiziq import WizIQHook

    with EmulatorProcess() as emulator:
        emulator.use_as_default_connection()
        os.environ["AIRFLOW_CONN_WIZIQ_HTTP"] = json.dumps(http_connection(emulator))
        hook = WizIQHook()
        config = hook.config
        user = HttpProviderUser(urlsplit(emulator.url).path.lstrip("/"), (config.connect_timeout, config.read_timeout))
        numbers = iter(range(10**9))
        for _ in range(10):  # warm up both sides: imports, caches, the hook's keep-alive connection
            hook.create_recurring(**params(next(numbers)))
            user.create_recurring(wire_fields(next(numbers)))
        hook_cpu: list[float] = []
        user_cpu: list[float] = []
        for _ in range(BLOCKS):
            inputs = [params(next(numbers)) for _ in range(PER_BLOCK)]
            started = time.process_time()
            for one in inputs:
                hook.create_recurring(**one)
            hook_cpu.append((time.process_time() - started) / PER_BLOCK)
            fields = [wire_fields(next(numbers)) for _ in range(PER_BLOCK)]
            started = time.process_time()
            for one in fields:
                user.create_recurring(one)
            user_cpu.append((time.process_time() - started) / PER_BLOCK)
        hook.close()
        counted: dict[str, float] = {}
        if valgrind() is not None:
            for side in SIDES:
                counted[side] = count(__file__, ["--side", side], env=dict(os.environ)) / COUNTED_CALLS
    ours, theirs = statistics.median(hook_cpu), statistics.median(user_cpu)
    ratio = statistics.median(mine / base for mine, base in zip(hook_cpu, user_cpu, strict=True))
    print(f"CPU a create_recurring call, median of {BLOCKS} alternating blocks of {PER_BLOCK} (this process only)")
    print(f"  HttpHook.run + hand signing + ElementTree (baseline): {theirs * 1000:6.3f} ms")
    print(f"  WizIQHook.create_recurring(**params):                 {ours * 1000:6.3f} ms")
    if counted:
        print(f"instructions a call, {COUNTED_CALLS} calls a side (callgrind; user space only):")
        print(f"  HttpHook.run + hand signing + ElementTree (baseline): {counted['http_provider'] / 1e6:6.3f} M")
        print(f"  WizIQHook.create_recurring(**params):                 {counted['hook'] / 1e6:6.3f} M")
        print(f"  ratio of instructions: {counted['hook'] / counted['http_provider']:.3f}")
    print(f"ratio: {ratio:.3f} hook / HttpHook.run (CPU; median of the {BLOCKS} block pairs' ratios)")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=SIDES)
    arguments = parser.parse_args()
    if arguments.side:
        child(arguments.side)
    else:
        main()
