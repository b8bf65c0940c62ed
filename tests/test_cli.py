"""The headless commands IT and scripts use: search, demo-data, doctor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clerk_app.command_line import main
from clerk_app.config import load_config
from clerk_app.self_test import CHECK_LABELS_DE
from clerk_app.store.opening import open_register
from tests.factories import add_person


@pytest.fixture
def demo_register(tmp_path: Path) -> Path:
    """The configured demo register (data folder from the test's environment) with 2 persons."""
    cfg = load_config()
    with open_register(cfg, create=True) as store:
        add_person(store, "Müller", "Anna", "1964-08-12")
        add_person(store, "Ødegård", "Ole", "2001-12-24", block=True)
    return cfg.register_path


def test_search_json(demo_register: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "mueller", "--json"]) == 0
    (hit,) = json.loads(capsys.readouterr().out)
    assert (hit["family_name"], hit["birth_date"], hit["information_block"]) == (
        "Müller", "1964-08-12", False)


def test_search_text_marks_blocks_and_is_audited(demo_register: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "odegard"]) == 0
    out = capsys.readouterr().out
    assert "Ødegård, Ole  *24.12.2001" in out and "[AUSKUNFTSSPERRE]" in out
    with open_register(load_config()) as store:
        (entry,) = store.query("SELECT action, purpose, detail FROM audit_log")
    assert entry == {"action": "search", "purpose": "Suche über die Kommandozeile",
                     "detail": "1 Treffer"}


def test_search_bad_input_is_a_german_message(demo_register: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "31.02.1990"]) == 2
    assert "kein gültiges Datum" in capsys.readouterr().err


def test_doctor_passes_on_a_healthy_register(demo_register: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("version", "configuration", "keyring", "encryption", "schema", "register"):
        assert f"[OK] {CHECK_LABELS_DE[name]}:" in out
    assert "Müller" not in out


def test_doctor_names_each_problem(demo_register: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "machine.toml").write_text('registr = "x"\n', encoding="utf-8")
    demo_register.with_suffix(".key").write_text("0" * 64 + "\n", encoding="ascii")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[FEHLER] Konfiguration:" in out and "unbekannter Schlüssel „registr“" in out
    assert "[FEHLER] Melderegister:" in out and "falscher Schlüssel oder beschädigte Datei" in out


def test_doctor_json(demo_register: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert all(c["ok"] for c in checks) and {c["name"] for c in checks} >= {"schema"}
    assert {c["label"] for c in checks} >= {"Registerschema"}


def test_demo_data_refuses_production_and_existing(demo_register: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--set", 'mode="production"', "--set", 'key_file="/nonexistent/k"',
                 "demo-data"]) == 2
    assert "nur im Demomodus" in capsys.readouterr().err
    assert main(["demo-data", "--residents", "10"]) == 2
    assert "--force" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "clerk_app", "--version"],
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("clerk-app ")


# --- German help and usage errors -----------------------------------------------------------

# argparse's own English, which must not show anywhere in the help or a usage error.
ARGPARSE_ENGLISH = ("usage:", "options:", "positional arguments", "show this help",
                    "error:", "the following arguments", "invalid choice", "version number",
                    "unrecognized arguments", "expected one argument")


def command_paths() -> list[list[str]]:
    """Every sub-command's path (`[]`, `["sync"]`, `["central", "office-keys", "rotate"]` ...),
    read from the real parser with its plugins."""
    import argparse

    from clerk_app.cli_german import german_argparse
    from clerk_app.command_line import _parser

    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        paths.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*path, name])

    with german_argparse():
        walk(_parser()[0], [])
    return paths


def test_every_help_is_german(capsys: pytest.CaptureFixture[str]) -> None:
    paths = command_paths()
    assert ["central", "office-keys", "rotate"] in paths and ["doctor"] in paths
    for path in paths:
        with pytest.raises(SystemExit) as exit_:
            main([*path, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("Aufruf: clerk-app"), (path, out)
        assert "diese Hilfe zeigen und beenden" in out, (path, out)
        assert not [w for w in ARGPARSE_ENGLISH if w in out], (path, out)


def test_every_argument_is_named_in_german() -> None:
    """No argument falls back to argparse's default name (its English `dest` in capitals):
    each has a German metavar or a list of choices."""
    import argparse

    from clerk_app.cli_german import german_argparse
    from clerk_app.command_line import _parser

    def walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
        unnamed = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    unnamed += walk(child, f"{path} {name}")
            elif action.nargs != 0 and action.metavar is None and action.choices is None \
                    and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                unnamed.append(f"{path}: {action.dest}")
        return unnamed

    with german_argparse():
        assert walk(_parser()[0], "clerk-app") == []


@pytest.mark.parametrize(("argv", "german"), [
    (["search"], "diese Angaben fehlen: SUCHE"),
    (["access-log", "delete"], "ungültige Wahl: 'delete'"),
    (["search", "x", "--limit", "viele"], "ungültiger Wert (int): 'viele'"),
    (["doctor", "--bunt"], "unbekannte Angaben: --bunt"),
    (["search", "x", "--limit"], "Argument --limit: ein Wert erwartet"),
])
def test_usage_errors_are_german(argv: list[str], german: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Aufruf: clerk-app") and "clerk-app" in err, err
    assert ": Fehler: " in err and german in err, err
    assert not [w for w in ARGPARSE_ENGLISH if w in err], err
    import argparse

    assert argparse._("usage: ") == "usage: "   # argparse is itself again afterwards
