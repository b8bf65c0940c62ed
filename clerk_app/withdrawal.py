"""A withdrawn workstation: IT took it out of the sync centrally (lost, stolen, retired).

At its next contact the central service answers its token with `device_revoked`; the
workstation then destroys what it holds: first the register key (without it the encrypted
register, and the drafts kept in it, are unreadable at once: crypto-shredding, which holds even
where a file cannot be deleted now), then the register file with its WAL, and the printouts
folder. A marker file in the data folder (a date, nothing personal) keeps it withdrawn: no
front end opens a register again (`check_not_withdrawn`, called by
`clerk_app.store.opening.open_register`), and the window shows only the German notice.

The core does this without any network: the sync layer decides when (see
`sync.central_connection.withdraw_on_revocation`).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import keyring
import keyring.errors

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.keys import KEYRING_SERVICE, KeyringState, demo_key_path, keyring_state

log = logging.getLogger(__name__)

MARKER = "arbeitsplatz-zurueckgezogen"
PRINTOUTS_FOLDER = "ausdrucke"  # PDFs opened without a printer (ui.printing)
WITHDRAWN_DE = ("Dieser Arbeitsplatz wurde von der IT aus dem Abgleich mit der Zentrale "
                "genommen (zurückgezogen). Das Melderegister, die Entwürfe und die Ausdrucke "
                "auf diesem Gerät wurden gelöscht; es kann nicht mehr für Bürgerdienste "
                "benutzt werden. Bitte wenden Sie sich an die IT.")
WITHDRAWN_EN = ("This workstation was withdrawn from the sync with the central service by IT. "
                "The register, the drafts and the printouts on this device were deleted; it "
                "can no longer be used for citizens' services. Please contact IT.")


_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()


class WorkstationWithdrawn(ClerkError):
    """This workstation was withdrawn: nothing opens."""


def withdrawn_error() -> WorkstationWithdrawn:
    return WorkstationWithdrawn(WITHDRAWN_DE, WITHDRAWN_EN)


def marker_path(cfg: Config) -> Path:
    return cfg.data_path / MARKER


def is_withdrawn(cfg: Config) -> bool:
    return marker_path(cfg).exists()


def check_not_withdrawn(cfg: Config) -> None:
    """Raise `WorkstationWithdrawn` if it was; files a previous attempt could not delete
    (open elsewhere at the time) are deleted now."""
    if is_withdrawn(cfg):
        remove_local_data(cfg)
        raise withdrawn_error()


def withdraw(cfg: Config) -> None:
    """Mark the workstation withdrawn and destroy its register key; then delete the register
    and the printouts (what is still open elsewhere goes at the next start)."""
    cfg.data_path.mkdir(parents=True, exist_ok=True)
    marker_path(cfg).write_text(f"{datetime.now(UTC).isoformat(timespec='seconds')}\n",
                                encoding="ascii")
    log.warning("this workstation was withdrawn centrally: destroying its register")
    _destroy_key(cfg)
    remove_local_data(cfg)
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener()


def when_withdrawn(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` (in the thread that learnt it) after `withdraw`: a window whose sync
    did not make the contact (the queue panel's feed did, say) must still show only the
    notice. Returns what unsubscribes it."""
    with _listeners_lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)
    return unsubscribe


def _destroy_key(cfg: Config) -> None:
    if cfg.is_demo or cfg.key_file:
        _shred(demo_key_path(cfg) if cfg.is_demo else Path(cfg.key_file))
        return
    if keyring_state() is KeyringState.NONE:
        return
    try:
        keyring.delete_password(KEYRING_SERVICE, str(cfg.register_path.resolve()))
    except keyring.errors.PasswordDeleteError:
        pass  # none there
    except keyring.errors.KeyringError as exc:
        log.error("cannot delete the register key from the keyring: %s", exc)


def _shred(path: Path) -> None:
    """Overwrite a small secret file before deleting it."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.error("cannot destroy %s: %s", path.name, exc)


def remove_local_data(cfg: Config) -> None:
    """Delete the register (with WAL and shared memory) and the printouts folder."""
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{cfg.register_path}{suffix}")
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # Windows: still open; the key is gone, retried next start
            log.error("cannot delete %s yet: %s", path.name, exc)
    shutil.rmtree(cfg.data_path / PRINTOUTS_FOLDER, ignore_errors=True)
