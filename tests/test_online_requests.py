"""The schema of each kind of online application (the central intake's check): names after
DIN 91379, stored normalised; unknown fields and kinds refused; errors name fields, not values."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from clerk_app.online_requests import AddressChange, RequestProblem, read_request
from tests.online_support import REQUESTS


def changed(kind: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(REQUESTS[kind])
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_each_kind_reads(kind: str) -> None:
    assert read_request(kind, REQUESTS[kind]).kind == kind


@pytest.mark.parametrize("name", ["O'Brien", "Müller-Lüdenscheidt", "de la Cruz", "Ŀłŏȳđ",
                                  "Nguyễn"])
def test_latin_names_of_din_91379_pass(name: str) -> None:
    read_request("adressaenderung", changed("adressaenderung", ("applicant", "family_name"),
                                            name))


@pytest.mark.parametrize("name", ["Иван", "Smith\u200b", "A\tB", "", " ", "x" * 201])
def test_other_names_are_refused_without_their_value(name: str) -> None:
    with pytest.raises(RequestProblem) as caught:
        read_request("adressaenderung",
                     changed("adressaenderung", ("applicant", "family_name"), name))
    assert caught.value.code == "schema"
    assert "applicant.family_name" in caught.value.detail
    assert not name.strip() or name not in caught.value.detail


def test_names_are_kept_in_nfc() -> None:
    request = read_request("adressaenderung", changed(
        "adressaenderung", ("applicant", "family_name"), "Mu\u0308ller"))
    assert isinstance(request, AddressChange)
    assert request.applicant.family_name == "Müller"


@pytest.mark.parametrize(("kind", "path", "value"), [
    ("meldebescheinigung", ("variant",), "gold"),
    ("meldebescheinigung", ("delivery",), "brieftaube"),
    ("meldebescheinigung", ("payment", "reference"), "x; DROP"),
    ("personenstandsurkunde", ("copies",), 11),
    ("adressaenderung", ("new_address", "postcode"), "7953"),
    ("adressaenderung", ("extra",), "nicht vorgesehen"),
])
def test_field_errors(kind: str, path: tuple[str, ...], value: Any) -> None:
    with pytest.raises(RequestProblem) as caught:
        read_request(kind, changed(kind, path, value))
    assert ".".join(path) in caught.value.detail


def test_unknown_kind() -> None:
    with pytest.raises(RequestProblem) as caught:
        read_request("hundesteuer", {})
    assert caught.value.code == "unknown-kind"
