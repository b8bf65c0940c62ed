"""Booking numbers, cancellation codes and the confirmation's QR payload.

A booking number is what the citizen reads out or types at the counter and what the call
display shows, so it is short, has no letters that look alike (Crockford's base 32: no I, L,
O, U) and carries a check character: a mistyped number is refused instead of finding someone
else's appointment. The QR code on the confirmation holds the number behind a fixed prefix; a
scanner types it into the same field as an ID card's MRZ, so `read_check_in_code` accepts
either form, with the spaces, hyphens and case a keyboard or a scanner may add.
"""

from __future__ import annotations

import re
import secrets

from clerk_app.errors import ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
QR_PREFIX = "BBTERMIN:"
_BODY = 7
_SEPARATORS = re.compile(r"[\s\-_.]")


def _check_char(body: str) -> str:
    total = sum((i + 1) * ALPHABET.index(c) for i, c in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_booking_number() -> str:
    """A random booking number: 7 characters and a check character, e.g. 'K7M4QX2P'."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(_BODY))
    return body + _check_char(body)


def format_booking_number(number: str) -> str:
    """For print and screen: 'K7M4-QX2P'."""
    return f"{number[:4]}-{number[4:]}"


def new_cancellation_code() -> str:
    """The secret the citizen needs to cancel online (only its hash is stored centrally)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


def qr_payload(booking_number: str) -> str:
    """What the confirmation's QR code holds."""
    return QR_PREFIX + booking_number


def read_check_in_code(text: str) -> str:
    """The booking number in what was typed or scanned (a number or a QR payload);
    ValidationError (German) if it is neither or its check character does not fit."""
    raw = text.strip()
    if raw.upper().startswith(QR_PREFIX):
        raw = raw[len(QR_PREFIX):]
    number = _SEPARATORS.sub("", raw).upper().replace("O", "0").replace("I", "1") \
        .replace("L", "1")
    if len(number) != _BODY + 1 or any(c not in ALPHABET for c in number) or \
            _check_char(number[:_BODY]) != number[_BODY]:
        raise ValidationError("Das ist keine gültige Buchungsnummer. Bitte die Nummer von der "
                              "Terminbestätigung prüfen oder den QR-Code scannen.",
                              "check-in code is not a valid booking number", "booking_number")
    return number
