"""Letters to citizens by post, laid out after DIN 5008 (form B) for a window envelope.

The core says what a letter says and where each part goes on the A4 page (millimetres from the
top left corner, the standard's positions); `ui.letter_rendering` paints it. Form B: the
address field begins 45 mm from the top and 20 mm from the left edge, 85 mm wide and 45 mm high:
a 17.7 mm zone for the return address and notes over a 27.3 mm zone for the recipient's
address (at most six lines), which is what a DL window envelope shows. The information block
stands right of it at 125 mm; the subject follows at about 103.4 mm (the first fold mark is
at 105 mm).

Two letters come out of the inbox: the confirmation code of an online change of address
accepted pending identification (sent to the new address: whoever can read it lives there),
and the cover letter of a document sent by post.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from clerk_app.config import Config
from clerk_app.online_requests import TITLES, AddressChange, CivilStatusRequest, OnlineRequest

# DIN 5008 form B, in millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
LEFT_MARGIN, RIGHT_MARGIN = 25.0, 20.0
ADDRESS_FIELD = (20.0, 45.0, 85.0, 45.0)        # x, y, width, height
RETURN_ZONE_HEIGHT = 17.7                        # return address and notes
RECIPIENT_ZONE = (20.0, 62.7, 85.0, 27.3)        # the recipient's address lines
INFO_BLOCK = (125.0, 50.0, 75.0, 40.0)
SUBJECT_TOP = 103.4
FOLD_MARKS = (105.0, 210.0)
HOLE_MARK = 148.5
MAX_ADDRESS_LINES = 6
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from paper
CODE_LENGTH = 10


@dataclass(frozen=True)
class Letter:
    letterhead: tuple[str, str]          # the city, the office (top of the page)
    sender_line: str                     # the return address, one line, in the return zone
    recipient: tuple[str, ...]           # the address lines, at most six
    info: tuple[tuple[str, str], ...]    # information block: label, value
    subject: str
    salutation: str
    paragraphs: tuple[str, ...]
    closing: str
    signature: str


def new_confirmation_code() -> str:
    """A code the citizen types into the portal; grouped in fives for reading."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def code_digest(code: str) -> str:
    """What is kept of a code: its SHA-256 as typed (case, blanks and hyphens do not matter),
    so the central service can check the citizen's entry without knowing the code."""
    normal = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def _sender_line(cfg: Config) -> str:
    return f"{cfg.city_name} · {cfg.office_name} · {cfg.office_address}"


def _salutation(request: OnlineRequest) -> str:
    return f"Guten Tag {request.applicant.first_names} {request.applicant.family_name},"


def _info(cfg: Config, submission_id: str, today: date, clerk: str) -> tuple[
        tuple[str, str], ...]:
    return (("Ihr Antrag vom Portal", submission_id[:8]), ("Bearbeitet von", clerk),
            ("Telefon / E-Mail", cfg.office_contact or "—"), ("Datum", f"{today:%d.%m.%Y}"))


def recipient_lines(name: str, street_line: str, town_line: str) -> tuple[str, ...]:
    """The address for the window: name, street, town (DIN 5008: no blank line, no "An")."""
    lines = tuple(line.strip() for line in (name, street_line, town_line) if line.strip())
    if not lines or len(lines) > MAX_ADDRESS_LINES:
        raise ValueError("an address needs one to six lines")
    return lines


def confirmation_letter(cfg: Config, submission_id: str, request: AddressChange, code: str,
                        today: date, clerk: str) -> Letter:
    """The letter with the confirmation code, to the new address."""
    address = request.new_address
    name = f"{request.applicant.first_names} {request.applicant.family_name}"
    return Letter(
        letterhead=(cfg.city_name, cfg.office_name),
        sender_line=_sender_line(cfg),
        recipient=recipient_lines(name, f"{address.street} {address.house_number}",
                                  f"{address.postcode} {address.city}"),
        info=_info(cfg, submission_id, today, clerk),
        subject="Ihre Online-Ummeldung: Bestätigungscode",
        salutation=_salutation(request),
        paragraphs=(
            f"Ihre Ummeldung zum {request.move_in_date:%d.%m.%Y} in die "
            f"{address.one_line()} haben wir angenommen. Damit sie wirksam wird, bestätigen Sie "
            "bitte, dass Sie unter dieser Anschrift wohnen: Geben Sie den folgenden Code "
            "innerhalb von 14 Tagen im Serviceportal bei Ihrem Antrag ein.",
            f"Ihr Bestätigungscode: {code}",
            "Haben Sie keine Ummeldung beantragt, melden Sie sich bitte bei uns.",
        ),
        closing="Mit freundlichen Grüßen",
        signature=f"Ihr {cfg.office_name}")


def cover_letter(cfg: Config, submission_id: str, request: OnlineRequest, name: str,
                 street_line: str, town_line: str, enclosures: Sequence[str], today: date,
                 clerk: str) -> Letter:
    """The cover letter of what goes by post to the register's address: the document asked
    for, or (a civil-status certificate, which the registry office issues) the word that the
    request went there; `enclosures` are the titles of the documents in the envelope."""
    if isinstance(request, CivilStatusRequest):
        news = ("Ihren Antrag haben wir an das Standesamt weitergeleitet; die Urkunde "
                "erhalten Sie von dort.")
    else:
        news = f"anbei erhalten Sie die beantragte {TITLES.get(request.kind, 'Bescheinigung')}."
    return Letter(
        letterhead=(cfg.city_name, cfg.office_name),
        sender_line=_sender_line(cfg),
        recipient=recipient_lines(name, street_line, town_line),
        info=_info(cfg, submission_id, today, clerk),
        subject=f"Ihr Online-Antrag: {TITLES.get(request.kind, request.kind)}",
        salutation=_salutation(request),
        paragraphs=(news, "Die Gebühr haben Sie bereits online bezahlt.",
                    *([f"Anlagen: {', '.join(enclosures)}"] if enclosures else [])),
        closing="Mit freundlichen Grüßen",
        signature=f"Ihr {cfg.office_name}")
