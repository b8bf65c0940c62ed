"""The two ways a call to the central service fails, told apart because the sync treats them
differently (and kept light: the window catches them without loading the HTTP client)."""

from __future__ import annotations

from clerk_app.errors import ClerkError


class CentralUnavailable(ClerkError):
    """The central service cannot be reached now; the work waits in the outbox."""


class CentralRefused(ClerkError):
    """The central service refused the request; retrying will not help."""


class DeviceRevoked(CentralRefused):
    """IT withdrew this workstation centrally (lost or stolen): it destroys what it holds
    (`clerk_app.withdrawal`)."""


class TooLarge(CentralRefused):
    """The request's body is larger than the central service takes (413): sent in smaller
    parts, or, one command alone, set aside as a Klärfall (never sent again and again)."""
