"""A real Secret Service for the keyring tests: gnome-keyring in a D-Bus session of the test's
own, with a login keyring in the test's temporary folder.

The process's keyring is the Secret Service backend on that bus while the block runs; the
session bus address in the environment points there too (the backend connects anew for every
call). Skipped, with the reason, where dbus-daemon or gnome-keyring-daemon is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest

DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
PASSWORD = "anmelde-kennwort"


@dataclass
class SecretService:
    """The running keyring daemon; lock and unlock it as the desktop's login would."""

    address: str
    keyring_dir: Path

    def _collection(self) -> object:
        import secretstorage

        return secretstorage.Collection(secretstorage.dbus_init(), DEFAULT_COLLECTION)

    def lock(self) -> None:
        collection = self._collection()
        collection.lock()  # type: ignore[attr-defined]
        assert collection.is_locked()  # type: ignore[attr-defined]

    def unlock(self, password: str = PASSWORD) -> None:
        """Unlock with the password, as the clerk typing it into the desktop's prompt does
        (the daemon's own test interface: a prompt needs a screen)."""
        import secretstorage
        from secretstorage.util import DBusAddressWrapper, format_secret, open_session

        conn = secretstorage.dbus_init()
        try:
            session = open_session(conn)
            secret = format_secret(session, password.encode(), "text/plain")
            internal = DBusAddressWrapper(
                "/org/freedesktop/secrets",
                "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", conn)
            path = secretstorage.Collection(conn, DEFAULT_COLLECTION).collection_path
            internal.call("UnlockWithMasterPassword", "o(oayays)", path, secret)
        finally:
            conn.close()

    def secrets(self) -> dict[str, str]:
        """Every secret of this app in the keyring, by account (only while unlocked)."""
        import secretstorage

        conn = secretstorage.dbus_init()
        try:
            collection = secretstorage.Collection(conn, DEFAULT_COLLECTION)
            return {item.get_attributes()["username"]: item.get_secret().decode()
                    for item in collection.search_items({"service": "clerk-app"})}
        finally:
            conn.close()


def _require(*programs: str) -> None:
    for program in programs:
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed (Debian: dbus-daemon, gnome-keyring)")


# A session bus without service activation: the system's session bus would start a
# gnome-keyring of its own (without the test's keyring) the moment anything asks for the
# Secret Service, and "no keyring on the bus" could not be tested.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={tmp}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@contextmanager
def session_bus(folder: Path) -> Iterator[str]:
    """A D-Bus session bus of this test; its address is in the environment inside the block."""
    _require("dbus-daemon")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "bus.conf"
    config.write_text(BUS_CONFIG.format(tmp=tempfile.gettempdir()), encoding="utf-8")
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork",
                            "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    saved = {k: os.environ.get(k) for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")}
    runtime = folder / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.update(DBUS_SESSION_BUS_ADDRESS=address, XDG_RUNTIME_DIR=str(runtime))
    try:
        yield address
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        bus.terminate()
        bus.wait(10)
        if bus.stdout:
            bus.stdout.close()


@contextmanager
def secret_service(folder: Path, *, running: bool = True) -> Iterator[SecretService]:
    """gnome-keyring with an unlocked, empty login keyring (`running=False`: the bus only,
    no keyring service on it) as this process's keyring backend."""
    from keyring.backends import SecretService as backend_module

    if running:
        _require("gnome-keyring-daemon")
    previous = keyring.get_keyring()
    with session_bus(folder) as address:
        daemon = None
        data = folder / "keyrings"
        if running:
            env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(data)}
            daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env=env)
            assert daemon.stdin is not None
            daemon.stdin.write(PASSWORD.encode())
            daemon.stdin.close()
        service = SecretService(address, data)
        try:
            if daemon is not None:
                _wait_for_collection(service)
            keyring.set_keyring(backend_module.Keyring())
            yield service
        finally:
            keyring.set_keyring(previous)
            if daemon is not None:
                daemon.terminate()
                daemon.wait(10)


def _wait_for_collection(service: SecretService) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            service.secrets()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
