"""Checks for the entries of a hand-edited TOML data file (fee schedule, waiting room).

IT edits these files by hand, so each is read strictly: a table must be a table, an unknown
key is an error (a typo is never silently ignored), a text must be there. Each file words
its own errors (`error(where, problem_de, problem_en)` names the file and the entry), so the
checks take that function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clerk_app.errors import ConfigError

ErrorFactory = Callable[[str, str, str], ConfigError]


class EntryChecks:
    """The common checks, raising the file's own `ConfigError`s."""

    def __init__(self, error: ErrorFactory) -> None:
        self.error = error

    def table(self, where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, "muss eine Tabelle sein ([…] mit Schlüssel = Wert)",
                             "must be a table")
        return value

    def only_keys(self, where: str, entry: Mapping[str, Any], allowed: set[str]) -> None:
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise self.error(where, f"unbekannter Schlüssel „{unknown[0]}“ (erlaubt: "
                                    f"{', '.join(sorted(allowed))})",
                             f"unknown key {unknown[0]!r}")

    def text(self, where: str, entry: Mapping[str, Any], key: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(where, f"„{key}“ fehlt oder ist leer", f"{key} missing or empty")
        return value.strip()
