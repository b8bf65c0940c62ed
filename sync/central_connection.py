"""A connection to the configured central service, with this workstation's token.

Every contact with the centre goes through `connect`, and every client it makes destroys the
workstation's register the moment any answer says the workstation was withdrawn (the sync, the
queue panel's feed, the inbox, the clerk login alike); front ends that must then show only the
notice listen with `clerk_app.withdrawal.when_withdrawn`.
"""

from __future__ import annotations

from clerk_app.config import Config
from clerk_app.errors import ConfigError
from clerk_app.withdrawal import withdraw
from sync.client import CentralClient
from sync.credentials import forget_token, load_token


def require_url(cfg: Config) -> str:
    if not cfg.central_url:
        raise ConfigError("Es ist keine Zentrale eingerichtet (central_url); der Arbeitsplatz "
                          "arbeitet nur offline.", "central_url is not configured")
    return cfg.central_url


def withdraw_on_revocation(cfg: Config) -> None:
    """The centre said this workstation is withdrawn: forget its token, destroy its register
    key, register, drafts and printouts (`clerk_app.withdrawal`, which then tells its
    listeners). The key goes first, so a register still open elsewhere is unreadable at once;
    files that could not be deleted while open go at the next start."""
    forget_token(cfg)
    withdraw(cfg)


def connect(cfg: Config, clerk_session: str | None = None) -> CentralClient:
    """A client with this workstation's device token (and the logged-in clerk's session, if
    any: the centre records that clerk for the commands the clerk made) that withdraws the
    workstation at the first answer saying so."""
    return CentralClient(require_url(cfg), load_token(cfg), ca_bundle=cfg.ca_bundle or None,
                         clerk_session=clerk_session,
                         on_revoked=lambda: withdraw_on_revocation(cfg))
