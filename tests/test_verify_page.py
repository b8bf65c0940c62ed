"""The verification page in a real headless Chromium, served by the real central service.

The seals are made with the office key the centre issued (`/v1/office-key`'s logic), the page
is opened at the link a QR code holds, and it must check the seal with WebCrypto against the
signed key list: a valid seal, a changed character, a revoked key, an unknown key; by keyboard
with the form; on a phone-sized window. With CLERK_APP_SCREENSHOT_DIR set, the screenshots of
the four verdicts are written there (docs/screenshot-verify-*.png).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from clerk_app.seal import (
    PREFIX,
    SealedFacts,
    SealKey,
    base45_decode,
    base45_encode,
    seal,
    seal_link,
    specimen_office_id,
)
from sync.server.office_keys import OfficeKeys
from tests.sync_support import running_central

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="Chromium and chromedriver not installed (Debian: chromium chromium-driver)")

OFFICE = "08336050"
FACTS = SealedFacts(number="MB-SCHALTER3-2026-000417", doc_type="meldebescheinigung_einfach",
                    issued_on=datetime.now(UTC).date(),
                    persons=(("Dr. Wróbel, Łukasz Tomasz", "29.02.1984"),), office_id=OFFICE)


@dataclass
class Site:
    url: str
    keys: OfficeKeys
    browser: Any


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = tmp_path_factory.mktemp("page")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--lang=de-DE",
                     "--window-size=412,915", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    with running_central(f"sqlite:///{folder / 'central.db'}", folder) as (server, central):
        browser = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
        try:
            keys = OfficeKeys(central.db)
            keys.rotate(OFFICE, "Bürgerbüro Lörrach")  # IT creates the office's first key
            yield Site(f"{server.url}/pruefen/", keys, browser)
        finally:
            browser.quit()


def open_verdict(site: Site, url: str) -> dict[str, str]:
    """Open `url` and wait for the verdict; what the page shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    site.browser.get("about:blank")
    site.browser.get(url)
    WebDriverWait(site.browser, 15).until(
        lambda b: b.find_element(By.ID, "verdict").text.strip())
    return read_verdict(site)


def read_verdict(site: Site) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    find = site.browser.find_element
    return {"verdict": find(By.ID, "verdict").text, "reason": find(By.ID, "reason").text,
            "facts": find(By.ID, "facts").text if find(By.ID, "facts").is_displayed() else "",
            "reminder": "yes" if find(By.ID, "reminder").is_displayed() else "",
            "focused": site.browser.switch_to.active_element.get_attribute("id") or ""}


def screenshot(site: Site, name: str) -> None:
    folder = os.environ.get("CLERK_APP_SCREENSHOT_DIR")
    if folder:
        site.browser.save_screenshot(str(Path(folder) / f"screenshot-verify-{name}.png"))


def changed_character(payload: str) -> str:
    """The seal with one letter of the name changed (ó -> o), signature left as it was."""
    blob = base45_decode(payload[len(PREFIX):])
    changed = blob[:64] + blob[64:].replace("Wróbel".encode(), b"Wrobel")
    assert changed != blob
    return PREFIX + base45_encode(changed)


def contrast(site: Site, element_id: str) -> float:
    """WCAG contrast ratio of an element's text colour against its section's background."""
    script = """
      const el = document.getElementById(arguments[0]);
      const parse = (c) => c.match(/\\d+/g).slice(0, 3).map(Number);
      let bg = el, color = getComputedStyle(el).backgroundColor;
      while (color === 'rgba(0, 0, 0, 0)' && bg.parentElement) {
        bg = bg.parentElement; color = getComputedStyle(bg).backgroundColor;
      }
      const lum = (rgb) => rgb.map((v) => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
      const a = lum(parse(getComputedStyle(el).color)), b = lum(parse(color));
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    """
    return float(site.browser.execute_script(script, element_id))


def test_a_valid_seal_shows_what_was_certified(site: Site) -> None:
    grant = site.keys.grant(OFFICE)
    link = seal_link(seal(FACTS, SealKey.from_hex(grant.private_key)), site.url)
    shown = open_verdict(site, link)
    assert shown["verdict"] == "Gültig"
    for expected in ("Meldebescheinigung", FACTS.number,
                     FACTS.issued_on.strftime("%d.%m.%Y"), "Bürgerbüro Lörrach (08336050)",
                     "Dr. Wróbel, Łukasz Tomasz", "29.02.1984"):
        assert expected in shown["facts"]
    assert shown["reminder"]  # compare with the paper
    assert shown["focused"] == "verdict"  # screen readers announce the verdict first
    assert contrast(site, "verdict") >= 4.5 and contrast(site, "reason") >= 4.5
    assert site.browser.execute_script("return document.documentElement.lang") == "de"
    assert site.browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")  # phone: no
    screenshot(site, "gueltig")                                            # sideways scroll


def test_a_specimen_from_the_demo_register_is_shown_as_muster(site: Site) -> None:
    grant = site.keys.grant(OFFICE)
    specimen = dataclasses.replace(FACTS, office_id=specimen_office_id(OFFICE))
    shown = open_verdict(site, seal_link(seal(specimen, SealKey.from_hex(grant.private_key)),
                                         site.url))
    assert shown["verdict"] == "Muster"
    assert "Demo-Register" in shown["reason"] and "keine Rechtswirkung" in shown["reason"]
    assert f"MUSTER-{OFFICE}" in shown["facts"]


def test_a_changed_character_is_invalid(site: Site) -> None:
    grant = site.keys.grant(OFFICE)
    payload = seal(FACTS, SealKey.from_hex(grant.private_key))
    shown = open_verdict(site, seal_link(changed_character(payload), site.url))
    assert shown["verdict"] == "Ungültig"
    assert "verändert" in shown["reason"]
    assert not shown["facts"] and not shown["reminder"]  # nothing shown as certified
    assert contrast(site, "verdict") >= 4.5
    screenshot(site, "ungueltig")


def test_an_unknown_key_is_invalid(site: Site) -> None:
    stranger = SealKey.generate()
    shown = open_verdict(site, seal_link(seal(FACTS, stranger), site.url))
    assert shown["verdict"] == "Ungültig"
    assert f"unbekannten Schlüssel (Schlüssel-ID {stranger.key_id})" in shown["reason"]
    screenshot(site, "unbekannt")


def test_a_revoked_key_and_a_rotated_one(site: Site) -> None:
    old = site.keys.grant(OFFICE)
    sealed_before = seal(FACTS, SealKey.from_hex(old.private_key))
    site.keys.rotate(OFFICE, "Bürgerbüro Lörrach")
    # Rotated, not revoked: the old document stays valid, the new key seals valid ones.
    assert open_verdict(site, seal_link(sealed_before, site.url))["verdict"] == "Gültig"
    new = site.keys.grant(OFFICE)
    assert new.key_id != old.key_id
    assert open_verdict(site, seal_link(seal(FACTS, SealKey.from_hex(new.private_key)),
                                        site.url))["verdict"] == "Gültig"
    site.keys.revoke(new.key_id, at=datetime.now(UTC) - timedelta(minutes=1))
    shown = open_verdict(site, seal_link(seal(FACTS, SealKey.from_hex(new.private_key)),
                                         site.url))
    assert shown["verdict"] == "Widerrufen"
    assert "widerrufen" in shown["reason"] and not shown["facts"]
    assert contrast(site, "verdict") >= 4.5
    screenshot(site, "widerrufen")
    # A document dated before the revocation day still verifies with the revoked key's list
    # entry: its issue date lies inside the key's validity.
    earlier = SealedFacts(FACTS.number, FACTS.doc_type, date(2020, 1, 1), FACTS.persons, OFFICE)
    assert open_verdict(site, seal_link(seal(earlier, SealKey.from_hex(new.private_key)),
                                        site.url))["verdict"] == "Ungültig"  # before valid_from


def test_the_form_works_by_keyboard(site: Site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    site.browser.get(site.url)  # opened without a code: the intro and the form, no verdict
    assert not site.browser.find_element(By.ID, "result").is_displayed()
    site.browser.find_element(By.ID, "code").send_keys("  ", Keys.TAB, Keys.ENTER)
    WebDriverWait(site.browser, 15).until(
        lambda b: b.find_element(By.ID, "verdict").text == "Kein Prüfcode")
    site.browser.find_element(By.ID, "code").clear()
    grant = site.keys.grant(OFFICE)
    link = seal_link(seal(FACTS, SealKey.from_hex(grant.private_key)), site.url)
    code = site.browser.find_element(By.ID, "code")
    code.click()
    assert site.browser.switch_to.active_element.get_attribute("id") == "code"
    code.send_keys(link)
    site.browser.switch_to.active_element.send_keys(Keys.TAB)  # to the "Prüfen" button
    assert site.browser.switch_to.active_element.text == "Prüfen"
    site.browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(site.browser, 15).until(
        lambda b: b.find_element(By.ID, "verdict").text != "Kein Prüfcode")
    shown = read_verdict(site)
    assert shown["verdict"] == "Gültig", shown
    assert shown["focused"] == "verdict"
