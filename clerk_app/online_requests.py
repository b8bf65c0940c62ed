"""What a citizen's online application carries, per kind: the schema both ends check.

The portal builds the data JSON of a submission from these models, the central service's
intake checks the decrypted data against them before it stores anything, and the workstation's
inbox reads the stored data back through them. Each model forbids unknown fields and bounds
every text: a submission is input from the internet.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from clerk_app.names import DataType, normalize, validate


def _din91379(data_type: DataType) -> AfterValidator:
    """Text of a DIN 91379 data type ("String.Latin+"), stored in its normalised form; the
    error names no character (the value is personal data)."""
    def check(text: str) -> str:
        if text and validate(text, data_type, max_length=200):
            raise ValueError(f"not DIN 91379 data type {data_type.value}")
        return normalize(text)
    return AfterValidator(check)


_Bounded = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PersonName = Annotated[_Bounded, _din91379(DataType.A)]
Text = Annotated[_Bounded, _din91379(DataType.C)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200),
                         _din91379(DataType.C)]
Postcode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{6,40}$")]

MELDEBESCHEINIGUNG: Literal["meldebescheinigung"] = "meldebescheinigung"
PERSONENSTANDSURKUNDE: Literal["personenstandsurkunde"] = "personenstandsurkunde"
ADRESSAENDERUNG: Literal["adressaenderung"] = "adressaenderung"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Applicant(_Strict):
    """The citizen as the portal's identification (eID) states them."""

    family_name: PersonName
    first_names: PersonName
    birth_date: date
    email: OptionalText = ""


class PostalAddress(_Strict):
    """An address in the city (the register's form: street, house number, postcode, city)."""

    street: Text
    house_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                   max_length=12)]
    postcode: Postcode
    city: Text

    def one_line(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}"


class OnlinePayment(_Strict):
    """Paid at the portal's payment provider before the submission was sent."""

    reference: Reference
    amount_cents: int = Field(ge=0, le=100_000)


class MeldebescheinigungRequest(_Strict):
    kind: Literal["meldebescheinigung"] = MELDEBESCHEINIGUNG
    applicant: Applicant
    variant: Literal["einfach", "erweitert"]
    delivery: Literal["post", "elektronisch"]
    payment: OnlinePayment


class CivilStatusRequest(_Strict):
    """Request for a birth, marriage or death certificate (§ 62 PStG), forwarded as at the
    counter."""

    kind: Literal["personenstandsurkunde"] = PERSONENSTANDSURKUNDE
    applicant: Applicant
    certificate: Literal["geburt", "ehe", "tod"]
    subject_names: PersonName
    event_date: date
    event_place: Text
    entitlement: Literal["selbst", "ehegatte", "vorfahr", "abkoemmling", "geschwister",
                         "rechtliches_interesse"]
    interest: OptionalText = ""
    copies: int = Field(ge=1, le=10)
    payment: OnlinePayment


class Landlord(_Strict):
    """The landlord's confirmation (§ 19 BMG) as the portal received it electronically."""

    name: Text
    address: Text


class AddressChange(_Strict):
    """An online change of address within the city (what XMeld message 1704 carries)."""

    kind: Literal["adressaenderung"] = ADRESSAENDERUNG
    applicant: Applicant
    new_address: PostalAddress
    move_in_date: date
    landlord: Landlord | None = None


OnlineRequest = MeldebescheinigungRequest | CivilStatusRequest | AddressChange
MODELS: dict[str, type[MeldebescheinigungRequest | CivilStatusRequest | AddressChange]] = {
    MELDEBESCHEINIGUNG: MeldebescheinigungRequest,
    PERSONENSTANDSURKUNDE: CivilStatusRequest,
    ADRESSAENDERUNG: AddressChange,
}
TITLES = {MELDEBESCHEINIGUNG: "Meldebescheinigung",
          PERSONENSTANDSURKUNDE: "Antrag auf Personenstandsurkunde",
          ADRESSAENDERUNG: "Online-Adressänderung"}


class RequestProblem(ValueError):
    """Data that is not a request of its kind: a reason code and an English detail naming the
    fields (never their values: they are personal data)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def read_request(kind: str, data: Any) -> OnlineRequest:
    """The request of `kind` in `data` (the decrypted JSON), or RequestProblem."""
    model = MODELS.get(kind)
    if model is None:
        raise RequestProblem("unknown-kind", f"unknown kind {kind[:40]!r}")
    try:
        request = model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "data" for e in exc.errors()})
        raise RequestProblem("schema", f"data fails the {kind} schema at: "
                                       f"{', '.join(fields[:8])}") from None
    return request
