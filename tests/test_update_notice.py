"""Signed update notices: the release key signs, the central service publishes, the workstation
checks at sync and tells (CLI, doctor, status bar); nothing installs itself, and a notice that
is unsigned, wrongly signed or altered is ignored and logged. Against a real service process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clerk_app.command_line import main
from sync.server.central import Central
from sync.server.storage import open_database
from sync.update_notice import (
    UpdateNotice,
    UpdateNoticeError,
    sign_notice,
    verify_notice,
)
from tests.sync_support import CentralServer
from tests.test_sync_doctor import doctor

NOTICE = UpdateNotice(version="9.0.0", manifest_sha256="ab" * 32,
                      url="https://updates.stadt.example/clerk-app/9.0.0/", published="2026-12-01")


def _hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


@pytest.fixture
def release_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_signed_notice_verifies(release_key: Ed25519PrivateKey) -> None:
    raw = sign_notice(NOTICE, release_key).encode()
    assert verify_notice(raw, _hex(release_key)) == NOTICE


@pytest.mark.parametrize("spoil, problem", [
    (lambda d: d["notice"].update(version="9.0.1"), "signature does not match"),
    (lambda d: d["notice"].update(url="https://evil.example/"), "signature does not match"),
    (lambda d: d.pop("signature"), "not signed"),
    (lambda d: d.update(signature="00" * 64), "signature does not match"),
    (lambda d: d.update(signature="zz"), "signature does not match"),
    (lambda d: d["notice"].update(extra="x"), "exactly"),
    (lambda d: d["notice"].update(url="http://plain.example/"), "https"),
    (lambda d: d["notice"].update(version=9), "string"),
    (lambda d: d.update(notice=[]), "exactly"),
])
def test_altered_or_unsigned_notice_is_refused(release_key: Ed25519PrivateKey, spoil,
                                               problem: str) -> None:
    document = json.loads(sign_notice(NOTICE, release_key))
    spoil(document)
    with pytest.raises(UpdateNoticeError, match=problem):
        verify_notice(json.dumps(document).encode(), _hex(release_key))


def test_other_key_missing_key_garbage_and_size_are_refused(
        release_key: Ed25519PrivateKey) -> None:
    raw = sign_notice(NOTICE, release_key).encode()
    with pytest.raises(UpdateNoticeError, match="signature does not match"):
        verify_notice(raw, _hex(Ed25519PrivateKey.generate()))
    with pytest.raises(UpdateNoticeError, match="no update_public_key"):
        verify_notice(raw, "")
    with pytest.raises(UpdateNoticeError, match="unreadable"):
        verify_notice(b"{not json", _hex(release_key))
    with pytest.raises(UpdateNoticeError, match="larger"):
        verify_notice(b" " * 20_000 + raw, _hex(release_key))


def test_due_compares_versions_numerically() -> None:
    assert replace(NOTICE, version="0.10.0").due("0.9.3")
    assert not replace(NOTICE, version="0.1.0").due("0.1.0")
    assert not replace(NOTICE, version="0.1.0").due("0.2.0")


# --- end to end: central service, `clerk-app sync`, `clerk-app doctor` ------------------------

@pytest.fixture
def served(tmp_path: Path, release_key: Ed25519PrivateKey) -> Iterator[tuple[CentralServer,
                                                                             Central, Path]]:
    """A central service publishing tmp_path/notice.json (written by the test)."""
    notice_file = tmp_path / "notice.json"
    url = f"sqlite:///{tmp_path / 'central.db'}"
    db = open_database(url)
    server = CentralServer(url, tmp_path,
                           extra_args=("--update-notice", str(notice_file))).start()
    try:
        yield server, Central(db), notice_file
    finally:
        server.stop()
        db.close()


def _workstation(tmp_path: Path, url: str, public_hex: str, central: Central) -> list[str]:
    args = ["--data-dir", str(tmp_path / "ws"), "--set", 'workstation="ws1"',
            "--set", "demo_residents=0", "--set", f'central_url="{url}"',
            "--set", f'update_public_key="{public_hex}"']
    assert main([*args, "demo-data", "--residents", "0"]) == 0
    assert main([*args, "sync", "enrol", central.issue_enrolment_code("ws1")]) == 0
    return args


def _log(tmp_path: Path) -> str:
    log = tmp_path / "ws" / "logs" / "clerk-app.log"
    return log.read_text(encoding="utf-8") if log.is_file() else ""


def test_workstation_learns_of_a_signed_update_and_ignores_a_forged_one(
        tmp_path: Path, served: tuple[CentralServer, Central, Path],
        release_key: Ed25519PrivateKey, capsys: pytest.CaptureFixture[str]) -> None:
    server, central, notice_file = served
    args = _workstation(tmp_path, server.url, _hex(release_key), central)

    # none published: nothing said
    capsys.readouterr()
    assert main([*args, "sync", "--once"]) == 0
    assert "Update" not in capsys.readouterr().err
    code, lines = doctor(args, capsys)
    assert code == 0 and lines["update"] == ("OK", "die Zentrale veröffentlicht keine "
                                                   "Update-Mitteilung")

    notice_file.write_text(sign_notice(NOTICE, release_key), encoding="utf-8")
    assert main([*args, "sync", "--once"]) == 0
    err = capsys.readouterr().err
    assert "Hinweis: Update auf Version 9.0.0 verfügbar" in err and NOTICE.url in err
    code, lines = doctor(args, capsys)
    assert code == 0  # a due update is for IT to act on, not a failure
    label, detail = lines["update"]
    assert label == "WARNUNG" and "9.0.0" in detail and NOTICE.manifest_sha256 in detail

    # A forged notice (another key, a download of the forger's) is ignored and logged.
    forged = replace(NOTICE, version="9.9.9", url="https://evil.example/clerk-app.deb")
    notice_file.write_text(sign_notice(forged, Ed25519PrivateKey.generate()),
                           encoding="utf-8")
    assert main([*args, "sync", "--once"]) == 0
    err = capsys.readouterr().err
    assert "9.9.9" not in err and "evil" not in err
    assert "update notice ignored: the signature does not match" in _log(tmp_path)
    code, lines = doctor(args, capsys)
    assert lines["update"][0] == "WARNUNG" and "verworfen" in lines["update"][1]
    assert "evil" not in lines["update"][1]

    # unsigned: the same
    notice_file.write_text(json.dumps({"notice": json.loads(sign_notice(forged, release_key))
                                       ["notice"]}), encoding="utf-8")
    assert main([*args, "sync", "--once"]) == 0
    assert "9.9.9" not in capsys.readouterr().err
    assert "update notice ignored: the notice is not signed" in _log(tmp_path)


def test_without_the_release_key_notices_are_ignored(
        tmp_path: Path, served: tuple[CentralServer, Central, Path],
        release_key: Ed25519PrivateKey, capsys: pytest.CaptureFixture[str]) -> None:
    server, central, notice_file = served
    notice_file.write_text(sign_notice(NOTICE, release_key), encoding="utf-8")
    args = _workstation(tmp_path, server.url, "", central)
    capsys.readouterr()
    assert main([*args, "sync", "--once"]) == 0
    assert "Update" not in capsys.readouterr().err
    assert "no update_public_key configured" in _log(tmp_path)
    code, lines = doctor(args, capsys)
    assert code == 0
    assert "no update_public_key" in lines["update"][1]


# --- the status bar ----------------------------------------------------------------------------

def test_status_bar_tells_the_clerk(qtbot, demo_cfg) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMainWindow

    from clerk_app.clerks import demo_actor
    from ui.i18n import set_language
    from ui.status import StatusBarWidgets, SyncView

    set_language("de")
    window = QMainWindow()
    qtbot.addWidget(window)
    widgets = StatusBarWidgets(replace(demo_cfg, central_url="https://zentral.example"),
                               demo_actor(demo_cfg.workstation), window.statusBar())
    window.show()
    assert not widgets.update.isVisible()
    widgets.show_sync(SyncView(configured=True, online=True, pending=0, update="9.0.0"))
    assert widgets.update.isVisible()
    assert widgets.update.text() == "Update 9.0.0 verfügbar"
    assert "die IT installiert sie" in widgets.update.accessibleName()
    widgets.show_sync(SyncView(configured=True, online=True, pending=0))
    assert not widgets.update.isVisible()


def test_the_verified_notice_is_kept_and_rewritten_only_on_change(
        store, release_key: Ed25519PrivateKey) -> None:  # type: ignore[no-untyped-def]
    from sync.update_notice import record, stored

    raw = sign_notice(NOTICE, release_key).encode()
    assert record(store, raw, _hex(release_key)) == NOTICE
    assert stored(store) == NOTICE
    changes = store.conn.total_changes
    assert record(store, raw, _hex(release_key)) == NOTICE
    assert store.conn.total_changes == changes   # nothing written again
    forged = sign_notice(replace(NOTICE, version="9.9.9"), Ed25519PrivateKey.generate())
    assert record(store, forged.encode(), _hex(release_key)) is None
    assert stored(store) == NOTICE               # the last good one stays
    assert record(store, None, _hex(release_key)) is None
    assert stored(store) is None                 # withdrawn centrally
