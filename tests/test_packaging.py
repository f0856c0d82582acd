"""The package as an index shows it and a user installs it: metadata, sdist contents, and the README's CI recipe
run in a throwaway project with the built wheel installed.

The wheel and sdist are built from a copy of the sources with setuptools' own build backend and no build
isolation (what ``python -m build --no-isolation`` calls), so no run fetches anything. The throwaway project's
venv gets the wheel without dependencies and sees this venv's installed packages through a ``.pth`` line;
the provider itself (its code, metadata and entry points) comes from the wheel only.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from airflow_provider_wiziq import __version__
from airflow_provider_wiziq.get_provider_info import get_provider_info
from tests.docsnippets import ROOT, snippets, toml_block
from tests.support.dists import build

RECIPE_HEADING = "## The emulator in your own CI"
# The wheel is the same whichever Airflow is installed; the recipe's DAG run on each Airflow is the docs' test
# modules' and the whole suite's (the same plugin and dag.test()).
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path | str]:
    """The sdist and the wheel, and what the build printed."""
    return build(tmp_path_factory.mktemp("dists"))


@pytest.fixture(scope="module")
def metadata(built) -> email.message.Message:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(wheel.read(name))


def test_the_build_gives_no_deprecation_warning(built):
    assert "deprecat" not in str(built["output"]).lower(), built["output"]


def test_one_version_everywhere(metadata):
    assert metadata["Version"] == __version__
    assert get_provider_info()["versions"] == [__version__]


def test_license_is_an_spdx_expression_with_its_files(built, metadata):
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License"] is None
    assert set(metadata.get_all("License-File")) == {"LICENSE", "NOTICE"}
    assert not [c for c in metadata.get_all("Classifier") if c.startswith("License ::")]
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_classifiers_and_keywords(metadata):
    classifiers = metadata.get_all("Classifier")
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert any(c.startswith("Intended Audience ::") for c in classifiers)
    assert "wiziq" in metadata["Keywords"]
    assert metadata["Requires-Python"] == ">=3.10"


def test_the_long_description_has_no_link_the_index_page_cannot_follow(metadata):
    description = metadata.get_payload()
    assert metadata["Description-Content-Type"] == "text/markdown"
    links = re.findall(r"\]\(([^)]*)\)", description) + re.findall(r'(?:href|src)="([^"]*)"', description)
    assert links, "the README links to WizIQ at least"
    assert [link for link in links if not link.startswith("https://")] == []


def test_the_wheel_declares_the_wiziq_term_console_script(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
        entry_points = wheel.read(name).decode()
    scripts = entry_points.split("[console_scripts]", 1)[1].split("\n[", 1)[0]
    assert "wiziq-term = airflow_provider_wiziq.cli:main" in scripts


def test_the_sdist_carries_docs_and_licenses_but_no_test_suite(built):
    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "NOTICE", "CHANGELOG.md", "README.md", "docs/emulator.md"} <= names
    assert "src/airflow_provider_wiziq/emulator/pytest_plugin.py" in names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "scripts/", ".ci/"))]


def test_the_wheel_ships_the_example_dags_and_sample_exports_and_the_sdist_the_repositorys_too(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
    packaged = "airflow_provider_wiziq/example_dags/"
    for name in ("__init__.py", "wiziq_term_sync.py", "wiziq_term_provisioning.py", "wiziq_enrollment_pipeline.py"):
        assert packaged + name in names
    assert {packaged + "fall_term_sections.csv", packaged + "roster.csv"} <= names
    oneroster = ("oneroster_meeting_patterns.csv", "oneroster_calendar.csv", "oneroster_sample/manifest.csv")
    assert {packaged + name for name in oneroster} <= names
    with tarfile.open(built["sdist"]) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert "src/" + packaged + "fall_term_sections.csv" in in_sdist
    assert "example_dags/wiziq_term_sync.py" in in_sdist


def test_the_readme_recipe_passes_in_a_fresh_project_with_the_wheel(built, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    # Dependencies from this venv: a path line adds its packages but not its .pth files (so not the
    # editable install of the provider, whose metadata comes after the wheel's on sys.path).
    Path(site, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*install, str(built["wheel"])], check=True, timeout=300, capture_output=True)

    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(toml_block("README.md", RECIPE_HEADING))
    recipe_line = (ROOT / "README.md").read_text(encoding="utf-8").splitlines().index(RECIPE_HEADING) + 1
    (recipe,) = [s for s in snippets() if s.doc == "README.md" and s.is_test_module and s.line > recipe_line]
    (project / "test_term.py").write_text(recipe.code)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AIRFLOW", "PYTHON"))}
    check = (
        "import airflow_provider_wiziq as p, importlib.metadata as m; "
        "print(p.__file__); print(m.version('airflow-provider-wiziq'))"
    )
    where = subprocess.run([python, "-c", check], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.splitlines() == [
        str(Path(site, "airflow_provider_wiziq", "__init__.py")),
        __version__,
    ], where.stderr
    done = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
    assert re.search(r"^1 passed", done.stdout, re.MULTILINE), done.stdout[-4000:]


def test_mypy_checks_the_whole_package_strictly():
    """The lint stage's mypy covers every layer, not only api/ (pyproject's [tool.mypy])."""
    section = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.mypy]\n", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^files = \["src/airflow_provider_wiziq"\]$', section, re.MULTILINE), section
    assert re.search(r"^strict = true$", section, re.MULTILINE), section
