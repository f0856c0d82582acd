"""Building the sdist and the wheel as an index would get them: from a copy of the sources, with setuptools' own
build backend and no build isolation (what ``python -m build --no-isolation`` calls), so no run fetches anything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What the distributions are built from.
SOURCES = [
    "src",
    "docs",
    "example_dags",
    "pyproject.toml",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "NOTICE",
    "MANIFEST.in",
]


def build(into: Path, *, sdist: bool = True) -> dict[str, Path | str]:
    """The wheel (and the sdist) built in ``into``, and what the build printed."""
    copy = into / "source"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            copy.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    out = copy / "dist"
    script = "import setuptools.build_meta as backend\n"
    if sdist:
        script += f"print('BUILT sdist', backend.build_sdist({str(out)!r}))\n"
    script += f"print('BUILT wheel', backend.build_wheel({str(out)!r}))\n"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", script],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built: dict[str, Path | str] = {"output": done.stdout + done.stderr}
    for line in done.stdout.splitlines():
        if line.startswith("BUILT "):
            _, kind, name = line.split(" ", 2)
            built[kind] = out / name
    return built
