"""Clerk identity and permissions in the core: every service and read refuses a clerk whose
roles lack its permission; the clerk never comes from the operating system; IT's config locks
hold against the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clerk_app import audit
from clerk_app.clerks import (
    ACCESS_LOG_READ,
    CONFLICT_RESOLVE,
    DEMO_CLERK,
    PERSON_READ,
    PERSON_SEARCH,
    Actor,
    PermissionDenied,
    demo_actor,
    role_book,
)
from clerk_app.config import load_config, parse_override
from clerk_app.errors import ConfigError
from clerk_app.ids import uuid7
from clerk_app.person_record import open_person
from clerk_app.search import search
from clerk_app.services.runner import SERVICES, run_service
from clerk_app.store.db import Store
from clerk_app.store.opening import open_register
from tests.factories import COUNTER_ROLES, add_person, make_cfg

ROOT = Path(__file__).resolve().parents[1]


def as_clerk(store: Store, *roles: str) -> Store:
    """The same register, used by a clerk with just these roles."""
    return Store(store.conn, store.path, Actor("ohnerecht", "Schalter 3", roles))


def without(permission: str) -> tuple[str, ...]:
    """Every role that does not grant `permission`."""
    return tuple(k for k, r in role_book().roles.items() if permission not in r.permissions)


@pytest.mark.parametrize("service_type", sorted(SERVICES))
def test_every_service_is_refused_without_its_permission(store: Store,
                                                         service_type: str) -> None:
    service = SERVICES[service_type]
    assert service.permission in role_book().permissions(COUNTER_ROLES) or \
        service_type.startswith("test_")
    clerk = as_clerk(store, *without(service.permission))
    with pytest.raises(PermissionDenied) as err:
        run_service(clerk, service_type, {}, uuid7())
    assert service.permission in err.value.message_de
    assert store.query("SELECT * FROM outbox") == []


def test_reads_are_refused_without_their_permission(store: Store) -> None:
    person = add_person(store, "Brandt", "Erika")
    with pytest.raises(PermissionDenied):
        open_person(as_clerk(store, *without(PERSON_READ)), person, "Auskunft")
    with pytest.raises(PermissionDenied):
        search(as_clerk(store, *without(PERSON_SEARCH)), "brandt")
    with pytest.raises(PermissionDenied):
        audit.access_history(as_clerk(store, *without(ACCESS_LOG_READ)), person, "Art. 15")
    from sync.engine import resolve_conflict

    with pytest.raises(PermissionDenied):
        resolve_conflict(as_clerk(store, *without(CONFLICT_RESOLVE)), "x", "local")
    # Nothing was read, so nothing was logged for the refused clerk.
    assert store.query("SELECT * FROM audit_log WHERE clerk = 'ohnerecht'") == []
    # With the role, the same reads work and are logged under the clerk's name.
    assert open_person(as_clerk(store, "sachbearbeitung"), person, "Auskunft").id == person
    history = audit.access_history(as_clerk(store, "datenschutz"), person, "Art. 15 DSGVO")
    assert [e["action"] for e in history] == ["access_log", "read"]


def test_a_clerk_without_roles_may_do_nothing() -> None:
    nobody = Actor("neu", "Schalter 3")
    assert nobody.permissions == frozenset()
    assert not nobody.may_see("registration")


def test_demo_clerk_has_every_role_and_says_demo() -> None:
    actor = demo_actor("Schalter 3")
    assert actor.demo and actor.clerk == DEMO_CLERK and "Demo" in actor.name
    assert set(actor.roles) == set(role_book().roles)


def test_production_refuses_to_open_the_register_without_a_logged_in_clerk(
        tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path / "data", mode="production", key_file=str(tmp_path / "k.key"))
    with pytest.raises(PermissionDenied):
        open_register(cfg, create=True)


def test_the_clerk_never_comes_from_the_environment(tmp_path: Path) -> None:
    """`LOGNAME=bmeier clerk-app search …` logs the logged-in (here: demo) clerk, not bmeier."""
    data = tmp_path / "data"
    cfg = make_cfg(data)
    with open_register(cfg, create=True) as store:
        person = add_person(store, "Brandt", "Erika")
    env = {**os.environ, "LOGNAME": "bmeier", "USER": "bmeier", "USERNAME": "bmeier",
           "CLERK_APP_DATA_DIR": str(data), "CLERK_APP_MACHINE_CONFIG": str(tmp_path / "m"),
           "CLERK_APP_USER_CONFIG": str(tmp_path / "u")}
    done = subprocess.run([sys.executable, "-m", "clerk_app", "--set", 'workstation="Schalter 3"',
                           "search", "brandt"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open_register(cfg) as store:
        rows = store.query("SELECT clerk, action, person_id FROM audit_log")
    assert rows == [{"clerk": DEMO_CLERK, "action": "search", "person_id": person}]
    assert "bmeier" not in done.stdout + done.stderr


def test_production_command_line_asks_for_a_login(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('mode = "production"\n', encoding="utf-8")
    from clerk_app.config import load_config
    from clerk_app.store.workstation import create_register

    # A workstation set up (register and key there): the command line asks who works.
    create_register(load_config({"data_dir": str(tmp_path / "data"), "mode": "production",
                                 "key_file": str(tmp_path / "k.key")})).close()
    env = {**os.environ, "LOGNAME": "bmeier", "CLERK_APP_DATA_DIR": str(tmp_path / "data"),
           "CLERK_APP_MACHINE_CONFIG": str(tmp_path / "m.toml"),
           "CLERK_APP_USER_CONFIG": str(tmp_path / "u")}
    done = subprocess.run([sys.executable, "-m", "clerk_app", "--set",
                           f'key_file="{tmp_path / "k.key"}"', "search", "brandt"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          input="")
    assert done.returncode == 2
    assert "Anmeldename" in done.stdout + done.stderr


# --- configuration locks ---------------------------------------------------------------------

def test_command_line_cannot_change_a_key_it_locked(tmp_path: Path) -> None:
    (tmp_path / "machine.toml").write_text(
        'mode = "demo"\nidle_lock_minutes = 5\nlock = ["mode", "idle_lock_minutes"]\n',
        encoding="utf-8")
    for setting in ('mode="production"', "idle_lock_minutes=15"):
        with pytest.raises(ConfigError) as err:
            load_config(dict([parse_override(setting)]))
        assert "gesperrt" in err.value.message_de
    (tmp_path / "user.toml").write_text("idle_lock_minutes = 15\n", encoding="utf-8")
    cfg = load_config(dict([parse_override("demo_residents=10")]))
    assert (cfg.mode, cfg.idle_lock_minutes, cfg.demo_residents) == ("demo", 5, 10)
    assert any("„idle_lock_minutes“" in w and "gesperrt" in w for w in cfg.warnings)


def test_idle_lock_minutes_is_a_clerks_choice_within_limits(tmp_path: Path) -> None:
    (tmp_path / "user.toml").write_text("idle_lock_minutes = 3\n", encoding="utf-8")
    assert load_config().idle_lock_minutes == 3
    (tmp_path / "user.toml").write_text("idle_lock_minutes = 60\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "idle_lock_minutes" in err.value.message_de and "1–15" in err.value.message_de


def test_doctor_opens_a_production_register_without_a_clerk(tmp_path: Path) -> None:
    """IT's self-test is no clerk's work: it opens the register as a system task."""
    from clerk_app.self_test import run_checks

    cfg = make_cfg(tmp_path / "data", mode="production", key_file=str(tmp_path / "k.key"))
    open_register(cfg, Actor("emeier", "Schalter 3"), create=True).close()
    checks = {c.name: c for c in run_checks(cfg)}
    assert all(c.ok for c in checks.values()), [c.detail for c in checks.values() if not c.ok]
