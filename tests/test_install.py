"""A lean install: `pip install .` is the workstation; the central service is an extra.

The counter's machine gets what the window, the core and the sync client import, and nothing
of the central service's web stack and database drivers (`clerk-app[central]`). Checked three
ways: the declared dependencies, the imports in the source, and what a running workstation has
actually loaded.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from clerk_app.command_line import main
from sync.sync_commands import CENTRAL_PACKAGES
from tests.test_import_graph import imported_names, modules

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Import names of the central service's packages and what only they bring along.
CENTRAL_ONLY = (*CENTRAL_PACKAGES, "starlette", "anyio", "psycopg_binary", "h11")


def _names(requirements: list[str]) -> set[str]:
    return {metadata.Distribution.from_name(Requirement(r).name).name.lower()
            for r in requirements if Requirement(r).name != "clerk-app"}


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` pull in (without their extras), themselves included."""
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(metadata.Distribution.from_name(req.name).name.lower())
    return found


def test_the_central_service_is_an_extra_the_tests_include() -> None:
    base = _names(PROJECT["dependencies"])
    central = _names(PROJECT["optional-dependencies"]["central"])
    assert central == {"fastapi", "uvicorn", "psycopg", "psycopg-pool", "orjson", "httptools",
                       "uvloop"}
    assert not central & _closure(base)
    assert "clerk-app[central]" in PROJECT["optional-dependencies"]["test"]


def test_everything_the_workstation_imports_comes_with_the_plain_install() -> None:
    """Each third-party import of the core, the window and the sync client (not the central
    service) is a base dependency or one of theirs: pydantic, for the protocol, is declared
    itself, since only fastapi would bring it otherwise."""
    installed = _closure(_names(PROJECT["dependencies"]))
    providers = metadata.packages_distributions()
    ours = {"clerk_app", "ui", "sync", "tests", "resources"}
    missing = set()
    for package in ("clerk_app", "ui", "sync"):
        for name, path in modules(REPO, package).items():
            if name.startswith("sync.server"):
                continue
            for imported in imported_names(name, path):
                top = imported.split(".")[0]
                if top in ours or top in sys.stdlib_module_names or top not in providers:
                    continue
                if not {d.lower() for d in providers[top]} & installed:
                    missing.add(f"{name}: {top}")
    assert missing == set()


def test_the_workstation_never_loads_the_central_service() -> None:
    code = ("import sys\n"
            "import clerk_app.command_line, clerk_app.self_test\n"
            "import ui.start_window, ui.main_window, ui.sync_worker\n"
            "import sync.engine, sync.client, sync.central_connection, sync.connection_checks\n"
            "import sync.sync_commands\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {CENTRAL_ONLY!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True, cwd=REPO)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("package", CENTRAL_PACKAGES)
def test_central_without_the_extra_says_which_to_install(
        package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, package, None)   # as if not installed: import fails
    for command in (["central", "enrol-code", "--device", "Schalter 1"],
                    ["central", "serve", "--port", "1"],
                    ["central", "seed", "--residents", "1"]):
        assert main(["--data-dir", str(tmp_path), *command]) == 2
        err = capsys.readouterr().err
        assert "Der zentrale Dienst ist in dieser Installation nicht enthalten" in err
        assert 'pip install "clerk-app[central]"' in err
    assert not (tmp_path / "central").exists()
