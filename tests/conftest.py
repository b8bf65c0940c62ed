"""Shared fixtures: a real encrypted register in a temporary folder, an isolated configuration,
and the UI tests' German texts and main window.

Qt runs offscreen (no screen on CI); configuration files and data folders are redirected into
the test's temporary folder so no test reads or writes the machine's real ones.

The UI fixtures (`cfg`, `people`, `window`) stand on a `register` fixture that each UI module
defines with its own persons (see `tests/ui_support.py`); UI modules switch to German with
`pytestmark = pytest.mark.usefixtures("german")`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from clerk_app.config import Config
from clerk_app.keys import new_key
from clerk_app.store.db import Actor, Store, open_store
from tests.factories import COUNTER_ROLES, make_cfg

if TYPE_CHECKING:   # Qt is imported by the UI tests only
    from pytestqt.qtbot import QtBot

    from tests.ui_support import Register
    from ui.main_window import MainWindow

@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLERK_APP_MACHINE_CONFIG", str(tmp_path / "machine.toml"))
    monkeypatch.setenv("CLERK_APP_USER_CONFIG", str(tmp_path / "user.toml"))
    monkeypatch.setenv("CLERK_APP_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def demo_cfg(tmp_path: Path) -> Config:
    return make_cfg(tmp_path / "data")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated, encrypted register."""
    with open_store(tmp_path / "register.db", new_key(),
                    Actor("mmuster", "Schalter 3", COUNTER_ROLES),
                    create=True) as s:
        yield s


# --- the UI tests ------------------------------------------------------------------------------

@pytest.fixture
def german() -> Iterator[None]:
    """German texts, during the test and after it (a test may switch to English)."""
    from ui.i18n import set_language

    set_language("de")
    yield
    set_language("de")


@pytest.fixture
def cfg(register: Register) -> Config:
    """The configuration of the module's `register`."""
    return make_cfg(register[0])


@pytest.fixture
def people(register: Register) -> dict[str, str]:
    """The ids of the module's hand-made persons, by name."""
    return register[1]


@pytest.fixture
def window(qtbot: QtBot, cfg: Config) -> Iterator[MainWindow]:
    """The main window on `cfg`'s register, on screen and active; closed with its dialog."""
    from tests.ui_support import close_window, open_window

    w = open_window(qtbot, cfg)
    yield w
    close_window(w)


@pytest.fixture(autouse=True)
def _no_drafts_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """A window closed with a service dialog open keeps the typed work as a draft (ui.draft_keeper),
    as it should; in a module's shared register the next test's dialog would then open with
    it. Removed after each test that uses `cfg` (once its window and worker are gone)."""
    cfg = request.getfixturevalue("cfg") if "cfg" in request.fixturenames else None
    yield
    if isinstance(cfg, Config) and cfg.register_path.exists():
        from clerk_app.store.opening import open_register

        with open_register(cfg) as store, store.transaction():
            store.conn.execute("DELETE FROM drafts")
