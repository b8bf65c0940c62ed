"""A connection to the configured central service, with this workstation's token."""

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
    key, register, drafts and printouts (`clerk_app.withdrawal`). Close the register first."""
    forget_token(cfg)
    withdraw(cfg)


def connect(cfg: Config, clerk_session: str | None = None) -> CentralClient:
    """A client with this workstation's device token (and the logged-in clerk's session, if
    any: the centre records that clerk for the commands the clerk made)."""
    return CentralClient(require_url(cfg), load_token(cfg), ca_bundle=cfg.ca_bundle or None,
                         clerk_session=clerk_session)
