"""WizIQ's error codes have one home: ``api/protocol/errors.py`` names them, everything else says the name.

The emulator is WizIQ itself, so it speaks in numbers. HTTP statuses (400-503) are left out of the scan: they are
HTTP's numbers, not WizIQ's (transport code names them with :class:`http.HTTPStatus`), and the same numbers are
ordinary sizes and counts elsewhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from airflow_provider_wiziq.api.protocol import errors
from airflow_provider_wiziq.api.protocol.errors import ERROR_CODES, Code, WizIQAPIError

SOURCE = Path(errors.__file__).resolve().parents[2]
OWNERS = ("api/protocol/errors.py", "emulator/")
#: WizIQ's own codes; the HTTP statuses of the catalogue are not WizIQ's.
WIZIQ_CODES = frozenset(code for code in ERROR_CODES if code >= Code.TRY_AGAIN)
#: Numbers that are also plain quantities: a thousand (shard sizes, milliseconds) and a kibibyte (byte caps).
#: They pass unless they stand where a code does (a ``code=`` argument, a comparison with ``.code``).
ALSO_QUANTITIES = frozenset({Code.TRY_AGAIN, Code.ATTENDEE_ID_MISSING})


def _as_code(node: ast.Constant, parent: ast.AST | None) -> bool:
    if isinstance(parent, ast.keyword):
        return parent.arg is not None and parent.arg.endswith("code")
    if isinstance(parent, ast.Compare):
        return any(
            isinstance(side, ast.Attribute) and side.attr == "code" for side in (parent.left, *parent.comparators)
        )
    return isinstance(parent, (ast.Set, ast.Dict, ast.Tuple))


def bare_codes(root: Path) -> list[str]:
    """``path:line: number`` for each WizIQ code written as a number outside its owners."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(OWNERS):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and type(node.value) is int and node.value in WIZIQ_CODES):
                continue
            if node.value in ALSO_QUANTITIES and not _as_code(node, parents.get(node)):
                continue
            found.append(f"{relative}:{node.lineno}: {node.value}")
    return found


def test_no_wiziq_code_is_a_bare_number_outside_the_catalogue() -> None:
    found = bare_codes(SOURCE)
    assert not found, (
        "say errors.Code.<NAME> (or a predicate of api/protocol/errors.py), not the number:\n" + "\n".join(found)
    )


def test_the_scan_finds_a_bare_code(tmp_path: Path) -> None:
    (tmp_path / "operators").mkdir()
    (tmp_path / "operators" / "x.py").write_text(
        "if error.code == 1032:\n    pass\nSHARD = 1000\nSIZES = 64 * 1024\nraise E('x', code=1024)\n"
    )
    (tmp_path / "emulator").mkdir()
    (tmp_path / "emulator" / "y.py").write_text("ANSWER = 1032\n")
    assert bare_codes(tmp_path) == ["operators/x.py:1: 1032", "operators/x.py:5: 1024"]


def test_every_name_is_in_the_catalogue_and_every_code_has_a_name() -> None:
    assert set(Code) == set(ERROR_CODES)
    assert all(type(code) is int for code in ERROR_CODES)


@pytest.mark.parametrize(
    ("predicate", "code"),
    [
        (errors.is_already_scheduled, Code.ALREADY_SCHEDULED),
        (errors.is_already_cancelled, Code.ALREADY_CANCELLED),
        (errors.is_too_late_to_cancel, Code.CANCEL_IN_PROGRESS),
        (errors.is_too_late_to_cancel, Code.CANCEL_COMPLETED),
        (errors.is_too_late_to_cancel, Code.CANCEL_EXPIRED),
        (errors.is_report_pending, Code.REPORT_AVAILABLE_SOON),
        (errors.is_unknown_class, Code.CLASS_ID_INVALID),
        (errors.is_unknown_class, Code.NO_RECORD),
        (errors.is_no_record, Code.NO_RECORD),
    ],
)
def test_each_meaning_answers_for_its_codes_only(predicate, code: Code) -> None:
    assert predicate(WizIQAPIError.from_code(code))
    assert not predicate(WizIQAPIError.from_code(Code.TRY_AGAIN))
    assert not predicate(ValueError(str(int(code))))


def test_an_error_carries_a_plain_number() -> None:
    error = WizIQAPIError.from_code(Code.ALREADY_SCHEDULED, method="create_recurring")
    assert type(error.code) is int and error.code == 1032
    assert str(error).startswith("WizIQ error 1032:")
