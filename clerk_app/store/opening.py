"""From configuration to an open register: the one way every front end opens its data.

The UI opens one `Store` per thread through `open_register`, so all of them agree on where the
file is, where its key comes from and that the actor in the audit log is the logged-in clerk.
"""

from __future__ import annotations

from pathlib import Path

from clerk_app.clerks import PermissionDenied, demo_actor
from clerk_app.config import Config
from clerk_app.errors import KeyMissingError
from clerk_app.keys import demo_key_path, load_or_create_key
from clerk_app.offline_lease import LeaseExpired, check_lease
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.withdrawal import check_not_withdrawn


def actor_of(cfg: Config, actor: Actor | None) -> Actor:
    """The clerk who opens the register: the logged-in session's, or in demo mode the demo
    clerk. Never the operating system's login name (anyone can set $LOGNAME)."""
    if actor is not None:
        return actor
    if cfg.is_demo:
        return demo_actor(cfg.workstation)
    raise PermissionDenied("Bitte zuerst anmelden: das Melderegister wird nur für eine "
                           "angemeldete Sachbearbeiterin oder einen angemeldeten "
                           "Sachbearbeiter geöffnet.", "no clerk session")


def register_exists(cfg: Config) -> bool:
    return cfg.register_path.exists()


def open_register(cfg: Config, actor: Actor | None = None, *, create: bool = False,
                  for_sync: bool = False) -> Store:
    """Unlock and open the configured register for `actor` (the logged-in clerk; the demo
    clerk in demo mode), creating file and key only when asked (the demo register at first
    start; a production one is made by enrolment).

    A production register with a part missing is refused with what happened and what IT does
    next (`workstation.not_ready`), not with the first error that part happens to cause. Never
    on a withdrawn workstation (`clerk_app.withdrawal`), and after the offline lease ran out
    only `for_sync` (the sync, and its status, renew it: `clerk_app.offline_lease`).
    """
    check_not_withdrawn(cfg)
    if not cfg.is_demo and not create:
        key = _production_key(cfg)
    else:
        key = load_or_create_key(cfg, create=create and not cfg.register_path.exists())
    store = open_store(cfg.register_path, key, actor_of(cfg, actor), create=create)
    if not for_sync:
        try:
            check_lease(cfg, store)
        except LeaseExpired:
            store.close()
            raise
    return store


def _production_key(cfg: Config) -> str:
    """The key of an existing production register, or the error naming what is missing."""
    from clerk_app.store.workstation import RegisterState, not_ready, require_ready

    if not cfg.register_path.exists():
        require_ready(cfg)  # raises: not set up, or a key without its register
    try:
        return load_or_create_key(cfg, create=False)
    except KeyMissingError as exc:
        raise not_ready(cfg, RegisterState.REGISTER_WITHOUT_KEY) from exc


def remove_demo_register(cfg: Config) -> None:
    """Delete the demo register with its WAL files and key, before building it anew."""
    if not cfg.is_demo:
        raise ValueError("only the demo register may be removed")
    path = cfg.register_path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    demo_key_path(cfg).unlink(missing_ok=True)
