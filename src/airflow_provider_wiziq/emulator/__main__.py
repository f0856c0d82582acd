"""``python -m airflow_provider_wiziq.emulator``: serve the WizIQ emulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_wiziq.api.protocol.limits import DEFAULT_MAX_SERIES_CLASSES, PlanLimits
from airflow_provider_wiziq.api.protocol.request import START_GRACE
from airflow_provider_wiziq.emulator.config import DEFAULT_ACCESS_KEY, DEFAULT_PLAN, DEFAULT_SECRET_KEY
from airflow_provider_wiziq.emulator.control import parse_instant
from airflow_provider_wiziq.emulator.server import WizIQEmulator

#: The signals that stop the server cleanly (its SQLite file, if any, is closed).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def plan_limit(spelled: str) -> int | None:
    """A plan limit from the command line: a positive whole number, or ``none`` for no limit."""
    if spelled.strip().lower() == "none":
        return None
    try:
        value = int(spelled)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number or 'none', not {spelled!r}")
    return value


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m airflow_provider_wiziq.emulator",
        description="A local WizIQ Class API server (see docs/emulator.md).",
    )
    cli.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    cli.add_argument("--access-key", default=DEFAULT_ACCESS_KEY, help="the account's access key")
    cli.add_argument("--secret-key", default=DEFAULT_SECRET_KEY, help="the account's secret key")
    cli.add_argument("--db", metavar="FILE", help="keep classes in this SQLite file, to stop and resume")
    for option, name, code in [
        ("--max-class-minutes", "max_class_minutes", 1010),
        ("--max-user-per-class", "max_user_per_class", 1011),
        ("--max-concurrent-class", "max_concurrent_class", 1012),
    ]:
        default = getattr(DEFAULT_PLAN, name)
        cli.add_argument(
            option,
            type=plan_limit,
            default=default,
            metavar="N|none",
            help=f"plan limit (error {code}); 'none' lifts it (default {default if default else 'none'})",
        )
    cli.add_argument(
        "--max-series-classes",
        type=int,
        default=DEFAULT_MAX_SERIES_CLASSES,
        help=f"classes one series may hold (error 1082; default {DEFAULT_MAX_SERIES_CLASSES})",
    )
    cli.add_argument(
        "--report-delay",
        type=float,
        default=300.0,
        help="seconds after a class ends before its attendance report is ready (default 300)",
    )
    grace = START_GRACE.total_seconds()
    cli.add_argument(
        "--start-grace",
        type=float,
        default=grace,
        metavar="SECONDS",
        help=f'a start_time up to this long before now is "now", not error 1004 (default {grace:g})',
    )
    cli.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each API answer")
    cli.add_argument("--clock", metavar="ISO8601", help="start the emulator's clock at this time")
    cli.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = PlanLimits(
        max_class_minutes=args.max_class_minutes,
        max_user_per_class=args.max_user_per_class,
        max_concurrent_class=args.max_concurrent_class,
        max_series_classes=args.max_series_classes,
    )
    emulator = WizIQEmulator(
        access_key=args.access_key,
        secret_key=args.secret_key,
        limits=limits,
        host=args.host,
        port=args.port,
        db_path=args.db,
        clock_start=parse_instant(args.clock) if args.clock else None,
        report_delay=args.report_delay,
        start_grace=args.start_grace,
        latency=args.latency,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        emulator.start()
    except OSError as error:
        emulator.stop()
        reason = error.strerror or error
        print(f"WizIQ emulator: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    # Both signals are handled explicitly: a non-interactive shell starts a background job (``cmd &``) with
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler, so Ctrl-C or ``kill -INT`` would
    # be lost.
    previous = {signum: signal.signal(signum, on_signal) for signum in _STOP_SIGNALS}
    try:
        with emulator:
            print(f"WizIQ emulator listening on {emulator.url}", flush=True)
            print(f"Control API: {emulator.control_url}/", flush=True)
            print(f"export AIRFLOW_CONN_WIZIQ_DEFAULT='{json.dumps(emulator.connection)}'", flush=True)
            while not stop.wait(0.5):  # a timed wait: the handler runs between waits, never inside a lock
                pass
            print("WizIQ emulator stopping", flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
