"""Shared fixtures: a real encrypted register in a temporary folder, an isolated configuration.

Qt runs offscreen (no screen on CI); configuration files and data folders are redirected into
the test's temporary folder so no test reads or writes the machine's real ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from clerk_app.config import Config
from clerk_app.keys import new_key
from clerk_app.store.db import Actor, Store, open_store

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLERK_APP_MACHINE_CONFIG", str(tmp_path / "machine.toml"))
    monkeypatch.setenv("CLERK_APP_USER_CONFIG", str(tmp_path / "user.toml"))
    monkeypatch.setenv("CLERK_APP_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def demo_cfg(tmp_path: Path) -> Config:
    return replace(Config(), data_dir=str(tmp_path / "data"), mode="demo",
                   demo_residents=1500, workstation="Schalter 3", clerk="mmuster")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated, encrypted register."""
    with open_store(tmp_path / "register.db", new_key(), Actor("mmuster", "Schalter 3"),
                    create=True) as s:
        yield s
