"""The docs state what the code does: every error code of the catalogue is in the error table, and every
module and name the architecture page points to exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from airflow_provider_wiziq.api.protocol.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parent.parent / "docs"
SOURCE = Path(__file__).resolve().parent.parent / "src" / "airflow_provider_wiziq"
#: A decision's row: ``| what | `module.py` · `name` | why |``.
DECISION = re.compile(r"^\| [^|]+ \| `([\w/]+\.py)` · `(\w+)` \|")


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_error_table_lists_every_code_with_its_kind(code):
    entry = ERROR_CODES[code]
    rows = [line for line in (DOCS / "errors.md").read_text().splitlines() if line.startswith(f"| {code} |")]
    assert len(rows) == 1, f"docs/errors.md has no single row for {code}"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == entry.message
    assert cells[3] == entry.kind.value


def _decisions() -> list[tuple[str, str]]:
    return [m.groups() for line in (DOCS / "architecture.md").read_text().splitlines() if (m := DECISION.match(line))]


def test_architecture_page_lists_the_decisions() -> None:
    assert len(_decisions()) >= 15


@pytest.mark.parametrize(("module", "name"), _decisions())
def test_each_decision_is_where_the_architecture_page_says(module: str, name: str) -> None:
    path = SOURCE / module
    assert path.is_file(), f"docs/architecture.md points to {module}, which does not exist"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {
        t.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert name in defined, f"docs/architecture.md says {module} defines {name}; it does not"
