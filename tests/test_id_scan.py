"""A scanned ID card opens its holder, or prefills a new person; a wrong digit is named."""

from __future__ import annotations

from datetime import date

import pytest

from clerk_app.id_scan import scan
from clerk_app.mrz import MrzFormatError
from clerk_app.store.db import Store
from tests.factories import add_person

ERIKA = ("IDD<<T220001293<<<<<<<<<<<<<<<\n"
         "6408125<2010315D<<<<<<<<<<<<<4\n"
         "MUSTERMANN<<ERIKA<<<<<<<<<<<<<")
TODAY = date(2026, 11, 25)


def test_holder_found_by_search_form_and_birth_date(store: Store) -> None:
    erika = add_person(store, "Mustermann", "Erika", "1964-08-12")
    add_person(store, "Mustermann", "Erika", "1965-08-12")
    add_person(store, "Mustermann", "Hans", "1964-08-12")
    outcome = scan(store, ERIKA, today=TODAY)
    assert outcome.person_ids == (erika,)
    assert outcome.prefill is None and outcome.problems_de == ()


def test_holder_found_by_document_number(store: Store) -> None:
    pid = add_person(store, "Gabler", "Erika", "1970-01-01")
    with store.transaction() as db:
        db.execute("INSERT INTO id_documents (id, person_id, doc_type, number) "
                   "VALUES ('d1', ?, 'PA', 'T22000129')", (pid,))
    assert scan(store, ERIKA, today=TODAY).person_ids == (pid,)


def test_unknown_holder_prefills_a_new_person(store: Store) -> None:
    outcome = scan(store, ERIKA.replace("\n", ""), today=TODAY)
    assert outcome.person_ids == ()
    p = outcome.prefill
    assert p is not None
    assert (p.family_name, p.first_names, p.birth_date, p.sex) == (
        "Mustermann", "Erika", date(1964, 8, 12), "x")  # German ID cards leave sex "<"
    assert (p.nationalities, p.document_type, p.document_number, p.valid_until) == (
        ("DEU",), "PA", "T22000129", date(2020, 10, 31))


def test_wrong_check_digit_is_named_and_nothing_opened(store: Store) -> None:
    add_person(store, "Mustermann", "Erika", "1964-08-12")
    outcome = scan(store, ERIKA.replace("6408125<", "6408126<"), today=TODAY)
    assert outcome.person_ids == () and outcome.prefill is None
    assert any("Geburtsdatum" in p for p in outcome.problems_de), outcome.problems_de


def test_text_that_is_no_mrz_raises_a_german_message(store: Store) -> None:
    with pytest.raises(MrzFormatError) as err:
        scan(store, "Müller")
    assert "MRZ" in err.value.message_de
