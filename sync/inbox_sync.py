"""The inbox's part of a sync: queued claims and outcomes out, the office's items in.

Actions go first, in the order the clerks made them; the central service refusing one (another
clerk claimed the item first) settles it as refused and makes the pull start from the
beginning, so the central state replaces the local guess. The network failing ends the stage;
what is still queued goes next time.
"""

from __future__ import annotations

import logging

from clerk_app import inbox
from clerk_app.store.db import Store
from sync.central_errors import CentralRefused
from sync.client import CentralClient
from sync.fit_protocol import InboxClaim, InboxOutcome

log = logging.getLogger(__name__)
PAGE = 200


def exchange(store: Store, client: CentralClient) -> tuple[int, int]:
    """Send the queued actions, pull the items; returns (sent, pulled)."""
    sent = 0
    refused = False
    for action_id, submission_id, action, body in inbox.pending_actions(store):
        try:
            if action == "claim":
                client.inbox_claim(submission_id, InboxClaim.model_validate(body))
            else:
                client.inbox_outcome(submission_id, InboxOutcome.model_validate(body))
        except CentralRefused as exc:
            inbox.settle_action(store, action_id, exc.message_de)
            log.warning("inbox action %s refused by the central service", action)
            refused = True
            continue
        inbox.settle_action(store, action_id)
        sent += 1
    since = 0 if refused else inbox.last_seq(store)
    pulled = 0
    while True:
        page = client.inbox(since, PAGE)
        inbox.store_items(store, [item.model_dump() for item in page.items])
        pulled += len(page.items)
        if not page.items or page.high_water_mark <= since:
            return sent, pulled
        since = page.high_water_mark
