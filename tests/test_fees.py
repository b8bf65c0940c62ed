"""The fee schedule file and money formatting."""

from __future__ import annotations

import pytest

from clerk_app.errors import ConfigError
from clerk_app.fees import (
    Exemption,
    fee_for,
    fee_schedule,
    format_cents,
    parse_cents,
    read_schedule,
)

NBSP = "\xa0"

GOOD = """
[exemptions.rente]
reason = "Vorlage bei Rentenversicherungsträger"
legal_basis = "§ 64 Abs. 2 SGB X"

[fees.meldebescheinigung_einfach]
name = "Meldebescheinigung (einfach)"
cents = 700
exemptions = ["rente"]
"""


@pytest.mark.parametrize(("code", "cents"), [
    ("meldebescheinigung_einfach", 700), ("meldebescheinigung_erweitert", 900),
    ("lebensbescheinigung", 0), ("personenstandsurkunde_antrag", 1200), ("anmeldung", 0),
    ("ummeldung", 0), ("abmeldung", 0), ("meldebestaetigung", 0), ("zweitschrift", 300),
])
def test_packaged_schedule_has_the_city_fees(code: str, cents: int) -> None:
    fee = fee_for(code)
    assert fee.code == code
    assert fee.cents == cents
    assert fee.name


def test_exemptions_are_per_service_with_reason_and_legal_basis() -> None:
    rente = fee_for("meldebescheinigung_einfach").exemption("rente")
    assert rente == Exemption("rente", "Vorlage bei Rentenversicherungsträger",
                              "§ 64 Abs. 2 SGB X")
    assert fee_for("zweitschrift").exemption("rente") is None
    assert fee_for("zweitschrift").exemption("behoerde") is not None
    assert fee_for("lebensbescheinigung").exemptions == ()
    assert {"rente", "behoerde", "sozialleistung", "gemeinnuetzig"} <= set(
        fee_schedule().exemptions)


def test_schedule_is_read_once() -> None:
    assert fee_schedule() is fee_schedule()


def test_unknown_service_names_the_code() -> None:
    with pytest.raises(ConfigError) as info:
        fee_for("reisepass")
    assert "„reisepass“" in info.value.message_de
    assert "reisepass" in info.value.message_en


def test_good_schedule_text_parses() -> None:
    schedule = read_schedule(GOOD)
    assert schedule.fee_for("meldebescheinigung_einfach").exemptions[0].code == "rente"


@pytest.mark.parametrize(("broken", "entry", "problem"), [
    (GOOD.replace("cents = 700", "cents = 7.00"), "[fees.meldebescheinigung_einfach]",
     "ganze Zahl"),
    (GOOD.replace("cents = 700", 'cents = "7,00"'), "[fees.meldebescheinigung_einfach]",
     "ganze Zahl"),
    (GOOD.replace("cents = 700", "cents = -700"), "[fees.meldebescheinigung_einfach]",
     "nicht zwischen"),
    (GOOD.replace("cents = 700", "cents = 7000000"), "[fees.meldebescheinigung_einfach]",
     "nicht zwischen"),
    (GOOD.replace("cents = 700", "cent = 700"), "[fees.meldebescheinigung_einfach]",
     "unbekannter Schlüssel „cent“"),
    (GOOD.replace('name = "Meldebescheinigung (einfach)"', ""),
     "[fees.meldebescheinigung_einfach]", "„name“ fehlt"),
    (GOOD.replace('["rente"]', '["rente", "studium"]'), "[fees.meldebescheinigung_einfach]",
     "„studium“ ist unter [exemptions] nicht definiert"),
    (GOOD.replace('["rente"]', '["rente", "rente"]'), "[fees.meldebescheinigung_einfach]",
     "doppelt"),
    (GOOD.replace('["rente"]', '"rente"'), "[fees.meldebescheinigung_einfach]", "Liste"),
    (GOOD.replace('legal_basis = "§ 64 Abs. 2 SGB X"', ""), "[exemptions.rente]",
     "„legal_basis“ fehlt"),
    (GOOD.replace("[fees.meldebescheinigung_einfach]", "[fees.Melde-Einfach]"),
     "[fees.Melde-Einfach]", "Kleinbuchstaben"),
    (GOOD + "\n[gebuehren]\n", "", "unbekannter Schlüssel „gebuehren“"),
    (GOOD.split("[fees.")[0], "", "keine einzige Gebühr"),
    (GOOD.replace("cents = 700", "cents = "), "", "kein gültiges TOML"),
])
def test_schedule_errors_name_the_entry(broken: str, entry: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_schedule(broken)
    message = info.value.message_de
    assert message.startswith("Gebührenverzeichnis (fees.toml)")
    assert entry in message
    assert problem in message


@pytest.mark.parametrize(("cents", "text"), [
    (700, "7,00 €"), (123450, "1.234,50 €"), (0, "0,00 €"), (5, "0,05 €"),
    (-200, "-2,00 €"), (123456789012345, "1.234.567.890.123,45 €"),
])
def test_format_cents_german(cents: int, text: str) -> None:
    assert format_cents(cents) == text.replace(" €", f"{NBSP}€")


@pytest.mark.parametrize(("text", "cents"), [
    ("10", 1000), ("7,5", 750), ("7,05", 705), ("1.234,50 €", 123450), (" 3,00 EUR ", 300),
])
def test_parse_cents(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize("text", ["", "-5", "7.5", "abc", "1,234", "12.34,00"])
def test_parse_cents_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_cents(text)
