"""A clerk's online login at the central service, for the core's login (`clerk_app.login`).

Plugged in through the entry point group `clerk_app.login`: the core does no network. A
refusal (wrong password, locked, throttled, no secrecy binding) is final for this attempt;
only an unreachable centre lets the core fall back to the offline verifier. The login is a
contact with the centre like a sync: if the centre answers that this workstation was withdrawn,
its register is destroyed here and then (a stolen workstation gets no further than the login).
"""

from __future__ import annotations

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.login import CentralUnreachable, LoginRefused, OnlineAccount
from clerk_app.withdrawal import withdrawn_error
from sync.central_connection import connect, withdraw_on_revocation
from sync.central_errors import CentralRefused, CentralUnavailable, DeviceRevoked


def online_login(cfg: Config, login: str, password: str,
                 new_password: str | None = None) -> OnlineAccount:
    """Log in at the centre (with `new_password`: replace a one-time password on the way)."""
    try:
        client = connect(cfg)
    except ClerkError as exc:  # not enrolled, bad URL: nothing to ask
        raise CentralUnreachable(exc.message_de, exc.message_en) from exc
    try:
        answer = client.clerk_login(login, password, new_password)
    except CentralUnavailable as exc:
        raise CentralUnreachable(exc.message_de, exc.message_en) from exc
    except DeviceRevoked as exc:
        withdraw_on_revocation(cfg)
        raise withdrawn_error() from exc
    except CentralRefused as exc:
        raise LoginRefused(exc.message_de, exc.message_en) from exc
    finally:
        client.close()
    return OnlineAccount(answer.login, answer.display_name, tuple(answer.roles),
                         answer.session_token or "", answer.must_change_password)
