"""DIN 5008 letters from the inbox, painted to PDF: the address sits in the window envelope's
field, the code is on the page. For a look: CLERK_UI_SHOTS=docs writes the page as PNG."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from clerk_app import letters
from clerk_app.config import Config
from clerk_app.online_requests import AddressChange, read_request
from tests.online_support import REQUESTS
from tests.ui_support import SHOTS
from ui.letter_rendering import letter_pdf


def text_in(pdf: bytes, x: float, y: float, width: float, height: float) -> str:
    """The text inside a box given in millimetres from the top left corner."""
    page = pdfium.PdfDocument(pdf)[0]
    page_height = page.get_height()
    k = 72 / 25.4
    return str(page.get_textpage().get_text_bounded(
        left=x * k, bottom=page_height - (y + height) * k, right=(x + width) * k,
        top=page_height - y * k))


def test_confirmation_letter_address_in_the_window_and_code_on_the_page(qapp: object) -> None:
    # pytest-qt's QApplication (a QGuiApplication made here would break later widget tests)
    request = read_request("adressaenderung", REQUESTS["adressaenderung"])
    assert isinstance(request, AddressChange)
    code = letters.new_confirmation_code()
    letter = letters.confirmation_letter(Config(), "0f1e2d3c-aaaa-bbbb-cccc-111122223333",
                                         request, code, date(2026, 12, 3), "M. Muster")
    pdf = letter_pdf(letter)
    window = " ".join(text_in(pdf, *letters.RECIPIENT_ZONE).split())
    assert window == "Łukasz Wróbel Palmstraße 7 79539 Lörrach"
    x, y, width, _ = letters.ADDRESS_FIELD
    assert "Bürgerbüro" in text_in(pdf, x, y, width, letters.RETURN_ZONE_HEIGHT)
    body = text_in(pdf, 0, letters.SUBJECT_TOP, 210, 150)
    assert code in body and "Bestätigungscode" in body
    above_window = text_in(pdf, 0, 0, 210, y)
    assert "Wróbel" not in above_window  # nothing personal outside the window but the body
    if SHOTS and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", "-",
                        str(Path(SHOTS) / "screenshot-letter-din5008")], input=pdf, check=True)


def test_a_letter_needs_an_address() -> None:
    with pytest.raises(ValueError):
        letters.recipient_lines(" ", "", "")
