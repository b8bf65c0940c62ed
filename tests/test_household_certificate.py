"""Meldebescheinigungen for the members of a household at once, on a real encrypted register:
one command and one transaction, a document and a fee per person, the cash handed over once."""

from __future__ import annotations

import uuid

import pytest

from clerk_app.errors import FormError
from clerk_app.services.certificates import ISSUE
from clerk_app.store.db import Store
from tests.factories import add_person, count, issue

SERVICE = "meldebescheinigung_haushalt"


def household(store: Store, *blocked: bool) -> list[str]:
    """Persons at one address sharing one household (the first not blocked)."""
    ids = [add_person(store, "Weber", first, "1980-01-01", block=block)
           for first, block in zip(("Hans", "Grete", "Ida", "Ole"), (False, *blocked),
                                   strict=False)]
    with store.transaction() as db:
        db.execute("INSERT INTO households (id, created_at) VALUES ('h1', 'x')")
        db.execute(f"UPDATE persons SET household_id = 'h1' WHERE id IN "
                   f"({','.join('?' * len(ids))})", ids)
    return ids


def test_three_certificates_in_one_command_with_a_fee_each(store: Store) -> None:
    hans, grete, ida = household(store, False, False)
    result = issue(store, SERVICE, {"person_id": hans, "members": [grete, ida],
                                    "variant": "einfach",
                                    "payment": {"method": "bar", "given_cents": 5000}})
    certificates = [d for d in result.documents if d.type == "meldebescheinigung_einfach"]
    assert [d.person_id for d in certificates] == [hans, grete, ida]
    assert [dict(d.fields)["Vornamen"] for d in certificates] == ["Hans", "Grete", "Ida"]
    journal = store.query("SELECT amount_cents, given_cents, change_cents FROM cash_journal "
                          "ORDER BY id")
    assert [(r["amount_cents"], r["given_cents"], r["change_cents"]) for r in journal] == [
        (700, 700, 0), (700, 700, 0), (700, 3600, 2900)]
    assert result.receipt is not None and result.receipt.change_cents == 2900
    assert all(d.receipt_number for d in certificates)
    assert count(store, "outbox") == 1
    assert count(store, "audit_log", f"action = '{ISSUE}'") == 3
    assert set(result.changed_persons) == {hans, grete, ida}
    assert result.notices == ("3 × Meldebescheinigung, Gebühren zusammen 21,00\xa0€ (bar: "
                              "gegeben 50,00\xa0€, Rückgeld 29,00\xa0€); 3 Quittungen.",)


def test_too_little_cash_for_all_is_named_with_the_sum(store: Store) -> None:
    hans, grete = household(store, False)
    with pytest.raises(FormError) as caught:
        issue(store, SERVICE, {"person_id": hans, "members": [grete], "variant": "einfach",
                               "payment": {"method": "bar", "given_cents": 1000}})
    assert caught.value.errors == {"payment.given": (
        "Der gegebene Betrag (10,00\xa0€) ist kleiner als die Gebühren "
        "(2 × 7,00\xa0€ = 14,00\xa0€).")}
    assert count(store, "documents") == count(store, "cash_journal") == 0


def test_an_exemption_applies_to_everyone(store: Store) -> None:
    hans, grete = household(store, False)
    result = issue(store, SERVICE, {"person_id": hans, "members": [grete],
                                    "variant": "erweitert", "purpose": "Rentenantrag",
                                    "payment": {"exemption": "rente"}})
    assert len([d for d in result.documents if d.type == "quittung"]) == 2
    assert count(store, "cash_journal", "amount_cents = 0 AND exemption = 'rente'") == 2


@pytest.mark.parametrize("who", ["stranger", "blocked", "none"])
def test_only_unblocked_members_of_the_household(store: Store, who: str) -> None:
    hans, grete = household(store, True)
    members = {"stranger": [add_person(store, "Fremd", "Otto")], "blocked": [grete],
               "none": []}[who]
    with pytest.raises(FormError) as caught:
        issue(store, SERVICE, {"person_id": hans, "members": members, "variant": "einfach",
                               "payment": {"method": "karte", "terminal_receipt": "T-4711"}})
    assert list(caught.value.errors) == ["members"]
    assert count(store, "documents") == 0


def test_the_same_command_twice_issues_once(store: Store) -> None:
    hans, grete = household(store, False)
    form = {"person_id": hans, "members": [grete], "variant": "einfach",
            "payment": {"method": "karte", "terminal_receipt": "T-4711"}}
    command = str(uuid.uuid4())
    first = issue(store, SERVICE, form, command)
    again = issue(store, SERVICE, form, command)
    assert again.replayed and [d.number for d in again.documents] == [
        d.number for d in first.documents]
    assert count(store, "cash_journal") == 2
