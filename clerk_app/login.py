"""Logging a clerk in at the workstation, online or offline, and unlocking a locked window.

Online, the central service checks the password, the account (enabled, bound to data secrecy
under § 7 BMG) and throttles failures; it answers with the clerk's roles and a clerk session
bound to this device. The sync layer does that call (`sync.clerk_login`, found through the
entry point group `clerk_app.login`, since the core does no network). After every online
login the workstation caches what the centre confirmed, with an argon2id verifier of the
password, in the encrypted register: a mobile-office clerk can then log in offline for
`offline_login_days`. The operating system's user name plays no part.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from typing import Protocol

from clerk_app.clerks import TEAMLEITUNG, Actor, demo_actor
from clerk_app.config import Config
from clerk_app.errors import ClerkError, FormError
from clerk_app.passwords import check_new_password, make_verifier, verify_password
from clerk_app.store.db import Store

log = logging.getLogger(__name__)

LOGIN_PLUGIN_GROUP = "clerk_app.login"


class LoginRefused(ClerkError):
    """Wrong name or password, a disabled or locked account, an expired offline login."""


class CentralUnreachable(ClerkError):
    """The online login could not ask the central service (offline login may follow)."""


@dataclass(frozen=True)
class OnlineAccount:
    """What the central service confirmed at a login: who, which roles, and the session."""

    login: str
    display_name: str
    roles: tuple[str, ...]
    session_token: str
    must_change_password: bool = False


@dataclass(frozen=True)
class ClerkSession:
    """A logged-in clerk at this workstation: the `Actor` every Store of the session works
    as; `token` is the central clerk session (None offline or in demo mode)."""

    actor: Actor
    token: str | None = None
    online: bool = False
    must_change_password: bool = False

    @property
    def login(self) -> str:
        return self.actor.clerk


class OnlineLogin(Protocol):
    """(cfg, login, password, new password or None) -> the account; raises
    CentralUnreachable or LoginRefused."""

    def __call__(self, cfg: Config, login: str, password: str,
                 new_password: str | None = None) -> OnlineAccount: ...


def online_login_plugin() -> OnlineLogin | None:
    for plugin in entry_points(group=LOGIN_PLUGIN_GROUP):
        found: OnlineLogin = plugin.load()
        return found
    return None


def demo_session(cfg: Config) -> ClerkSession:
    return ClerkSession(demo_actor(cfg.workstation))


def log_in(cfg: Config, store: Store, login: str, password: str, *,
           new_password: str | None = None, online: OnlineLogin | None = None,
           now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ClerkSession:
    """Log `login` in: at the central service if it is configured and reachable, else
    against the verifier cached at the last online login (if not older than allowed).

    A session with `must_change_password` (first login, reset) is no session yet: log in
    again with `new_password`, which only the centre accepts."""
    login = login.strip().lower()
    if not login or not password:
        raise LoginRefused("Bitte Anmeldenamen und Passwort eingeben.", "empty login")
    if new_password is not None:
        check_new_password(new_password, login)
    online = online or (online_login_plugin() if cfg.central_url else None)
    if online is not None:
        try:
            account = online(cfg, login, password, new_password)
        except CentralUnreachable as exc:
            if new_password is not None:
                raise
            log.info("online login not possible, trying offline: %s", exc.message_en)
        else:
            if not account.must_change_password:
                _cache(store, account, new_password or password, now())
            return ClerkSession(Actor(account.login, cfg.workstation, account.roles,
                                      account.display_name),
                                token=account.session_token, online=True,
                                must_change_password=account.must_change_password)
    return _offline(cfg, store, login, password, now())


def _cache(store: Store, account: OnlineAccount, password: str, at: datetime) -> None:
    verifier = make_verifier(password)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO clerk_logins (login, display_name, roles, verifier, online_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (login) DO UPDATE SET "
            "display_name = excluded.display_name, roles = excluded.roles, "
            "verifier = excluded.verifier, online_at = excluded.online_at",
            (account.login, account.display_name, json.dumps(list(account.roles)), verifier,
             at.isoformat(timespec="seconds")))


def forget(store: Store, login: str) -> None:
    """Drop a clerk's cached login (the centre disabled the account or reset its password)."""
    with store.transaction():
        store.conn.execute("DELETE FROM clerk_logins WHERE login = ?", (login,))


def _offline(cfg: Config, store: Store, login: str, password: str,
             at: datetime) -> ClerkSession:
    row = store.conn.execute("SELECT display_name, roles, verifier, online_at "
                             "FROM clerk_logins WHERE login = ?", (login,)).fetchone()
    if row is None or not verify_password(str(row[2]), password):
        raise LoginRefused(
            "Anmeldename oder Passwort ist falsch." if cfg.central_url or row is not None else
            "Anmeldung nicht möglich: Dieser Arbeitsplatz hat keine Verbindung zur Zentrale, "
            "und für diesen Namen gibt es hier keine frühere Anmeldung.",
            "offline login refused: unknown clerk or wrong password")
    valid_until = datetime.fromisoformat(str(row[3])) + timedelta(days=cfg.offline_login_days)
    if at > valid_until:
        raise LoginRefused(
            f"Die Offline-Anmeldung ist abgelaufen (letzte Anmeldung an der Zentrale vor mehr "
            f"als {cfg.offline_login_days} Tagen). Bitte einmal mit Verbindung zur Zentrale "
            "anmelden.", "offline login expired")
    return ClerkSession(Actor(login, cfg.workstation, tuple(json.loads(str(row[1]))),
                              str(row[0])))


def unlock(store: Store, actor: Actor, password: str) -> bool:
    """True if `password` is the locked window's clerk's (checked against the verifier cached
    at the login: unlocking works offline and never lets another clerk in)."""
    if actor.demo:
        return True
    row = store.conn.execute("SELECT verifier FROM clerk_logins WHERE login = ?",
                             (actor.clerk,)).fetchone()
    return row is not None and verify_password(str(row[0]), password)


DEMO_TEAMLEITUNG = "demo-teamleitung"


def confirm_second_clerk(store: Store, login: str, password: str, permission: str) -> Actor:
    """A second clerk's confirmation at this workstation (four eyes: a cash difference):
    another clerk than the logged-in one, whose password matches the verifier of their last
    login here and whose roles grant `permission`. Problems are field errors of the form
    (`confirm_login`, `confirm_password`). In demo mode the demo Teamleitung confirms
    without a password."""
    login = login.strip().lower()
    if not login:
        raise FormError({"confirm_login": "Bitte die bestätigende Person (Teamleitung) "
                                          "anmelden lassen."})
    if login == store.actor.clerk:
        raise FormError({"confirm_login": "Die Bestätigung muss eine zweite Person geben."})
    if store.actor.demo and login == DEMO_TEAMLEITUNG:
        return Actor(login, store.actor.workstation, (TEAMLEITUNG,), "Demo-Teamleitung",
                     demo=True)
    row = store.conn.execute("SELECT display_name, roles, verifier FROM clerk_logins "
                             "WHERE login = ?", (login,)).fetchone()
    if row is None or not verify_password(str(row[2]), password):
        raise FormError({"confirm_password": "Anmeldename oder Passwort der bestätigenden "
                                             "Person ist falsch."})
    actor = Actor(login, store.actor.workstation, tuple(json.loads(str(row[1]))), str(row[0]))
    if not actor.may(permission):
        raise FormError({"confirm_login": f"{actor.name} hat nicht die Rolle, das zu "
                                          "bestätigen (Teamleitung)."})
    return actor
