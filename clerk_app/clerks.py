"""Who works with the register, and what they may do: clerks, roles and permissions.

The BMG allows retrieval from the register only by authorised staff bound to data secrecy
(§§ 7, 39). The core therefore never asks the operating system who is at the keyboard: the
clerk is the `Actor` of a logged-in clerk session (see `clerk_app.login`), and every service
and read names the permission it needs (`require`). Roles are data (`resources/roles.toml`);
hiding a button in the window is only a courtesy, the refusal is here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from clerk_app.errors import ClerkError, ConfigError

ROLES_PACKAGE = "resources"
ROLES_FILE = "roles.toml"

# Permissions the core itself checks (the roles file may grant only known ones).
PERSON_SEARCH = "person.search"
PERSON_READ = "person.read"
REGISTRATION = "registration"
CERTIFICATES = "certificates"
PAYMENT = "payment"
DOCUMENT_REPRINT = "document.reprint"
CONFLICT_RESOLVE = "conflict.resolve"
CASH_STORNO = "cash.storno"
CASH_CLOSE_DAY = "cash.close_day"
CASH_REOPEN_DAY = "cash.reopen_day"
CASH_CONFIRM_DIFFERENCE = "cash.confirm_difference"
WORK_REASSIGN = "work.reassign"
ACCESS_LOG_READ = "access_log.read"
CLERKS_MANAGE = "clerks.manage"
DEVICES_MANAGE = "devices.manage"
PERMISSIONS = frozenset({
    PERSON_SEARCH, PERSON_READ, REGISTRATION, CERTIFICATES, PAYMENT, DOCUMENT_REPRINT,
    CONFLICT_RESOLVE, CASH_STORNO, CASH_CLOSE_DAY, CASH_REOPEN_DAY, CASH_CONFIRM_DIFFERENCE,
    WORK_REASSIGN, ACCESS_LOG_READ, CLERKS_MANAGE, DEVICES_MANAGE})

SACHBEARBEITUNG = "sachbearbeitung"
KASSE = "kasse"
TEAMLEITUNG = "teamleitung"
DATENSCHUTZ = "datenschutz"
ADMINISTRATION = "administration"

DEMO_CLERK = "demo"


class PermissionDenied(ClerkError):
    """The logged-in clerk's roles do not allow this service, read or screen."""


@dataclass(frozen=True)
class Role:
    key: str
    name: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class RoleBook:
    """The roles file, read and checked: roles by key, and each screen's permission."""

    roles: dict[str, Role]
    screens: dict[str, str]

    def permissions(self, role_keys: tuple[str, ...]) -> frozenset[str]:
        granted: set[str] = set()
        for key in role_keys:
            role = self.roles.get(key)
            if role is not None:
                granted |= role.permissions
        return frozenset(granted)

    def names(self, role_keys: tuple[str, ...]) -> str:
        return ", ".join(self.roles[k].name if k in self.roles else k for k in role_keys)


@cache
def role_book() -> RoleBook:
    """The packaged roles file, read and checked once per process."""
    path = resources.files(ROLES_PACKAGE).joinpath(ROLES_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("Die Rollendatei roles.toml ist nicht lesbar. Bitte die IT "
                          "verständigen.", f"roles file unreadable: {exc}") from exc
    roles: dict[str, Role] = {}
    for key, spec in data.get("roles", {}).items():
        granted = frozenset(spec.get("permissions", []))
        unknown = granted - PERMISSIONS
        if unknown:
            raise ConfigError(f"Die Rolle „{key}“ nennt unbekannte Rechte: "
                              f"{', '.join(sorted(unknown))}.",
                              f"role {key!r} grants unknown permissions {sorted(unknown)}")
        roles[key] = Role(key, str(spec.get("name", key)), granted)
    screens = {str(k): str(v) for k, v in data.get("screens", {}).items()}
    return RoleBook(roles, screens)


def role_keys() -> tuple[str, ...]:
    return tuple(role_book().roles)


def check_roles(keys: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Role keys as given by an administrator, each checked against the roles file."""
    known = role_book().roles
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ConfigError(f"Unbekannte Rolle: {', '.join(unknown)} (bekannt: "
                          f"{', '.join(known)}).", f"unknown roles {unknown}")
    return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class Actor:
    """The clerk of a logged-in session at one workstation: written into every audit entry,
    command, document and payment, and asked before every service and read."""

    clerk: str
    workstation: str
    roles: tuple[str, ...] = ()
    display_name: str = ""
    demo: bool = False

    @property
    def name(self) -> str:
        """What documents print as the issuing clerk."""
        return self.display_name or self.clerk

    @property
    def permissions(self) -> frozenset[str]:
        return role_book().permissions(self.roles)

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    def may_see(self, screen: str) -> bool:
        needed = role_book().screens.get(screen)
        return needed is None or self.may(needed)

    def require(self, permission: str) -> None:
        """Refuse (PermissionDenied) unless one of the clerk's roles grants `permission`."""
        if not self.may(permission):
            raise PermissionDenied(
                f"Ihre Rolle ({role_book().names(self.roles) or 'keine'}) erlaubt das nicht "
                f"(Recht „{permission}“ fehlt). Bitte die Teamleitung oder die Administration "
                "ansprechen.",
                f"clerk lacks permission {permission!r}")


def demo_actor(workstation: str) -> Actor:
    """The one demo clerk: no password, every role, so every screen can be shown."""
    return Actor(DEMO_CLERK, workstation, roles=role_keys(),
                 display_name="Erika Mustermann (Demo)", demo=True)


def system_actor(task: str, workstation: str) -> Actor:
    """A background task (the sync's own bookkeeping): named in the log, no permissions."""
    return Actor(f"system:{task}", workstation)
