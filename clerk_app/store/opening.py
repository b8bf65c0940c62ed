"""From configuration to an open register: the one way every front end opens its data.

The UI opens one `Store` per thread through `open_register`, so all of them agree on where the
file is, where its key comes from and who the actor in the audit log is.
"""

from __future__ import annotations

from pathlib import Path

from clerk_app.config import Config
from clerk_app.keys import demo_key_path, load_or_create_key
from clerk_app.offline_lease import LeaseExpired, check_lease
from clerk_app.store.db import Actor, Store, open_store
from clerk_app.withdrawal import check_not_withdrawn


def actor_of(cfg: Config) -> Actor:
    return Actor(clerk=cfg.clerk, workstation=cfg.workstation)


def register_exists(cfg: Config) -> bool:
    return cfg.register_path.exists()


def open_register(cfg: Config, *, create: bool = False, for_sync: bool = False) -> Store:
    """Unlock and open the configured register (creating file and key only when asked);
    never on a withdrawn workstation (`clerk_app.withdrawal`), and after the offline lease
    ran out only `for_sync` (the sync, and its status, renew it: `clerk_app.offline_lease`)."""
    check_not_withdrawn(cfg)
    key = load_or_create_key(cfg, create=create and not cfg.register_path.exists())
    store = open_store(cfg.register_path, key, actor_of(cfg), create=create)
    if not for_sync:
        try:
            check_lease(cfg, store)
        except LeaseExpired:
            store.close()
            raise
    return store


def remove_demo_register(cfg: Config) -> None:
    """Delete the demo register with its WAL files and key, before building it anew."""
    if not cfg.is_demo:
        raise ValueError("only the demo register may be removed")
    path = cfg.register_path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    demo_key_path(cfg).unlink(missing_ok=True)
