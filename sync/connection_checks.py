"""The sync layer's lines in `clerk-app doctor` (entry point `clerk_app.doctor_checks`).

With a central service configured: can this workstation reach it, does the service speak this
program's protocol and register schema, does it accept the device token, how far apart the
clocks are, and what waits locally (commands not yet transmitted, open Klärfälle, the last
successful sync). Without one the workstation works offline only, which is a setting, not a
fault.

The clock line only ever warns: sync decides nothing by wall-clock time, but a clock that is
minutes off puts wrong times on documents, receipts and log lines.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from clerk_app.config import Config
from clerk_app.errors import ClerkError
from clerk_app.self_test import Check
from clerk_app.store.migrations import SCHEMA_VERSION
from sync.central_connection import withdraw_on_revocation
from sync.client import CentralClient
from sync.credentials import ENROL_FOR_IT_DE, load_token
from sync.protocol import PROTOCOL_VERSION, Hello
from sync.update_notice import UpdateNoticeError, verify_notice

log = logging.getLogger(__name__)

CLOCK_WARNING_SECONDS = 300
READ_TIMEOUT = 15.0  # a doctor run should not hang for the sync's two minutes


def checks(cfg: Config) -> list[Check]:
    if not cfg.central_url:
        return [Check("central service", True,
                      "keine eingerichtet (central_url ist leer): dieser Arbeitsplatz arbeitet "
                      "nur offline")]
    return [*_central_checks(cfg), *_local_checks(cfg)]


def _failure(exc: ClerkError) -> str:
    """German, as the whole report; the English detail goes to the log for IT."""
    log.info("doctor: central service check failed: %s", exc.message_en)
    return exc.message_de


def _central_checks(cfg: Config) -> list[Check]:
    try:
        token, not_enrolled = load_token(cfg), None
    except ClerkError as exc:  # still worth knowing whether the service answers
        token, not_enrolled = None, exc
    try:
        client = CentralClient(cfg.central_url, token, ca_bundle=cfg.ca_bundle or None,
                               read_timeout=READ_TIMEOUT,
                               on_revoked=lambda: withdraw_on_revocation(cfg))
    except ClerkError as exc:  # an address the client refuses (plain HTTP off this machine)
        return [Check("central service", False, _failure(exc))]
    try:
        sent = datetime.now(UTC)
        hello = client.hello()
        received = datetime.now(UTC)
        problem = version_problem(hello) or (
            f"{_failure(not_enrolled)} {ENROL_FOR_IT_DE}" if not_enrolled else None)
        if problem:
            return [Check("central service", False, problem)]
        client.changes(hello.high_water_mark, 1)  # the cheapest call that needs the token
        update = update_check(cfg, client)
    except ClerkError as exc:
        return [Check("central service", False, _failure(exc))]
    finally:
        client.close()
    return [Check("central service", True,
                  f"{client.base_url}: Protokoll {hello.protocol}, Registerschema "
                  f"{SCHEMA_VERSION} (die Zentrale nimmt "
                  f"{', '.join(map(str, hello.schemas))}), Gerätetoken angenommen, "
                  f"Änderungsfolge bei {hello.high_water_mark}"),
            clock_check(hello, sent, received), update]


def update_check(cfg: Config, client: CentralClient) -> Check:
    """The central service's update notice, verified with the release key: a due update is a
    warning for IT (it installs; nothing installs itself), a bad notice is named and ignored."""
    try:
        raw = client.update_notice()
    except ClerkError as exc:
        return Check("update", True, f"Update-Mitteilung nicht lesbar: {exc.message_de}",
                     warning=True)
    if raw is None:
        return Check("update", True, "die Zentrale veröffentlicht keine Update-Mitteilung")
    try:
        notice = verify_notice(raw, cfg.update_public_key)
    except UpdateNoticeError as exc:
        log.warning("update notice ignored: %s", exc)
        return Check("update", True,
                     f"Update-Mitteilung verworfen (Signatur oder Inhalt ungültig): {exc}",
                     warning=True)
    if notice.due():
        return Check("update", True,
                     f"{notice.text_de()} (Version {notice.version} vom {notice.published}: "
                     f"{notice.url}; Manifest-SHA-256 {notice.manifest_sha256})", warning=True)
    return Check("update", True, f"aktuell (die neueste Version ist {notice.version})")


def version_problem(hello: Hello) -> str | None:
    if hello.protocol == PROTOCOL_VERSION and SCHEMA_VERSION in hello.schemas:
        return None
    return ("Diese Programmversion passt nicht zur Zentrale; bitte das Programm aktualisieren "
            "lassen, die Arbeit bleibt bis dahin gespeichert. (Dieses Programm: Protokoll "
            f"{PROTOCOL_VERSION}, Registerschema {SCHEMA_VERSION}; die Zentrale: Protokoll "
            f"{hello.protocol}, Registerschemata {', '.join(map(str, hello.schemas))})")


def clock_check(hello: Hello, sent: datetime, received: datetime) -> Check:
    """The service's clock against this machine's, taken at the middle of the request."""
    here = sent + (received - sent) / 2
    ahead = (here - datetime.fromisoformat(hello.server_time)).total_seconds()
    detail = (f"die Uhr dieses Rechners geht {abs(ahead):.1f} s "
              f"{'vor' if ahead >= 0 else 'nach'} (gegenüber der Zentrale)")
    if abs(ahead) <= CLOCK_WARNING_SECONDS:
        return Check("clock", True, detail)
    return Check("clock", True, f"{detail}, mehr als {CLOCK_WARNING_SECONDS // 60} Minuten: "
                 "der Abgleich hängt nicht davon ab, die Zeiten auf Dokumenten, Quittungen und "
                 "im Protokoll aber schon; die Uhrzeit einstellen (NTP)", warning=True)


def _local_checks(cfg: Config) -> list[Check]:
    """What waits on this workstation. Nothing here if the register cannot be opened: the
    core's register line already says why."""
    if not cfg.register_path.exists():
        return []
    from clerk_app.clerks import system_actor
    from clerk_app.store.opening import open_register
    from sync.state import status

    try:
        with open_register(cfg, system_actor("doctor", cfg.workstation), for_sync=True) as store:
            state = status(store)
    except ClerkError:
        return []
    detail = (f"noch nicht übertragene Aufträge: {state.pending}, offene Klärfälle: "
              f"{state.open_conflicts}, letzter erfolgreicher Abgleich: "
              f"{state.last_success or 'noch keiner'}")
    sync = Check("sync", True, f"{detail}; {state.warning}", warning=True) if state.warning \
        else Check("sync", True, detail)
    return [sync, *_lease_checks(cfg, state.last_success, state.seen)]


def _lease_checks(cfg: Config, last_success: str | None,
                  seen: str | None) -> list[Check]:
    """The offline lease: failed once it ran out, a warning in its last days."""
    from clerk_app.offline_lease import WARN_DAYS, lease

    state = lease(cfg, last_success, seen)
    if state is None:
        return []
    if state.expired:
        return [Check("offline lease", False,
                      f"abgelaufen: {state.days_away} Tage ohne Verbindung zur Zentrale "
                      f"(erlaubt: {cfg.offline_lease_days}); das Melderegister öffnet erst "
                      "nach einem Abgleich")]
    detail = (f"noch {state.days_left} von {cfg.offline_lease_days} Tagen bis zum nötigen "
              "Abgleich")
    return [Check("offline lease", True, detail, warning=state.days_left <= WARN_DAYS)]
