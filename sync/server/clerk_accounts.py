"""Clerk accounts at the central service: administration, login, throttling, clerk sessions.

An account has a login name, the display name printed on documents, roles
(`resources/roles.toml`), the date the clerk was bound to data secrecy (§ 7 BMG: no login
without it) and an argon2id verifier. A new or reset account has a one-time password that
must be replaced at the first login (min. 12 characters, not a common one).

Failed logins are throttled with a growing delay (1, 2, 4 … 60 s) and after
`LOCK_AFTER` failures the account is locked until an administrator resets it. All of that
state is in the database, never in the process: several service processes over one
PostgreSQL see the same counts. A successful login opens a clerk session bound to the
device that asked (its token is useless from another device), valid for `SESSION_HOURS`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from clerk_app.clerks import Actor, check_roles
from clerk_app.errors import ValidationError
from clerk_app.passwords import check_new_password, make_verifier, verify_password
from sync.server.central import CentralError
from sync.server.storage import Database, Tx

log = logging.getLogger(__name__)

LOCK_AFTER = 10
MAX_DELAY_SECONDS = 60
SESSION_HOURS = 12
ONE_TIME_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
# Checked when the login name is unknown, so that an unknown name costs as long as a known one.
_DUMMY_VERIFIER = make_verifier(secrets.token_hex(16))

WRONG_DE = "Anmeldename oder Passwort ist falsch."


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def one_time_password() -> str:
    """A password for the first login (read out or handed over on paper, then replaced)."""
    return "-".join("".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4))
                    for _ in range(4))


def delay_after(failures: int) -> int:
    """Seconds a login waits after `failures` failed attempts in a row: 0, 1, 2, 4 … 60."""
    return 0 if failures <= 0 else min(2 ** (failures - 1), MAX_DELAY_SECONDS)


@dataclass(frozen=True)
class Account:
    login: str
    display_name: str
    roles: tuple[str, ...]
    secrecy_date: str | None
    enabled: bool
    must_change: bool
    failed: int
    locked: bool

    def to_dict(self) -> dict[str, object]:
        return {"login": self.login, "display_name": self.display_name,
                "roles": list(self.roles), "secrecy_date": self.secrecy_date,
                "enabled": self.enabled, "must_change_password": self.must_change,
                "failed_logins": self.failed, "locked": self.locked}


@dataclass(frozen=True)
class LoginResult:
    """A login's answer: the account and, unless a new password is due first, a session."""

    account: Account
    session_token: str | None
    expires_at: str | None


COLUMNS = "login, display_name, roles, secrecy_date, enabled, must_change, failed, locked"


def _account(row: tuple[object, ...]) -> Account:
    login, name, roles, secrecy, enabled, must_change, failed, locked = row
    return Account(str(login), str(name), tuple(json.loads(str(roles))),
                   str(secrecy) if secrecy else None, bool(enabled), bool(must_change),
                   int(str(failed)), bool(locked))


class ClerkAccounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- administration ------------------------------------------------------------------

    def add(self, login: str, display_name: str, roles: list[str],
            secrecy_date: date | None) -> str:
        """A new account; returns its one-time password."""
        login = _check_login(login)
        if not display_name.strip():
            raise CentralError(422, "Bitte den Namen angeben, der auf Dokumenten steht.",
                               "display name missing")
        password = one_time_password()
        with self.db.transaction() as tx:
            # One statement: of two administrators adding the same login through two service
            # processes, one gets the account and the other this 409 (not a server error).
            if not tx.execute("INSERT INTO clerks (login, display_name, roles, secrecy_date, "
                              "verifier, changed_at) VALUES (?, ?, ?, ?, ?, ?) "
                              "ON CONFLICT (login) DO NOTHING RETURNING login",
                              (login, display_name.strip(), json.dumps(list(check_roles(roles))),
                               secrecy_date.isoformat() if secrecy_date else None,
                               make_verifier(password), _now().isoformat())):
                raise CentralError(409, f"Den Anmeldenamen „{login}“ gibt es schon.",
                                   "clerk login exists")
        log.info("clerk account added")
        return password

    def set_enabled(self, login: str, enabled: bool) -> None:
        with self.db.transaction() as tx:
            self._update(tx, login, "enabled = ?", (int(enabled),))
            if not enabled:
                tx.execute("DELETE FROM clerk_sessions WHERE login = ?", (login,))

    def reset(self, login: str) -> str:
        """A new one-time password; unlocks the account and ends its sessions."""
        password = one_time_password()
        with self.db.transaction() as tx:
            self._update(tx, login, "verifier = ?, must_change = 1, failed = 0, "
                                    "blocked_until = NULL, locked = 0",
                         (make_verifier(password),))
            tx.execute("DELETE FROM clerk_sessions WHERE login = ?", (login,))
        return password

    def set_roles(self, login: str, roles: list[str]) -> None:
        with self.db.transaction() as tx:
            self._update(tx, login, "roles = ?", (json.dumps(list(check_roles(roles))),))

    def set_secrecy_date(self, login: str, day: date) -> None:
        with self.db.transaction() as tx:
            self._update(tx, login, "secrecy_date = ?", (day.isoformat(),))

    def accounts(self) -> list[Account]:
        with self.db.transaction(write=False) as tx:
            return [_account(r) for r in
                    tx.execute(f"SELECT {COLUMNS} FROM clerks ORDER BY login")]

    def account(self, login: str) -> Account | None:
        with self.db.transaction(write=False) as tx:
            return self._get(tx, login)

    @staticmethod
    def _get(tx: Tx, login: str) -> Account | None:
        rows = tx.execute(f"SELECT {COLUMNS} FROM clerks WHERE login = ?", (login,))
        return _account(rows[0]) if rows else None

    @staticmethod
    def _update(tx: Tx, login: str, assignments: str, params: tuple[object, ...]) -> None:
        if not tx.execute("SELECT 1 FROM clerks WHERE login = ?", (login,)):
            raise CentralError(404, f"Den Anmeldenamen „{login}“ gibt es nicht.",
                               "unknown clerk login")
        tx.execute(f"UPDATE clerks SET {assignments}, changed_at = ? WHERE login = ?",
                   (*params, _now().isoformat(), login))

    def administer(self, action: str, login: str, display_name: str | None,
                   roles: list[str] | None, secrecy_date: date | None) -> str | None:
        """One administrator's change (the `clerk-app central clerks` commands and the
        Administration screen); a new or reset account's one-time password."""
        if action == "add":
            return self.add(login, display_name or "", roles or [], secrecy_date)
        if action in ("disable", "enable"):
            self.set_enabled(login, action == "enable")
        elif action == "reset":
            return self.reset(login)
        elif action == "roles":
            self.set_roles(login, roles or [])
        elif secrecy_date is not None:
            self.set_secrecy_date(login, secrecy_date)
        else:
            raise CentralError(422, "Bitte das Datum der Verpflichtung angeben.",
                               "secrecy date missing")
        return None

    # --- login -----------------------------------------------------------------------------

    def login(self, device_id: str, login: str, password: str,
              new_password: str | None = None) -> LoginResult:
        """Check a login from `device_id`; with `new_password`, replace a one-time password.

        The failure count and delay are read and written in one transaction (row lock on
        PostgreSQL), so parallel attempts in several processes are all counted.
        """
        login = login.strip().lower()
        now = _now()
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT verifier, blocked_until FROM clerks WHERE login = ?"
                              + (" FOR UPDATE" if self.db.dialect == "postgresql" else ""),
                              (login,))
            if not rows:
                verify_password(_DUMMY_VERIFIER, password)
                raise CentralError(401, WRONG_DE, "login refused")
            verifier, blocked_until = rows[0]
            account = self._get(tx, login)
            assert account is not None
            if account.locked:
                raise CentralError(423, "Das Konto ist nach zu vielen Fehlversuchen gesperrt. "
                                        "Die Administration kann es zurücksetzen.",
                                   "clerk account locked")
            if blocked_until and datetime.fromisoformat(str(blocked_until)) > now:
                wait = int((datetime.fromisoformat(str(blocked_until)) - now)
                           .total_seconds()) + 1
                raise CentralError(429, f"Zu viele Fehlversuche. Bitte {wait} Sekunden warten "
                                        "und erneut versuchen.", "login throttled")
            matches = verify_password(str(verifier), password)
            if not matches:
                failed = account.failed + 1
                locked = failed >= LOCK_AFTER
                tx.execute("UPDATE clerks SET failed = ?, blocked_until = ?, locked = ? "
                           "WHERE login = ?",
                           (failed, (now + timedelta(seconds=delay_after(failed))).isoformat(),
                            int(locked), login))
                log.warning("failed clerk login (%d in a row)%s", failed,
                            ", account locked" if locked else "")
        # The failure is committed above; the refusal goes out after the commit.
        if not matches:
            raise CentralError(401, WRONG_DE, "login refused")
        return self._open_session(device_id, account, password, new_password)

    def _open_session(self, device_id: str, account: Account, password: str,
                      new_password: str | None) -> LoginResult:
        if not account.enabled:
            raise CentralError(403, "Dieses Konto ist deaktiviert.", "clerk account disabled")
        if not account.secrecy_date:
            raise CentralError(403, "Anmeldung erst nach der Verpflichtung auf das "
                                    "Datengeheimnis (§ 7 BMG); bitte die Administration "
                                    "ansprechen.", "clerk not bound to data secrecy")
        now = _now()
        with self.db.transaction() as tx:
            tx.execute("UPDATE clerks SET failed = 0, blocked_until = NULL WHERE login = ?",
                       (account.login,))
            if account.must_change:
                if new_password is None:
                    return LoginResult(account, None, None)
                if new_password == password:
                    raise CentralError(422, "Das neue Passwort muss sich vom bisherigen "
                                            "unterscheiden.", "new password equals old one")
                try:
                    check_new_password(new_password, account.login)
                except ValidationError as exc:
                    raise CentralError(422, exc.message_de, exc.message_en) from exc
                tx.execute("UPDATE clerks SET verifier = ?, must_change = 0, changed_at = ? "
                           "WHERE login = ?",
                           (make_verifier(new_password), now.isoformat(), account.login))
                account = Account(**{**account.__dict__, "must_change": False})
            token = secrets.token_urlsafe(32)
            expires = (now + timedelta(hours=SESSION_HOURS)).isoformat()
            tx.execute("DELETE FROM clerk_sessions WHERE expires_at < ?", (now.isoformat(),))
            tx.execute("INSERT INTO clerk_sessions (token_sha256, login, device_id, created_at, "
                       "expires_at) VALUES (?, ?, ?, ?, ?)",
                       (_sha256(token), account.login, device_id, now.isoformat(), expires))
        return LoginResult(account, token, expires)

    def session_actor(self, device_id: str, token: str) -> Actor:
        """The clerk of a live session of this device (401 otherwise)."""
        with self.db.transaction(write=False) as tx:
            rows = tx.execute("SELECT login, device_id, expires_at FROM clerk_sessions "
                              "WHERE token_sha256 = ?", (_sha256(token),))
            account = self._get(tx, str(rows[0][0])) if rows else None
        if not rows or rows[0][1] != device_id or account is None or not account.enabled or \
                datetime.fromisoformat(str(rows[0][2])) < _now():
            raise CentralError(401, "Die Anmeldung ist abgelaufen; bitte erneut anmelden.",
                               "unknown, expired or foreign clerk session")
        return Actor(account.login, device_id, account.roles, account.display_name)

    def logout(self, device_id: str, token: str) -> None:
        """End the session, if this device opened it: a token that leaked to another
        workstation must not let that one log the clerk out (the answer is the same either
        way, so it does not tell whether the token is live)."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM clerk_sessions WHERE token_sha256 = ? AND device_id = ?",
                       (_sha256(token), device_id))


def _check_login(login: str) -> str:
    login = login.strip().lower()
    if not login or len(login) > 64 or not all(c.isalnum() or c in "._-" for c in login):
        raise CentralError(422, "Der Anmeldename darf nur Buchstaben, Ziffern, Punkt, "
                                "Binde- und Unterstrich enthalten.", "invalid clerk login")
    return login
