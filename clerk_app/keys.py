"""Where the register's encryption key comes from.

A stolen laptop must not give away the register, so the key never lies in plain text beside
the data: it is generated at first start and kept in the OS keyring. Headless Linux often has
no working keyring; then the app refuses rather than fall back silently, and names the two ways
out (a Secret Service, or an IT-configured key file of mode 0600). The demo register holds only
synthetic data, so its key may lie in a file beside it; that keeps the README's first command
working on any fresh machine.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import keyring
import keyring.errors
from keyring.backends import fail

from clerk_app.config import Config
from clerk_app.errors import KeyMissingError, KeyringLockedError, KeyStoreError, NoKeyringError

log = logging.getLogger(__name__)

T = TypeVar("T")
KEYRING_SERVICE = "clerk-app"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
KEY_BYTES = 32
NO_KEYRING_DE = (
    "Kein Schlüsselspeicher verfügbar: Der Schlüssel des Melderegisters kann nicht sicher "
    "abgelegt werden. Abhilfe: (1) einen Secret Service (z. B. GNOME Keyring oder KWallet) "
    "einrichten, oder (2) in der Konfiguration „key_file“ auf eine Schlüsseldatei mit den "
    "Rechten 0600 setzen (Aufgabe der IT)."
)


def new_key() -> str:
    """A fresh random register key, as hex (SQLCipher takes it as a raw key, no KDF needed)."""
    return secrets.token_hex(KEY_BYTES)


def keyring_backend_name() -> str:
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


class KeyringState(Enum):
    """What the OS keyring is, asked without making it prompt (doctor, before every read)."""

    NONE = "none"          # no backend at all, or the Secret Service does not answer
    LOCKED = "locked"      # there, but its collection is locked
    UNLOCKED = "unlocked"  # there and readable


def _secret_service() -> Any | None:
    """The Secret Service backend in force (alone or in a chainer), or None."""
    backend = keyring.get_keyring()
    for candidate in [backend, *getattr(backend, "backends", ())]:
        if type(candidate).__module__ == "keyring.backends.SecretService":
            return candidate
    return None


def keyring_state() -> KeyringState:
    if isinstance(keyring.get_keyring(), fail.Keyring):
        return KeyringState.NONE
    service = _secret_service()
    if service is None:
        return KeyringState.UNLOCKED  # other backends (Windows, macOS) unlock with the login
    try:
        locked = _with_collection(service, lambda collection: bool(collection.is_locked()))
    except Exception as exc:  # no D-Bus, no service on it, no collection: no usable keyring
        log.info("Secret Service not usable: %s", type(exc).__name__)
        return KeyringState.NONE
    return KeyringState.LOCKED if locked else KeyringState.UNLOCKED


def _with_collection(service: Any, use: Callable[[Any], T]) -> T:
    """Run `use` on the backend's collection without unlocking it (keyring's own lookup
    would show the unlock prompt)."""
    import secretstorage

    bus = secretstorage.dbus_init()
    try:
        path = getattr(service, "preferred_collection", None) or DEFAULT_COLLECTION
        collection = secretstorage.Collection(bus, path)
        collection.is_locked()  # raises if there is no such collection
        return use(collection)
    finally:
        bus.close()


def unlock_keyring() -> bool:
    """Ask the keyring to unlock (the Secret Service shows its password prompt); True when
    it is unlocked afterwards. Blocks until the prompt is answered: call it from the UI thread
    only as the answer to the clerk's "Entsperren"."""
    service = _secret_service()
    if service is None:
        return keyring_state() is KeyringState.UNLOCKED
    try:
        _with_collection(service, lambda collection: collection.unlock())
    except Exception as exc:
        log.warning("keyring unlock failed: %s", type(exc).__name__)
    return keyring_state() is KeyringState.UNLOCKED


def locked_error(what: str) -> KeyringLockedError:
    """The clerk's message for a locked keyring; `what` names the secret ("der Schlüssel des
    Melderegisters")."""
    can_prompt = _secret_service() is not None
    return KeyringLockedError(
        f"Der Schlüsselspeicher ist gesperrt, deshalb kann {what} nicht gelesen werden. "
        "Abhilfe: den Schlüsselbund mit dem Kennwort der Anmeldung entsperren"
        + (" (Schaltfläche „Entsperren“)" if can_prompt else "")
        + " und erneut versuchen; lässt er sich nicht entsperren, die IT anrufen.",
        "the keyring is locked", can_prompt=can_prompt)


def demo_key_path(cfg: Config) -> Path:
    """The demo register's key file, beside it: synthetic data only, so no keyring needed."""
    return cfg.register_path.with_suffix(".key")


def load_or_create_key(cfg: Config, *, create: bool) -> str:
    """The key for `cfg.register_path`: demo key file, IT's key file, or the OS keyring."""
    if cfg.is_demo:
        return file_key(demo_key_path(cfg), create=create)
    if cfg.key_file:
        return file_key(Path(cfg.key_file), create=create)
    return _keyring_key(register_account(cfg), create=create)


def register_account(cfg: Config) -> str:
    """The register key's account name in the keyring: the register file's full path."""
    return str(cfg.register_path.resolve())


def key_exists(cfg: Config) -> bool:
    """Whether the register's key is there, never creating it. Raises the keyring's own error
    when the keyring cannot be asked (none, locked)."""
    try:
        load_or_create_key(cfg, create=False)
    except KeyMissingError:
        return False
    return True


def key_location_de(cfg: Config) -> str:
    """Where the register key lives, for messages: "Schlüsseldatei …" or the keyring."""
    if cfg.is_demo:
        return f"Schlüsseldatei {demo_key_path(cfg)}"
    if cfg.key_file:
        return f"Schlüsseldatei {cfg.key_file}"
    return "im Schlüsselspeicher"


CENTRAL_KEY_ENV = "CLERK_APP_CENTRAL_KEY"


def central_key(cfg: Config, database: Path) -> str:
    """The key of the central service's embedded (SQLite) database, handled as a register key:
    the environment (`CLERK_APP_CENTRAL_KEY`, for a container's secret), IT's
    `central_key_file`, the demo's file beside the database, or the OS keyring. A key is made
    only for a new database: one made for an existing database whose key is missing (not
    restored yet, a secret not mounted yet) could never open it, and would stand where the
    real key belongs."""
    from_env = os.environ.get(CENTRAL_KEY_ENV, "").strip()
    if from_env:
        return from_env
    create = not database.exists()
    if cfg.central_key_file:
        return file_key(Path(cfg.central_key_file), create=create)
    if cfg.is_demo:
        return file_key(database.with_name(database.name + ".key"), create=create)
    return _keyring_key(f"central:{database.resolve()}", create=create)


def _keyring_key(account: str, *, create: bool) -> str:
    return keyring_secret(
        account,
        unusable=NoKeyringError(NO_KEYRING_DE,
                                "no usable keyring backend and no key_file configured"),
        missing=KeyMissingError(
            "Für dieses Melderegister ist kein Schlüssel im Schlüsselspeicher hinterlegt.",
            "no key for this register in the keyring"),
        what="der Schlüssel des Melderegisters",
        generate=new_key if create else None)


def keyring_secret(account: str, *, unusable: KeyStoreError, missing: KeyStoreError,
                   what: str, generate: Callable[[], str] | None = None) -> str:
    """A secret of this app from the OS keyring (register key, seal key, device token); with
    `generate`, one is made and stored when there is none. `unusable` and `missing` are what
    the caller's clerk is told when no keyring works or the secret is not there; a locked
    keyring is said as such (`locked_error(what)`), never by a prompt out of nowhere."""
    _require_open_keyring(unusable, what)
    try:
        secret = keyring.get_password(KEYRING_SERVICE, account)
        if secret is None and generate is not None:
            secret = generate()
            keyring.set_password(KEYRING_SERVICE, account, secret)
            log.info("generated a new secret and stored it in the keyring")
    except keyring.errors.KeyringLocked as exc:
        raise locked_error(what) from exc
    except keyring.errors.KeyringError as exc:
        raise NoKeyringError(unusable.message_de, f"keyring failed: {exc}") from exc
    if not secret:
        raise missing
    return secret


def store_keyring_secret(account: str, secret: str, *, unusable: KeyStoreError,
                         what: str) -> None:
    """Put (or replace) a secret of this app in the OS keyring."""
    _require_open_keyring(unusable, what)
    try:
        keyring.set_password(KEYRING_SERVICE, account, secret)
    except keyring.errors.KeyringLocked as exc:
        raise locked_error(what) from exc
    except keyring.errors.KeyringError as exc:
        raise NoKeyringError(unusable.message_de, f"keyring failed: {exc}") from exc


def _require_open_keyring(unusable: KeyStoreError, what: str) -> None:
    state = keyring_state()
    if state is KeyringState.NONE:
        raise unusable
    if state is KeyringState.LOCKED:
        raise locked_error(what)


def file_key(path: Path, *, create: bool) -> str:
    """A key kept in a file of mode 0600 (made with `create` when missing)."""
    if not path.exists():
        if not create:
            raise KeyMissingError(
                f"Die Schlüsseldatei {path} fehlt.", f"key file {path} is missing")
        return _create_key_file(path)
    key = read_secret_file(path)
    if len(key) != 2 * KEY_BYTES or any(c not in "0123456789abcdef" for c in key):
        raise KeyStoreError(
            f"Die Schlüsseldatei {path} enthält keinen gültigen Schlüssel.",
            f"key file {path} does not hold a valid key")
    return key


def read_secret_file(path: Path) -> str:
    """A secret kept in a file (key, token): refused unless only its owner can read it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise KeyStoreError(
            f"Die Schlüsseldatei {path} ist für andere lesbar (Rechte {mode:o}); "
            "erlaubt sind nur 0600.",
            f"key file {path} has mode {mode:o}, must be 0600",
        )
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyStoreError(
            f"Die Schlüsseldatei {path} kann nicht gelesen werden.",
            f"cannot read key file {path}: {exc}") from exc


def write_secret_file(path: Path, secret: str, *, replace: bool = False) -> None:
    """Write a secret into a new file of mode 0600 (never briefly readable by others)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret + "\n")
    except OSError as exc:
        raise KeyStoreError(
            f"Die Schlüsseldatei {path} kann nicht angelegt werden ({exc.strerror}).",
            f"cannot create key file {path}: {exc}") from exc


def _create_key_file(path: Path) -> str:
    key = new_key()
    write_secret_file(path, key)
    log.info("created key file %s", path)
    return key
