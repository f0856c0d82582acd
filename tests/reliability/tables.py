"""The expected outcomes the reliability tests assert, and ``docs/reliability.md`` rendered from them.

Each table here is the single source for both: the tests check the provider against it, and
``render_docs()`` writes it into the docs, so the docs cannot say something the tests do not check.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from airflow_provider_wiziq.api.protocol.errors import WizIQError, WizIQResponseError, WizIQTransportError
from airflow_provider_wiziq.api.protocol.retry import SAFE_TO_REPEAT, may_resend
from airflow_provider_wiziq.emulator.faults import ANSWERED, PING_KINDS
from airflow_provider_wiziq.emulator.faults import KINDS as FAULT_COMMITS
from tests.reliability.support import FAST_EXTRAS

DOCS_PATH = "docs/reliability.md"

#: The methods of the fault matrix: the one that books classes, and four that are safe to repeat.
METHODS = ("create_recurring", "get_data", "view_schedule", "cancel", "add_attendees")
#: Every fault the emulator can inject (emulator/faults.py), in its own order.
#: The transport faults (``ignored`` answers well-formed XML, for the sync's drift tests; ping faults touch no call).
FAULTS = tuple(kind for kind in FAULT_COMMITS if kind not in ANSWERED | PING_KINDS)
#: The ``delay`` fault's wait (twice the matrix's read_timeout) and the ``http_429`` fault's Retry-After in the matrix.
DELAY_SECONDS = 4
RETRY_AFTER = 1


@dataclass(frozen=True)
class Symptom:
    """What one attempt that meets the fault raises in the client, and words its message must contain."""

    error: type[WizIQError]
    words: str  # a regular expression searched in str(error)
    what: str  # for the docs
    status_code: int | None = None
    retry_after: float | None = None

    def example(self, method: str) -> WizIQError:
        """An instance like the one the client raises, to ask :func:`may_resend` about."""
        if self.error is WizIQResponseError:
            return WizIQResponseError(self.what, method=method)
        return WizIQTransportError(
            self.what, method=method, sent=True, status_code=self.status_code, retry_after=self.retry_after
        )


#: What each fault looks like to the client (one attempt), with the matrix's read_timeout.
SYMPTOMS: dict[str, Symptom] = {
    "reset_before": Symptom(WizIQTransportError, r"connection lost", "connection reset, no answer"),
    "reset_after": Symptom(WizIQTransportError, r"connection lost", "connection reset, no answer"),
    "delay": Symptom(
        WizIQTransportError,
        rf"no answer within {FAST_EXTRAS['read_timeout']:g} s",
        f"no answer within read_timeout ({FAST_EXTRAS['read_timeout']:g} s)",
    ),
    "http_500": Symptom(WizIQTransportError, r"HTTP 500 with no WizIQ answer", "HTTP 500, not XML", 500),
    "http_502": Symptom(WizIQTransportError, r"HTTP 502 with no WizIQ answer", "HTTP 502, not XML", 502),
    "http_503": Symptom(WizIQTransportError, r"HTTP 503 with no WizIQ answer", "HTTP 503, not XML", 503),
    "http_429": Symptom(
        WizIQTransportError, r"HTTP 429 with no WizIQ answer", "HTTP 429 with Retry-After", 429, RETRY_AFTER
    ),
    "malformed": Symptom(WizIQResponseError, r"truncated or malformed XML", "HTTP 200, XML cut in half"),
    "truncated": Symptom(WizIQTransportError, r"cut off before its end", "body shorter than Content-Length"),
    "html": Symptom(WizIQTransportError, r"HTTP 502 with no WizIQ answer \(an HTML page", "HTML error page (502)", 502),
}


class Outcome(enum.Enum):
    """What a call that meets one fault ends with."""

    RESENT = "re-sent, succeeded"
    WAITED = "waited Retry-After, re-sent, succeeded"
    RECONCILE = "transient error, series stored once: caller reconciles"
    CLEAN = "transient error, nothing stored"

    @property
    def succeeds(self) -> bool:
        return self in (Outcome.RESENT, Outcome.WAITED)


_R, _W, _S, _N = Outcome.RESENT, Outcome.WAITED, Outcome.RECONCILE, Outcome.CLEAN

#: The fault matrix, written out: fault kind -> outcome per method, in METHODS order.
#:                 create_recurring  get_data  view_schedule  cancel  add_attendees
MATRIX: dict[str, tuple[Outcome, ...]] = {
    "reset_before": (_N, _R, _R, _R, _R),
    "reset_after": (_S, _R, _R, _R, _R),
    "delay": (_S, _R, _R, _R, _R),
    "http_500": (_N, _R, _R, _R, _R),
    "http_502": (_N, _R, _R, _R, _R),
    "http_503": (_N, _R, _R, _R, _R),
    "http_429": (_W, _W, _W, _W, _W),
    "malformed": (_S, _R, _R, _R, _R),
    "truncated": (_S, _R, _R, _R, _R),
    "html": (_N, _R, _R, _R, _R),
}

#: Cells where the provider does not yet do what the rules say (the test is xfail(strict) until fixed). None now:
#: the last ones (a re-sent cancel answered 1033 after its lost first attempt had cancelled) were fixed by
#: Call.done_if_resent.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def expected(fault: str, method: str) -> Outcome:
    return MATRIX[fault][METHODS.index(method)]


def derive(fault: str, method: str) -> Outcome:
    """The outcome the project's rules give: retry.may_resend on the fault's symptom, and whether it commits."""
    symptom = SYMPTOMS[fault]
    if may_resend(method, symptom.example(method)):
        return _W if symptom.retry_after else _R
    return _S if FAULT_COMMITS[fault] else _N


# -----------------------------------------------------------------------------------------------------
# Hostile answers
# -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """A hostile or broken answer, what it is, and the response error it must give."""

    name: str
    method: str  # the method whose answer it is
    what: str  # for the docs
    says: str  # words the error's reason must contain
    hostile: bool = False  # refused as hostile: never re-sent
    too_large: bool = False  # refused at the size cap: never re-sent

    @property
    def resent(self) -> bool:
        return not (self.hostile or self.too_large)


#: The size cap of the hostile-answer tests' client (the default max_response_bytes).
SIZE_CAP = 5 * 1024 * 1024

HOSTILE: tuple[Hostile, ...] = (
    Hostile(
        "external_entity",
        "get_data",
        'an external entity (`<!ENTITY x SYSTEM "file:///etc/passwd">`)',
        "declares a DTD",
        hostile=True,
    ),
    Hostile(
        "external_dtd",
        "get_data",
        'an external DTD (`<!DOCTYPE rsp SYSTEM "http://...">`)',
        "declares a DTD",
        hostile=True,
    ),
    Hostile(
        "billion_laughs",
        "get_data",
        "billion laughs (nested entities, 10^9 expansions)",
        "declares a DTD",
        hostile=True,
    ),
    Hostile(
        "quadratic_blowup",
        "get_data",
        "quadratic blow-up (one 100 kB entity referenced 50 000 times)",
        "declares a DTD",
        hostile=True,
    ),
    Hostile(
        "fifty_megabytes",
        "get_data",
        "a 50 MB body with its Content-Length",
        f"larger than the {SIZE_CAP}-byte cap",
        too_large=True,
    ),
    Hostile(
        "fifty_megabytes_chunked",
        "get_data",
        "a 50 MB body, chunked (no Content-Length)",
        f"larger than the {SIZE_CAP}-byte cap",
        too_large=True,
    ),
    Hostile(
        "wrong_root", "get_data", "a wrong root element (`<response>`)", "the root element is <response>, not <rsp>"
    ),
    Hostile(
        "no_method_element", "get_data", '`<rsp status="ok">` without the method\'s element', "no <get_data> element"
    ),
    Hostile("no_status", "get_data", "`<rsp>` without a status", "<rsp> has no status attribute"),
    Hostile("fail_without_code", "get_data", "a fail answer without an error code", "a fail answer without a readable"),
    Hostile(
        "missing_class_id",
        "view_schedule",
        "a class without its `class_id`",
        "no <class_id> element under <class_details>",
    ),
    Hostile("non_utf8", "get_data", "bytes that are not UTF-8 (`\\xe9`, `\\xff`)", "not valid UTF-8"),
    Hostile(
        "comment_run",
        "get_data",
        "28 kB of empty comments before broken XML (exponential for a backtracking sniff)",
        "truncated or malformed XML",
    ),
    Hostile(
        "many_elements",
        "get_data",
        "4 MiB of empty elements (a million)",
        "more than 50000 elements, more than any WizIQ answer holds",
        too_large=True,
    ),
    Hostile(
        "deep_nesting",
        "get_data",
        "4 MiB nested 600,000 levels deep",
        "nested deeper than 32 elements",
        too_large=True,
    ),
    Hostile(
        "unreadable_encoding",
        "get_data",
        "an XML declaration naming a codec expat cannot read (`shift_jis`)",
        "XML in an encoding expat cannot read (shift_jis)",
    ),
    Hostile("id_zero", "view_schedule", "a class whose `class_id` is 0", "<class_id> is 0 or below: not a WizIQ id"),
)

# -----------------------------------------------------------------------------------------------------
# Bad connection data
# -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadConnection:
    """A connection the provider must refuse at the first call, before any request leaves."""

    what: str  # for the docs
    says: str  # words the WizIQConfigError must contain
    gap: str | None = None  # a known bug: the tests of this case are xfail(strict=True) until it is fixed


_NOT_A_URL = "is not an http(s) URL with a host"
REMOTE = "wiziq.example.org"

BAD_CONNECTIONS: dict[str, BadConnection] = {
    "no_secret": BadConnection("an empty password (secret key)", "no secret key"),
    "no_secret_at_all": BadConnection("no password at all", "no secret key"),
    "not_http": BadConnection("an endpoint that is not http(s) (`ftp://...`)", _NOT_A_URL),
    "no_host": BadConnection("an endpoint without a host (`http:///apimanager.ashx`)", _NOT_A_URL),
    "plain_http_remote": BadConnection(
        f"plain `http://` to a remote host (`{REMOTE}`)", f"Refusing plain http to {REMOTE}"
    ),
    "port_not_a_number": BadConnection("a port that is not a number (`http://127.0.0.1:port/...`)", _NOT_A_URL),
    "broken_ipv6": BadConnection("a broken IPv6 literal (`http://[::1/...`)", _NOT_A_URL),
    "space_in_host": BadConnection("whitespace in the host name", _NOT_A_URL),
    "scheme_without_colon": BadConnection("a scheme without its colon (`http//127.0.0.1:8765/...`)", "endpoint"),
}


# -----------------------------------------------------------------------------------------------------
# docs/reliability.md
# -----------------------------------------------------------------------------------------------------

_HEADER = """\
# Reliability: faults, hostile answers, bad connection data

<!-- Generated by tests/reliability/test_fault_matrix.py from the tables its tests assert.
     Do not edit: change tests/reliability/tables.py and run
     WIZIQ_WRITE_DOCS=1 .venv/bin/python -m pytest tests/reliability -k docs -->

This page is written by the test suite. Every row below is asserted in CI over real HTTP, so the
page cannot drift from what the provider does.
"""


def _fault_section() -> list[str]:
    extras = ", ".join(f"`{name}={value}`" for name, value in FAST_EXTRAS.items())
    lines = [
        "## Fault matrix",
        "",
        "Each cell: one `WizIQHook` call meets one fault injected into the emulator "
        f"(`emu.inject_fault(kind, method=...)`), with the connection extras {extras}. "
        "The outcome follows from two rules only:",
        "",
        "- **which faults commit** (`emulator/faults.py`): the server did the work and only the answer went "
        "wrong (`reset_after`, `delay`, `malformed`, `truncated`), or it answered before doing anything;",
        "- **`retry.may_resend`**: methods safe to repeat ("
        + ", ".join(f"`{m}`" for m in sorted(SAFE_TO_REPEAT))
        + ") are re-sent after any transient error; `create` and `create_recurring` are re-sent only when the "
        "request never reached the server, or after HTTP 429 (the server said it did not process it).",
        "",
        "So `create_recurring` is never booked twice: after a fault that may have committed, the client raises a "
        "transient error naming what went wrong, and the caller (the operator's retry) looks the series up "
        "before creating it. After every cell the test checks the emulator's store: no duplicate series, "
        "none missing, no attendee twice, only the targeted class cancelled.",
        "",
        "| fault | what the client sees | commits | " + " | ".join(f"`{m}`" for m in METHODS) + " |",
        "|---|---|---|" + "---|" * len(METHODS),
    ]
    notes: list[str] = []
    for fault in FAULTS:
        cells = []
        for method in METHODS:
            cell = expected(fault, method).value
            gap = KNOWN_GAPS.get((fault, method))
            if gap is not None:
                if gap not in notes:
                    notes.append(gap)
                cell += f" ({'*' * (notes.index(gap) + 1)})"
            cells.append(cell)
        commits = "yes" if FAULT_COMMITS[fault] else "no"
        lines.append(f"| `{fault}` | {SYMPTOMS[fault].what} | {commits} | " + " | ".join(cells) + " |")
    lines.append("")
    for index, note in enumerate(notes):
        lines.append(f"({'*' * (index + 1)}) Not yet: {note}. The test of this cell is marked `xfail(strict=True)`.")
        lines.append("")
    lines += [
        "A fault that persists past the retry budget (`max_retries` re-sends) ends every method with the last "
        "transient error, after exactly `max_retries + 1` attempts, and changes nothing in the store.",
        "",
    ]
    return lines


def _hostile_section() -> list[str]:
    lines = [
        "## Hostile and broken answers",
        "",
        "Served by a scripted HTTP server to both clients (`WizIQClient` over `requests`, `AsyncWizIQClient` "
        "over `httpx`). Each must end in a `WizIQResponseError` that says what was wrong, without quoting the "
        "answer, within 10 seconds (a hang fails the test) and within a bounded peak of memory (`tracemalloc`). "
        "Hostile answers and answers over the size cap are refused at once and never re-sent; other "
        "unreadable answers are transient, so a method safe to repeat is re-sent within `max_retries`.",
        "",
        "| answer | method | error says | re-sent |",
        "|---|---|---|---|",
    ]
    for case in HOSTILE:
        kind = "hostile: " if case.hostile else "too large: " if case.too_large else ""
        resent = "yes, within `max_retries` (transient)" if case.resent else "no"
        lines.append(f"| {case.what} | `{case.method}` | {kind}`{case.says}` | {resent} |")
    lines.append("")
    return lines


def _connection_section() -> list[str]:
    lines = [
        "## Bad connection data",
        "",
        "Each must raise `WizIQConfigError` at the first call, before any request leaves (no DNS lookup, no "
        "connection: a network guard records them): for `WizIQHook`, and in `dag.test()` for "
        "`CreateRecurringClassOperator` and `WizIQClassStatusSensor` (poke and deferrable), whose task then "
        "fails on try 1, its retries unused, naming the problem.",
        "",
        "| connection | error says | refused before any request |",
        "|---|---|---|",
    ]
    notes: list[str] = []
    for case in BAD_CONNECTIONS.values():
        refused = "yes"
        if case.gap is not None:
            if case.gap not in notes:
                notes.append(case.gap)
            refused = f"not yet ({'*' * (notes.index(case.gap) + 1)})"
        lines.append(f"| {case.what} | `{case.says}` | {refused} |")
    lines.append("")
    for index, note in enumerate(notes):
        lines.append(f"({'*' * (index + 1)}) {note}. Its tests are marked `xfail(strict=True)`.")
        lines.append("")
    return lines


def _other_sections() -> list[str]:
    return [
        "## Secrets",
        "",
        "Both example DAGs are run with Airflow's production logging (`airflow.sdk.log.configure_logging()`), "
        "a successful run with faults, and a run with a wrong secret key. The secret key (raw and URL-quoted) "
        "and every request signature appear in no task log line, no XCom, no rendered template field, no "
        "exception text and nowhere in the metadata database.",
        "",
        "## Load",
        "",
        "`scripts/load.sh` runs the hook against the emulator from 16 threads for 60 seconds: no unexpected "
        "error, no duplicate series, and it prints the throughput. It is not part of the default test run.",
        "",
    ]


def render_docs() -> str:
    """The whole of docs/reliability.md."""
    return (
        "\n".join(
            [_HEADER, *_fault_section(), *_hostile_section(), *_connection_section(), *_other_sections()]
        ).rstrip()
        + "\n"
    )
