"""Which key this office seals with: the key the central service issued to the office
(`clerk_app.office_keys`, received at enrolment and each sync) or, without one (the demo, a
workstation not yet enrolled), the workstation's own key (`clerk_app.seal`).

Kept apart from `clerk_app.seal` (the keys and the cryptography) so that the office keys'
list, which builds on the seal's types, and the choice between the two do not import each
other.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.office_keys import issued_seal_key, stored_list
from clerk_app.seal import (
    SealError,
    SealKey,
    key_id,
    load_seal_key,
    local_seal_check,
    parse_public_key,
    publish_public_key,
)

if TYPE_CHECKING:
    from clerk_app.self_test import Check
    from clerk_app.store.db import Store

log = logging.getLogger(__name__)


def office_seal(cfg: Config, store: Store) -> SealKey:
    """The key this workstation seals with, created on first use and published.

    The office key the central service issued (`office_keys`, received at enrolment and
    each sync) comes first; a key no longer valid is refused, not used. Without one (the demo,
    a workstation not yet enrolled) the local key, which is refused (SealError) when IT
    configured the office's public key and this one is another: its seals would not verify
    elsewhere.
    """
    issued = issued_seal_key(store)
    if issued is not None:
        sealer, entry = issued
        problem = entry.problem_on(datetime.now().astimezone().date())
        if problem is not None:
            raise SealError(f"{problem} Dokumente werden nicht gesiegelt. Bitte mit der "
                            "Zentrale abgleichen oder die IT verständigen.",
                            f"issued seal key {entry.key_id} is not valid today")
        publish_public_key(store, sealer)
        return sealer
    key = load_seal_key(cfg, create=True)
    if cfg.seal_public_key:
        expected = parse_public_key(cfg.seal_public_key)
        if key_id(expected) != key.key_id:
            raise SealError(
                "Der Siegelschlüssel dieses Arbeitsplatzes passt nicht zum konfigurierten "
                f"öffentlichen Schlüssel (Schlüssel-ID {key.key_id}, erwartet "
                f"{key_id(expected)}). Dokumente werden nicht gesiegelt. Bitte die IT "
                "verständigen.",
                f"seal key {key.key_id} does not match configured seal_public_key "
                f"{key_id(expected)}")
    publish_public_key(store, key)
    return key


def seal_check(cfg: Config) -> Check:
    """One `clerk-app doctor` line: the office key the central service issued (key id,
    validity), else this workstation's own seal key (`clerk_app.seal.local_seal_check`)."""
    return _issued_key_check(cfg) or local_seal_check(cfg)


def _issued_key_check(cfg: Config) -> Check | None:
    """The doctor line for a key the central service issued, or None if there is none."""
    from clerk_app.clerks import system_actor
    from clerk_app.self_test import Check
    from clerk_app.store.opening import open_register

    if not cfg.register_path.exists():
        return None
    try:
        with open_register(cfg, system_actor("doctor", cfg.workstation)) as store:
            issued = issued_seal_key(store)
            listed = stored_list(store) if issued is not None else None
    except ClerkError as exc:
        log.info("register not readable for the seal check: %s", exc.message_en)
        return None
    if issued is None:
        return None
    sealer, entry = issued
    problem = entry.problem_on(datetime.now().astimezone().date())
    detail = (f"Dienstsiegelschlüssel {sealer.key_id} des Bürgerbüros {entry.office_id} von "
              f"der Zentrale, gültig ab {entry.valid_from.isoformat()}, SHA-256 "
              f"{sealer.fingerprint}; Schlüsselliste mit {len(listed.keys) if listed else 0} "
              "Schlüsseln")
    if problem is not None:
        return Check("document seal", False,
                     f"{detail}; heute NICHT gültig (widerrufen oder abgelaufen): Dokumente "
                     "werden erst wieder gesiegelt, wenn der nächste Abgleich den neuen "
                     "Schlüssel bringt")
    return Check("document seal", True, detail)
