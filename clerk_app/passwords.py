"""Clerks' passwords: the rule for a new one, and argon2id verifiers.

The rule follows NIST SP 800-63B and BSI: at least 12 characters, no composition rules
(a long passphrase beats "Passw0rt!"), and no password from a list of common ones
(`resources/common-passwords.txt`), nor one built on the clerk's login name.

Verifiers are argon2id (argon2-cffi) with OWASP's recommended parameters (19 MiB memory,
2 iterations, 1 lane): the central service keeps one per account, and a workstation caches
the one of each clerk's last online login for offline login (`clerk_app.login`).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clerk_app.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_FILE = "common-passwords.txt"
# OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_TRAILING = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("resources").joinpath(COMMON_FILE).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_new_password(password: str, login: str) -> None:
    """Refuse (ValidationError, German message) a new password that breaks the rule."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"Das Passwort muss mindestens {MIN_LENGTH} Zeichen lang sein "
                              "(ein Satz aus mehreren Wörtern ist leicht zu merken).",
                              "new password too short", field="password")
    if len(password) > MAX_LENGTH:
        raise ValidationError(f"Das Passwort darf höchstens {MAX_LENGTH} Zeichen lang sein.",
                              "new password too long", field="password")
    lowered = password.lower()
    common = common_passwords()
    stem = _TRAILING.sub("", lowered)
    repeated = any(lowered == lowered[:n] * (len(lowered) // n)
                   for n in range(1, len(lowered) // 2 + 1) if len(lowered) % n == 0)
    if lowered in common or stem in common or repeated:
        raise ValidationError("Dieses Passwort ist zu verbreitet oder zu einfach und wird "
                              "als Erstes ausprobiert. Bitte ein anderes wählen.",
                              "new password is a common one", field="password")
    if login and login.lower() in lowered:
        raise ValidationError("Das Passwort darf den Anmeldenamen nicht enthalten.",
                              "new password contains the login name", field="password")


def make_verifier(password: str) -> str:
    """An argon2id verifier (with its own salt and parameters) for `password`."""
    return HASHER.hash(password)


def verify_password(verifier: str, password: str) -> bool:
    """True if `password` matches; a damaged verifier is a mismatch, never a crash."""
    try:
        return HASHER.verify(verifier, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
