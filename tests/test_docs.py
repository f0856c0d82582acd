"""The docs state what the code does: every error code of the catalogue is in the error table."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_wiziq.api.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_error_table_lists_every_code_with_its_kind(code):
    entry = ERROR_CODES[code]
    rows = [line for line in (DOCS / "errors.md").read_text().splitlines() if line.startswith(f"| {code} |")]
    assert len(rows) == 1, f"docs/errors.md has no single row for {code}"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == entry.message
    assert cells[3] == entry.kind.value
