"""A withdrawn workstation (IT revoked it centrally: lost or stolen) destroys what it holds at
its next contact: register key, register, drafts (in the register), printouts and device
token, and opens nothing again, with a German message; against the real service process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clerk_app.command_line import main
from clerk_app.config import load_config
from clerk_app.draft_store import save_draft
from clerk_app.errors import ClerkError
from clerk_app.ids import uuid7
from clerk_app.store.opening import open_register
from clerk_app.withdrawal import MARKER, PRINTOUTS_FOLDER
from sync.central_errors import DeviceRevoked
from sync.client import CentralClient
from sync.server.central import Central
from sync.sync_commands import EXIT_WITHDRAWN
from tests.sync_support import CentralServer, running_central


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[CentralServer, Central]]:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path,
                         residents=20) as pair:
        yield pair


def test_a_withdrawn_workstation_destroys_its_data_and_opens_nothing_again(
        tmp_path: Path, central: tuple[CentralServer, Central],
        capsys: pytest.CaptureFixture[str]) -> None:
    server, service = central
    data = tmp_path / "laptop"
    base = ["--data-dir", str(data), "--set", "workstation=\"mobil9\"",
            "--set", "demo_residents=0", "--set", f"central_url=\"{server.url}\""]
    assert main([*base, "demo-data", "--residents", "0"]) == 0
    assert main([*base, "sync", "enrol", service.issue_enrolment_code("mobil9")]) == 0
    assert main([*base, "sync", "--once"]) == 0
    cfg = load_config({"data_dir": str(data)})
    with open_register(cfg) as store:
        save_draft(store, "anmeldung", uuid7(), {"family_name": "Wróbel"})
    printouts = data / PRINTOUTS_FOLDER
    printouts.mkdir()
    (printouts / "MB-2026-1.pdf").write_bytes(b"%PDF-1.7")
    token = (data / "demo-register.device-token").read_text().strip()
    held = sorted(p.name for p in data.iterdir())
    assert {"demo-register.db", "demo-register.key", "demo-register.device-token"} <= set(held)

    assert service.revoke_device("mobil9") == 1
    with pytest.raises(DeviceRevoked):   # what the centre answers the token now
        CentralClient(server.url, token).push([])
    capsys.readouterr()
    assert main([*base, "sync", "--once"]) == EXIT_WITHDRAWN
    err = capsys.readouterr().err
    assert "Traceback" not in err and "zurückgezogen" in err and "gelöscht" in err
    left = sorted(p.name for p in data.iterdir())
    assert not [n for n in left if n.startswith("demo-register")], left
    assert PRINTOUTS_FOLDER not in left and MARKER in left
    # Nothing opens again: not the register, not the sync, not a search.
    with pytest.raises(ClerkError) as refused:
        open_register(cfg)
    assert "zurückgezogen" in refused.value.message_de
    for command in (["sync", "--once"], ["search", "Wróbel"], ["sync", "status"]):
        assert main([*base, *command]) == 2
        assert "zurückgezogen" in capsys.readouterr().err
    assert not (data / "demo-register.db").exists()   # not made anew either
