"""Parsing ``get_data`` answers: the time of the typed parse callers get, and the memory of a whole call.

Every defence is on for the provider (a prolog walk refusing DTDs, the encoding check, element and depth
limits, a 1 KiB streaming parse). Four answers: two hostile 5 MiB shapes (flat: 1.3 million empty elements;
nested: 0.75 million levels; both refused at a limit) and two realistic ones (a page of 100 records of 14
columns, 60 kB; the largest ``get_data`` answer within the limits, 1.9 MB, 3,123 records).

* Time: ``parse_get_data``, the typed records callers get, against what a hand-written client does to get
  the same records: ``ElementTree.fromstring`` (the C parser building the whole tree, no defence), then for
  each ``record`` a ``ClassRecord`` of its columns' stripped texts (the first of a name), with the same
  checks (``class_id`` and ``class_master_id`` whole numbers above 0, ``time_to_start`` a whole number,
  ``start_time`` in WizIQ's format, read by the provider's own reader). Counted in instructions
  (callgrind, ``instructions.py``) for the realistic answers; the hostile ones are refused after one slice
  past a limit, and their times (CPU, best of several) are shown, not counted. Beside it, the typed parse
  against bare ``fromstring``, which builds no record.
* Memory: the tracemalloc peak of a whole ``WizIQClient.get_data`` call (the request, the answer's bytes as
  they arrive, the parse and the records returned) over the answer's size, the answer served by another
  process (``answer_server.py``) after a first call has paid the one-time costs.
Run: .venv/bin/python benchmarks/parse_answers.py
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

CAP = 5 * 1024 * 1024
HEAD = b'<rsp status="ok"><method>get_data</method><get_data><record_list>'
TAIL = b"</record_list></get_data></rsp>"
# A class of a daily series: its own id, start time and minutes to start; ten classes a series.
RECORD = (
    "<record><class_id>{id}</class_id><title>Algebra for beginners {series}</title>"
    "<presenter_email>rivera@school.example</presenter_email>"
    "<presenter_url>https://class.api.wiziq.com/join?c={id}&amp;p=abc</presenter_url>"
    "<start_time>{start:%m/%d/%Y %H:%M:%S}</start_time><time_zone>America/New_York</time_zone>"
    "<duration>60</duration><status>upcoming</status><recording_url>https://class.api.wiziq.com/rec/1</recording_url>"
    "<is_recurring>True</is_recurring><class_master_id>{series}</class_master_id><attendee_limit>30</attendee_limit>"
    "<time_to_start>{minutes}</time_to_start><attendance_report_status>na</attendance_report_status></record>\n"
)
PER_RECORD = 16  # elements of one record
SHAPES = (
    "flat (5 MiB, 1.3 M empty elements)",
    "nested (5 MiB, 0.75 M levels)",
    "page of 100 records",
    "largest within the limits",
)
REALISTIC = SHAPES[2:]
REPEATS = {"page of 100 records": 10, "largest within the limits": 1}  # parses a counted stretch
SIDES = ("typed", "by_hand", "fromstring")


def records(count: int) -> bytes:
    first = datetime(2027, 3, 2, 9, 0)
    return "".join(
        RECORD.format(id=1000 + i, series=2000 + i // 10, start=first + timedelta(days=i), minutes=100 + 1440 * i)
        for i in range(count)
    ).encode()


def shapes() -> dict[str, bytes]:
    return {name: shape(name) for name in SHAPES}


def shape(name: str) -> bytes:
    from airflow_provider_wiziq.api.protocol.xmlread import MAX_ELEMENTS

    filler = CAP - len(HEAD) - len(TAIL)
    if name == SHAPES[0]:
        return HEAD + b"<a/>" * (filler // 4) + TAIL
    if name == SHAPES[1]:
        return HEAD + b"<a>" * (filler // 7) + b"</a>" * (filler // 7) + TAIL
    if name == SHAPES[2]:
        return HEAD + records(100) + TAIL
    return HEAD + records((MAX_ELEMENTS - 10) // PER_RECORD) + TAIL


def typed(body: bytes) -> object:
    from airflow_provider_wiziq.api.protocol.responses import parse_get_data

    return parse_get_data(body)


def by_hand(body: bytes) -> object:
    """What a hand-written client does for the same records: the whole tree, then each record, checked."""
    from airflow_provider_wiziq.api.protocol.responses import ClassRecord, parse_wiziq_datetime

    made = []
    for record in ElementTree.fromstring(body).iter("record"):
        texts: dict[str, str] = {}
        for column in record:
            texts.setdefault(column.tag, (column.text or "").strip())
        for name in ("class_id", "class_master_id"):
            if texts.get(name) and not (texts[name].isascii() and texts[name].isdigit() and int(texts[name]) > 0):
                raise ValueError(f"<{name}> is not a WizIQ id")
        if texts.get("time_to_start"):
            int(texts["time_to_start"])
        if texts.get("start_time"):
            parse_wiziq_datetime(texts["start_time"])
        made.append(ClassRecord(fields=texts))
    return tuple(made)


def fromstring(body: bytes) -> object:
    return ElementTree.fromstring(body)


READERS: dict[str, Callable[[bytes], object]] = {"typed": typed, "by_hand": by_hand, "fromstring": fromstring}


def best_seconds(call: Callable[[], object], runs: int) -> float:
    from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError

    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        with contextlib.suppress(WizIQResponseError):
            call()
        best = min(best, time.process_time() - started)
    return best


@contextlib.contextmanager
def answer_server(folder: str) -> Iterator[str]:
    """``answer_server.py`` serving ``folder``'s files, in its own process; yields its URL."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "answer_server.py")
    server = subprocess.Popen([sys.executable, script, folder], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip().split("listening on ", 1)[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def call_peak(url: str, name: str) -> int:
    """The tracemalloc peak of one whole ``WizIQClient.get_data`` call answered with ``name``."""
    from airflow_provider_wiziq.api.protocol.client import WizIQClient
    from airflow_provider_wiziq.api.protocol.config import ClientConfig
    from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError

    config = ClientConfig(endpoint=f"{url}?answer={name}", access_key="bench", secret_key="bench")
    with WizIQClient(config) as client:
        with contextlib.suppress(WizIQResponseError):
            client.get_data(class_id=1)  # one-time costs: the connection, compiled patterns
        tracemalloc.start()
        try:
            with contextlib.suppress(WizIQResponseError):
                client.get_data(class_id=1)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def child(side: str, name: str) -> None:
    """One side on one answer, run under callgrind: ``REPEATS[name]`` parses inside the counted stretch."""
    from instructions import counted

    body = shape(name)
    read = READERS[side]
    read(body)  # one-time costs
    counted(lambda: [read(body) for _ in range(REPEATS[name])])


def main() -> None:
    from instructions import count, valgrind

    from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError

    answers = shapes()
    with tempfile.TemporaryDirectory(prefix="wiziq-answers-") as folder:
        files = {}
        for number, (name, body) in enumerate(answers.items()):
            files[name] = f"answer{number}.xml"
            with open(os.path.join(folder, files[name]), "wb") as out:
                out.write(body)
        with answer_server(folder) as url:
            memory = {name: call_peak(url, files[name]) / len(body) for name, body in answers.items()}
    counted = valgrind() is not None
    print(
        f"{'answer':36} {'bytes':>9} {'outcome':>8} {'call peak/size':>14} {'typed':>10} {'by hand':>10} "
        f"{'ratio':>6} {'fromstring':>10} {'ratio':>6}  (times: {'instructions' if counted else 'CPU'} for "
        "realistic answers, CPU ms for hostile ones)"
    )
    worst_time = 0.0
    for name, body in answers.items():
        try:
            typed(body)
            outcome = "read"
        except WizIQResponseError:
            outcome = "refused"
        if name in REALISTIC and counted:
            spent = {side: count(__file__, ["--side", side, "--answer", name]) / REPEATS[name] for side in SIDES}
            shown = {side: f"{spent[side] / 1e6:8.2f}M" for side in SIDES}
        else:
            runs = 3 if len(body) > 1_000_000 else 30
            spent = {side: best_seconds(lambda read=READERS[side], body=body: read(body), runs) for side in SIDES}
            shown = {side: f"{spent[side] * 1e3:8.2f}ms" for side in SIDES}
        ratio, bare = spent["typed"] / spent["by_hand"], spent["typed"] / spent["fromstring"]
        worst_time = max(worst_time, ratio)
        print(
            f"{name:36} {len(body):>9} {outcome:>8} {memory[name]:>13.2f}x {shown['typed']:>10} "
            f"{shown['by_hand']:>10} {ratio:>5.2f}x {shown['fromstring']:>10} {bare:>5.2f}x"
        )
    if not counted:
        print("(valgrind is not installed, Debian package valgrind: the realistic answers' times are CPU times)")
    print(
        f"ratio: peak memory of a get_data call over the answer's size {max(memory.values()):.2f}x (target <= 2x); "
        f"typed parse time vs fromstring and the same records by hand {worst_time:.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=SIDES)
    parser.add_argument("--answer", choices=REALISTIC)
    arguments = parser.parse_args()
    if arguments.side:
        child(arguments.side, arguments.answer)
    else:
        main()
