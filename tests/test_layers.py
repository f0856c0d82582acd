"""The folders of ``api/`` are its layers: what each may import is checked here, from the source's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_provider_wiziq.api as api

API = Path(api.__file__).resolve().parent
PACKAGE = "airflow_provider_wiziq"
#: Modules that send requests or hold a connection: no rule may import them.
IO = ("api.protocol.client", "api.protocol.async_client", "api.engine")


def imports(path: Path) -> set[str]:
    """The provider modules a source file imports, as ``api.<folder>.<module>`` (top level and in functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            base = node.module.removeprefix(PACKAGE + ".")
            found.update(
                f"{base}.{alias.name}" if base in ("api.protocol", "api.rules", "api.engine") else base
                for alias in node.names
            )
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix(PACKAGE + ".") for a in node.names if a.name.startswith(PACKAGE))
    return found


def modules(folder: str) -> list[Path]:
    return sorted((API / folder).glob("*.py"))


@pytest.mark.parametrize("path", modules("rules"), ids=lambda p: p.name)
def test_a_rule_sends_nothing(path: Path) -> None:
    bad = sorted(name for name in imports(path) if name.startswith(IO))
    assert not bad, f"rules/{path.name} imports what sends requests: {bad}"


@pytest.mark.parametrize("path", modules("protocol"), ids=lambda p: p.name)
def test_the_protocol_knows_no_engine_and_no_rule_but_the_recurrence(path: Path) -> None:
    bad = sorted(
        name
        for name in imports(path)
        if name.startswith("api.engine") or (name.startswith("api.rules") and name != "api.rules.recurrence")
    )
    assert not bad, f"protocol/{path.name} imports a layer above it: {bad}"


@pytest.mark.parametrize("folder", ["protocol", "rules", "engine"])
def test_no_api_module_imports_airflow_or_the_airflow_layers(folder: str) -> None:
    for path in modules(folder):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                assert not name.startswith("airflow."), f"{folder}/{path.name} imports {name}"
                assert not name.startswith(tuple(f"{PACKAGE}.{x}" for x in ("operators", "hooks", "sensors"))), name


def test_the_old_flat_paths_import_the_moved_modules() -> None:
    import airflow_provider_wiziq.api.errors as old
    from airflow_provider_wiziq.api.wait import ClassWait

    import airflow_provider_wiziq.api.protocol.errors as new

    assert old is new
    assert old.__spec__ is not None and old.__spec__.name == new.__name__
    from airflow_provider_wiziq.api.rules.wait import ClassWait as moved

    assert ClassWait is moved
