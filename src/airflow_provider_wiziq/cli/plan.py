"""``wiziq-term plan``: the plan a sync run would make now, against an account or an empty emulator; reads only.

The plan is made by the engine's dry run (``TermSync.run(dry_run=True)``: the ledger and WizIQ are read, nothing
is written to either) and printed as the task log shows it, or as the operator's return value (``--json``).
Exit status: 0 when the plan changes nothing, 2 when it has changes, 1 on invalid input or a failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TextIO

from airflow_provider_wiziq.api.engine.stores import FsspecStore, StoreError, term_folder
from airflow_provider_wiziq.api.engine.sync import SyncOutcome, TermSync, summary_line
from airflow_provider_wiziq.api.protocol.config import ClientConfig, url_without_credentials
from airflow_provider_wiziq.api.protocol.limits import PlanLimits
from airflow_provider_wiziq.api.rules.clock import SYSTEM_CLOCK
from airflow_provider_wiziq.api.rules.plan import ENDED, FAILED, UNCHANGED, TermPlan, plan_table
from airflow_provider_wiziq.cli.account import counted_client, emulator_account
from airflow_provider_wiziq.cli.connection import CONNECTION_VARIABLE, read_connection
from airflow_provider_wiziq.cli.inputs import InvalidInput, add_term_arguments, read_export, read_term_inputs

log = logging.getLogger(__name__)

#: The engine's log level unless -q or -v says otherwise (a plan's few lines say what was read).
LOG_LEVEL = logging.INFO
#: Exit statuses (Terraform's ``plan -detailed-exitcode``): nothing to change, invalid input or a failure, changes.
EMPTY, INVALID, CHANGES = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_term_arguments(parser)
    account = parser.add_argument_group("the account (reads only)")
    where = account.add_mutually_exclusive_group()
    where.add_argument(
        "--conn-uri",
        metavar="URI",
        help=f"the wiziq connection as an Airflow URI or JSON (default: ${CONNECTION_VARIABLE}, which keeps the "
        "secret key out of the process list)",
    )
    where.add_argument("--emulator", action="store_true", help="an in-process emulator: an empty account")
    account.add_argument(
        "--ledger-path", metavar="URL", help="the term's ledger_path (an fsspec URL: file://, s3://...), read only"
    )
    account.add_argument(
        "--max-calls-per-second", default="10", metavar="N", help="the rate limit (default 10), or none"
    )
    parser.add_argument("--json", action="store_true", help="print the operator's return value as one JSON object")


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    problems: list[str] = []
    config = None if args.emulator else _connection(args, problems)
    store = _ledger(args, problems)
    rate = _rate(args.max_calls_per_second, problems)
    inputs = read_term_inputs(args, problems)
    limits = config.limits if config is not None else PlanLimits()
    declared = read_export(args.sections, inputs.holidays, limits, "--sections", problems, calendar=inputs.calendar)
    if problems or declared is None:
        raise InvalidInput(problems)
    with _account(config, rate) as (client, bucket, clock, where):
        if config is not None:
            ledger = f"its ledger at {url_without_credentials(args.ledger_path)}" if store else "no ledger"
            where += f" ({ledger})"
        sync = TermSync(client, store, term=inputs.term, clock=clock, options=inputs.options, limits=limits)
        log.info("Planning term %s %s: reads only", inputs.term, where)
        outcome = sync.run(declared, owner="wiziq-term plan", run="wiziq-term plan", dry_run=True)
        result = outcome.report(bucket.calls)
    plan = outcome.plan
    if args.ledger_path and not plan.state.found:
        log.warning(
            "No ledger of this account at %s: planned as a run without a ledger would (a ledger belongs to the "
            "endpoint URL and access key it was written with: is the connection the DAG's?)",
            url_without_credentials(args.ledger_path),
        )
    if args.json:
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        _show(plan, result, f"at {_minute(plan.cutoff - inputs.options.safety_margin)}, {where}", stdout)
    return _status(outcome)


def _minute(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _status(outcome: SyncOutcome) -> int:
    """0 when no section changes and nothing is written, 2 for changes; 1 when the export conflicts with itself."""
    plan = outcome.plan
    failed = [row for row in plan.sections if row.action == FAILED]
    for row in failed:
        log.error("Section %s cannot be provisioned: %s", row.key, row.error)
    if failed:
        return INVALID
    changes = bool(plan.ops) or any(row.action not in (UNCHANGED, ENDED) for row in plan.sections)
    return CHANGES if changes else EMPTY


def _show(plan: TermPlan, result: dict[str, Any], where: str, stdout: TextIO) -> None:
    """The plan as the operator logs it: table, what stays enrolled, drift not repaired, the guards, the totals."""
    lines = [f"Plan for term {plan.term} {where}:"]
    lines.append(plan_table(result["plan"]))
    for row in plan.sections:
        if row.left_enrolled:
            lines.append(
                f"Section {row.key}: {len(row.left_enrolled)} removed from the roster stay enrolled in its future "
                f"classes (WizIQ cannot unenroll): {', '.join(row.left_enrolled)}"
            )
    lines += [f"Drift WizIQ did not take (not sent again): {line}" for line in plan.unrepairable]
    lines += [f"Guard (a run would refuse): {refusal}" for refusal in plan.refusals]
    lines.append(summary_line(result))
    stdout.write("\n".join(lines) + "\n")


# The inputs -------------------------------------------------------------------------------------------------


def _connection(args: argparse.Namespace, problems: list[str]) -> ClientConfig | None:
    text, source = args.conn_uri, "--conn-uri"
    if text is None:
        text, source = os.environ.get(CONNECTION_VARIABLE), CONNECTION_VARIABLE
    if not text:
        problems.append(f"--conn-uri: give the account's connection (or set {CONNECTION_VARIABLE}), or --emulator")
        return None
    config, found = read_connection(text)
    problems += [f"{source}: {item}" for item in found]
    return config


def _ledger(args: argparse.Namespace, problems: list[str]) -> ReadOnlyStore | None:
    """The ledger at ``--ledger-path``, read only; None without one (the account is read, as with no ledger)."""
    url = args.ledger_path
    if url is None:
        return None
    shown = url_without_credentials(url)
    if args.emulator:
        problems.append(
            "--ledger-path: a ledger belongs to the account it was written for; the emulator is a new, empty one"
        )
        return None
    import fsspec  # what ObjectStoragePath is built on; imported here, as only --ledger-path needs it

    try:
        fs, path = fsspec.core.url_to_fs(term_folder(url, args.term))
        found = fs.isdir(path)
    except Exception as error:  # fsspec raises what its filesystems raise: an unknown protocol, a missing library
        problems.append(f"--ledger-path: cannot open {shown}: {type(error).__name__}: {error}")
        return None
    if not found:
        problems.append(f"--ledger-path: no folder at {shown} (the ledger_path of a run that wrote a ledger)")
        return None
    return ReadOnlyStore(FsspecStore(fs, path))


def _rate(text: str, problems: list[str]) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not rate > 0:
        problems.append(f"--max-calls-per-second: must be a positive number, or none; not {text!r}")
        return None
    return rate


@contextmanager
def _account(config: ClientConfig | None, rate: float | None) -> Iterator[tuple[Any, Any, Any, str]]:
    """The client, its call counter, the clock and a phrase saying where: the connection's account or an emulator."""
    if config is None:
        with emulator_account() as (emulator, client, bucket):
            yield client, bucket, emulator.clock, "on an in-process emulator (an empty account)"
        return
    with counted_client(config, rate) as (client, bucket):
        yield client, bucket, SYSTEM_CLOCK, f"on {url_without_credentials(config.endpoint)}"


class ReadOnlyStore:
    """A ledger store that is only read: ``wiziq-term`` never writes a ledger (a write raises, and none is made)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        return self.store.get(key, default)

    def set(self, key: str, value: Any) -> None:
        raise StoreError(f"wiziq-term reads the ledger only; it would not write {key!r}")

    def delete(self, key: str) -> None:
        raise StoreError(f"wiziq-term reads the ledger only; it would not delete {key!r}")


__all__ = ["CHANGES", "EMPTY", "INVALID", "ReadOnlyStore", "add_arguments", "run"]
