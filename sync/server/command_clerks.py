"""Whose command is it, and may that clerk run it? Checked on every replay at the centre.

The centre records each command's clerk as the clerk session of the push proved it
(`clerk_claimed` = 0), or as the workstation claimed it (a command made offline by a clerk who
has logged out since) and marked so. Either way the clerk must be an enabled central account
whose roles grant the service's permission (`clerk_app.clerks`): the workstation's own check
is repeated here, since a workstation could be tampered with. A centre without any clerk
account (a fresh installation before its first account, the sync's own tests) records the
clerk as claimed and checks nothing.
"""

from __future__ import annotations

import json

from clerk_app.clerks import CASH_CONFIRM_DIFFERENCE, CONFLICT_RESOLVE, Actor
from clerk_app.services.runner import SERVICES
from sync.protocol import ARCHIVE_COMMAND, RESOLUTION_COMMAND, Command
from sync.server.storage import Tx


class CommandClerks:
    """The clerks of one push batch, read once each."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.active = bool(tx.execute("SELECT 1 FROM clerks LIMIT 1"))
        self._actors: dict[str, Actor | None] = {}

    def actor(self, login: str, device: str) -> Actor | None:
        if login not in self._actors:
            rows = self.tx.execute("SELECT display_name, roles, enabled, secrecy_date "
                                   "FROM clerks WHERE login = ?", (login,))
            self._actors[login] = Actor(login, device, tuple(json.loads(rows[0][1])),
                                        str(rows[0][0])) \
                if rows and rows[0][2] and rows[0][3] else None
        return self._actors[login]

    def refusal(self, command: Command) -> str | None:
        """Why the command's clerk may not run it (German, for the Klärfall), or None."""
        if not self.active or command.type == ARCHIVE_COMMAND:
            return None  # an archived file belongs to a document whose command was checked
        permission = CONFLICT_RESOLVE if command.type == RESOLUTION_COMMAND else \
            getattr(SERVICES.get(command.type), "permission", None)
        actor = self.actor(command.clerk, command.device)
        if actor is None:
            return (f"Der Auftrag nennt als Sachbearbeitung „{command.clerk}“; dieses Konto ist "
                    "der Zentrale nicht bekannt, deaktiviert oder nicht auf das Datengeheimnis "
                    "verpflichtet.")
        if permission is None or not actor.may(permission):
            return (f"Die Rolle von „{command.clerk}“ erlaubt diesen Auftrag nicht "
                    f"(Recht „{permission}“ fehlt).")
        confirmer = command.payload.get("confirmed_by")  # four eyes: a cash difference
        if confirmer:
            second = self.actor(str(confirmer), command.device)
            if second is None or second.clerk == actor.clerk or \
                    not second.may(CASH_CONFIRM_DIFFERENCE):
                return (f"Die Bestätigung durch „{confirmer}“ ist nicht gültig (zweite Person "
                        "mit der Rolle Teamleitung nötig).")
        return None
