"""argparse in German: `clerk-app --help`, every sub-command's help and every usage error.

IT reads the command line in German, as the clerks read the window. argparse takes its own
strings ("usage: ", "options", "show this help message and exit", "the following arguments are
required: %s" ...) through the module-level `_`/`ngettext` names it imported from gettext; that
is argparse's translation hook. `german_argparse()` points them at `ARGPARSE_DE` while the
parser is built and the arguments are parsed (the command line is single-threaded), without a
compiled message catalogue, and puts them back afterwards. A string argparse adds in a later
Python version and that is not in the table stays English; `tests/test_cli.py` fails then.

Logs stay English: only argparse's own output is translated.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# argparse's message ids (Python 3.11-3.13) -> German. Placeholders stay as argparse fills them.
ARGPARSE_DE: dict[str, str] = {
    "usage: ": "Aufruf: ",
    "options": "Optionen",
    "optional arguments": "Optionen",
    "positional arguments": "Argumente",
    "show this help message and exit": "diese Hilfe zeigen und beenden",
    "%(prog)s: error: %(message)s\n": "%(prog)s: Fehler: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "Argument %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "diese Angaben fehlen: %s",
    "unrecognized arguments: %s": "unbekannte Angaben: %s",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "ungültige Wahl: %(value)r (möglich: %(choices)s)",
    "invalid %(type)s value: %(value)r": "ungültiger Wert (%(type)s): %(value)r",
    "expected one argument": "ein Wert erwartet",
    "expected at most one argument": "höchstens ein Wert erwartet",
    "expected at least one argument": "mindestens ein Wert erwartet",
    "not allowed with argument %s": "nicht zusammen mit %s erlaubt",
    "ignored explicit argument %r": "Wert %r nicht erlaubt",
    "one of the arguments %s is required": "eine dieser Angaben ist nötig: %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "mehrdeutige Option: %(option)s kann %(matches)s sein",
    "unexpected option string: %s": "unerwartete Option: %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "unbekannter Befehl %(parser_name)r (möglich: %(choices)s)",
    "can't open '%(filename)s': %(error)s": "„%(filename)s“ lässt sich nicht öffnen: %(error)s",
    "cannot have multiple subparser arguments": "nur eine Gruppe von Unterbefehlen möglich",
}
ARGPARSE_PLURAL_DE: dict[str, tuple[str, str]] = {
    "expected %s argument": ("%s Wert erwartet", "%s Werte erwartet"),
    "conflicting option string: %s": ("doppelte Option: %s", "doppelte Optionen: %s"),
}
VERSION_HELP_DE = "Programmversion zeigen und beenden"


def _german(message: str) -> str:
    return ARGPARSE_DE.get(message, message)


def _german_plural(singular: str, plural: str, n: int) -> str:
    forms = ARGPARSE_PLURAL_DE.get(singular)
    if forms is None:
        return singular if n == 1 else plural
    return forms[0] if n == 1 else forms[1]


@contextmanager
def german_argparse() -> Iterator[None]:
    """argparse speaks German inside this block (build the parser and parse in it)."""
    module = vars(argparse)
    saved = module["_"], module["ngettext"]
    module["_"], module["ngettext"] = _german, _german_plural
    try:
        yield
    finally:
        module["_"], module["ngettext"] = saved


def say_error(message_de: str) -> None:
    """A refusal for the person at the command line: German, on standard error (the English
    for the log is the caller's; no personal data goes into either)."""
    sys.stderr.write(f"Fehler: {message_de}\n")
