"""Parsing answers: peak memory over the answer's size, and time against ``ElementTree.fromstring``.

Every defence is on for the provider (prolog walk refusing DTDs, encoding check, element and depth limits,
a 2 KiB streaming parse). The baseline is ``xml.etree.ElementTree.fromstring`` of the same bytes: the C
parser building the whole tree with no defence at all. Three 5 MiB shapes (flat: 1.3 million empty
elements; nested: 0.75 million levels; both are refused at a limit) and two realistic answers (a get_data
page of 100 records of 14 columns, and the largest get_data answer within the limits). Memory is the
tracemalloc peak of ``parse_get_data`` (the provider's read: each record built as it closes, its elements
then dropped) over the answer's size; the peak of the whole tree (``read_xml`` with no records, as a short
answer of another method is read) is beside it. Time is the XML read as ``parse_get_data`` does it (the
records streamed and dropped, their building left out) against ``fromstring``, and, beside it, the typed
parse against ``fromstring`` plus a hand-written dict of each record's columns. Each is the best of
several CPU-time runs, the sides alternating.
Run: .venv/bin/python benchmarks/parse_answers.py
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable

from airflow_provider_wiziq.api.protocol.errors import WizIQResponseError
from airflow_provider_wiziq.api.protocol.responses import parse_get_data
from airflow_provider_wiziq.api.protocol.xmlread import MAX_ELEMENTS, Records, read_xml

CAP = 5 * 1024 * 1024
HEAD = b'<rsp status="ok"><method>get_data</method><get_data><record_list>'
TAIL = b"</record_list></get_data></rsp>"
RECORD = (
    b"<record><class_id>%d</class_id><title>Algebra for beginners %d</title>"
    b"<presenter_email>rivera@school.example</presenter_email>"
    b"<presenter_url>https://class.api.wiziq.com/join?c=%d&amp;p=abc</presenter_url>"
    b"<start_time>03/02/2027 09:00:00</start_time><time_zone>America/New_York</time_zone>"
    b"<duration>60</duration><status>upcoming</status><recording_url>https://class.api.wiziq.com/rec/1</recording_url>"
    b"<is_recurring>true</is_recurring><class_master_id>2001</class_master_id><attendee_limit>30</attendee_limit>"
    b"<time_to_start>100</time_to_start><attendance_report_status>na</attendance_report_status></record>\n"
)


def shapes() -> dict[str, bytes]:
    filler = CAP - len(HEAD) - len(TAIL)
    per_record = 16  # elements of one record
    return {
        "flat (5 MiB, 1.3 M empty elements)": HEAD + b"<a/>" * (filler // 4) + TAIL,
        "nested (5 MiB, 0.75 M levels)": HEAD + b"<a>" * (filler // 7) + b"</a>" * (filler // 7) + TAIL,
        "realistic: get_data page of 100 records": HEAD + b"".join(RECORD % (i, i, i) for i in range(1, 101)) + TAIL,
        "realistic: largest get_data within the limits": HEAD
        + b"".join(RECORD % (i, i, i) for i in range(1, (MAX_ELEMENTS - 10) // per_record))
        + TAIL,
    }


def peak(call: Callable[[], object]) -> int:
    """The tracemalloc peak of one call, after a first call has paid the one-time costs (compiled patterns)."""
    with contextlib.suppress(WizIQResponseError):
        call()
    tracemalloc.start()
    try:
        with contextlib.suppress(WizIQResponseError):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def best_seconds(call: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        with contextlib.suppress(WizIQResponseError):
            call()
        best = min(best, time.process_time() - started)
    return best


def streamed(body: bytes) -> object:
    """The XML read of ``parse_get_data``: records dropped as they close, nothing built from them."""
    return read_xml(body, "get_data", Records("record", "get_data", lambda record: None))


def by_hand(body: bytes) -> object:
    """What a hand-written client does: the whole tree, then a dict of each record's columns."""
    root = ET.fromstring(body)
    return [{child.tag: (child.text or "").strip() for child in record} for record in root.iter("record")]


def main() -> None:
    print(
        f"{'answer':48} {'bytes':>9} {'outcome':>8} {'mem/size':>9} {'tree':>6} "
        f"{'time':>9} {'fromstring':>10} {'ratio':>6} {'typed':>9} {'by hand':>9} {'ratio':>6}"
    )
    worst_memory = worst_time = 0.0
    for name, body in shapes().items():
        try:
            read_xml(body, "get_data")
            outcome = "read"
        except WizIQResponseError:
            outcome = "refused"
        memory = peak(lambda body=body: parse_get_data(body)) / len(body)
        tree = peak(lambda body=body: read_xml(body, "get_data")) / len(body)
        runs = 5 if len(body) > 1_000_000 else 50
        ours = base = typed = hand = float("inf")
        for _ in range(3):  # alternate, so drift on a shared machine hits both sides alike
            ours = min(ours, best_seconds(lambda body=body: streamed(body), runs))
            base = min(base, best_seconds(lambda body=body: ET.fromstring(body), runs))
            typed = min(typed, best_seconds(lambda body=body: parse_get_data(body), runs))
            hand = min(hand, best_seconds(lambda body=body: by_hand(body), runs))
        worst_memory, worst_time = max(worst_memory, memory), max(worst_time, ours / base)
        print(
            f"{name:48} {len(body):>9} {outcome:>8} {memory:>8.2f}x {tree:>5.1f}x "
            f"{ours * 1e3:>7.2f}ms {base * 1e3:>8.2f}ms {ours / base:>5.2f}x "
            f"{typed * 1e3:>7.2f}ms {hand * 1e3:>7.2f}ms {typed / hand:>5.2f}x"
        )
    print(
        f"ratio: peak memory over size {worst_memory:.2f}x (target <= 2x); "
        f"time vs fromstring {worst_time:.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
