"""The headless commands IT and scripts use: search, demo-data, doctor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clerk_app.command_line import main
from clerk_app.config import load_config
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
        assert f"[OK] {name}:" in out
    assert "Müller" not in out


def test_doctor_names_each_problem(demo_register: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "machine.toml").write_text('registr = "x"\n', encoding="utf-8")
    demo_register.with_suffix(".key").write_text("0" * 64 + "\n", encoding="ascii")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[FEHLER] configuration:" in out and "unknown key 'registr'" in out
    assert "[FEHLER] register:" in out and "falscher Schlüssel oder beschädigte Datei" in out


def test_doctor_json(demo_register: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert all(c["ok"] for c in checks) and {c["name"] for c in checks} >= {"schema"}


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
