"""``wiziq-term``: plan a term sync, or rehearse a semester of daily runs, outside Airflow (docs/term-sync.md).

``wiziq-term plan`` makes the plan a run would make now (reads only) against a WizIQ account or an in-process
emulator; ``wiziq-term rehearse`` runs the daily sync day by day on an emulator whose clock moves. Both read the
term as ``SyncTermOperator`` does, through the engine (:mod:`airflow_provider_wiziq.api.engine.sync`); neither
imports Airflow. Results go to stdout, logs to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn, TextIO

from airflow_provider_wiziq.api.protocol.errors import WizIQError
from airflow_provider_wiziq.cli import plan, rehearse
from airflow_provider_wiziq.cli.inputs import InvalidInput

#: The exit status of invalid input or a failure (argparse's own 2 would read as "the plan has changes").
FAILURE = 1


class _Parser(argparse.ArgumentParser):
    """Usage errors are invalid input: exit 1 with the usage, never argparse's 2."""

    def error(self, message: str) -> NoReturn:
        raise InvalidInput([f"{message}\n{self.format_usage().strip()}"])


def parser() -> argparse.ArgumentParser:
    main = _Parser(
        prog="wiziq-term",
        description="Plan a WizIQ term sync, or rehearse its daily runs, outside Airflow.",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="{plan,rehearse}")
    plan.add_arguments(
        commands.add_parser(
            "plan",
            help="the plan a run would make now (reads only)",
            description="The plan a SyncTermOperator run would make now, sending reads only. Exit 0: nothing to "
            "change; 2: changes; 1: invalid input or a failure.",
        )
    )
    rehearse.add_arguments(
        commands.add_parser(
            "rehearse",
            help="the daily runs over a span of days, on an emulator",
            description="Run the daily sync day by day on an in-process emulator whose clock moves, the ledger in "
            "memory; one line a day. Exit 0 when every day ran, 1 on invalid input.",
        )
    )
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: parse, run the command, say what went wrong on stderr; the exit status."""
    stdout, stderr = sys.stdout, sys.stderr
    command = "wiziq-term"
    try:
        args = parser().parse_args(argv)
        command = f"wiziq-term {args.command}"
        command_module = plan if args.command == "plan" else rehearse
        level = logging.WARNING if args.quiet else logging.INFO if args.verbose else command_module.LOG_LEVEL
        with _logs_to(stderr, level, logging.WARNING if args.quiet else logging.INFO):
            return int(command_module.run(args, stdout))
    except InvalidInput as error:
        stderr.write(f"{command}: invalid input, nothing was sent:\n")
        stderr.write("".join(f"  {item}\n" for item in error.problems))
    except WizIQError as error:
        stderr.write(f"{command}: {error}\n")
    except KeyboardInterrupt:
        stderr.write(f"{command}: interrupted\n")
        return 130
    return FAILURE


@contextmanager
def _logs_to(stream: TextIO, level: int, own_level: int) -> Iterator[None]:
    """The provider's log records to ``stream`` while a command runs: the engine's and the emulator's from
    ``level``, the command's own from ``own_level``; to no other handler (one that writes to stdout would break
    ``--json``). The loggers are restored after."""
    logger, own = logging.getLogger("airflow_provider_wiziq"), logging.getLogger(__name__)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    previous = logger.level, own.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    own.setLevel(own_level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        own.setLevel(previous[1])
        logger.propagate = previous[2]


__all__ = ["main", "parser"]
