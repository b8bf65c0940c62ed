"""The office seal key and the signed key list, from the central service to a workstation.

At enrolment and after every sync the workstation asks for its office's current seal key
(`GET /v1/office-key`) and the signed list of all office keys (`GET /v1/office-keys`), and
keeps both in its encrypted register (`clerk_app.office_keys`): after a rotation it seals
with the new key from its next sync on; after a revocation it stops sealing with the revoked
key, and `verify-document` knows which seals no longer count. Failing to refresh them never
fails a sync: the work is synced, the old key and list stay, the log says why.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.office_keys import store_issued_key, store_list
from clerk_app.seal import parse_public_key
from sync.central_errors import CentralRefused, CentralUnavailable

if TYPE_CHECKING:
    from clerk_app.store.db import Store
    from sync.client import CentralClient

log = logging.getLogger(__name__)


def receive_office_keys(cfg: Config, client: CentralClient, store: Store) -> str | None:
    """Fetch and keep this office's seal key and the key list; None when done, else why not
    (English, for the log; the caller goes on)."""
    try:
        grant = client.office_key(cfg.office_id)
        listing = client.office_key_list()
        trusted = parse_public_key(cfg.office_key_list_key) if cfg.office_key_list_key else None
        keys = store_list(store, listing.model_dump_json(), trusted)
        if keys.find(grant.key_id) is None:
            return f"issued seal key {grant.key_id} is not in the signed list: not used"
        store_issued_key(store, grant.entry(), grant.private_key)
    except (CentralUnavailable, CentralRefused, ClerkError) as exc:
        log.warning("office seal key not refreshed: %s", exc.message_en)
        return exc.message_en
    except (ValueError, KeyError) as exc:
        log.warning("office seal key not refreshed: bad answer (%s)", type(exc).__name__)
        return f"bad answer: {type(exc).__name__}"
    log.info("office seal key %s and the key list (%d keys) received", grant.key_id,
             len(keys.keys))
    return None
