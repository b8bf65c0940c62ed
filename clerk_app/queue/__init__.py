"""Appointments and the waiting room: the visit model, its state machine, who is next, the
workstation's local queue, booking slots, statistics and anonymisation. See docs/queue.md.

No Qt, no network: the central service's shared queue (sync/server) and the workstation's
queue client (sync/queue_client.py) run these same rules.
"""
