"""Build `clerk_app/data/din91379.json` from the official DIN 91379 (String.Latin+ 1.3) lists.

The app must not parse the 110 KB text lists at start-up, so this script reduces them once to
the compact table `clerk_app.names` loads: per group the allowed single characters (one string)
and the allowed sequences (base letter + combining marks without a precomposed form), plus the
search form of every Latin letter and sequence. Run it again when a new version of the lists
is adopted; `tests/test_names.py` fails while the packaged table and the lists disagree.

    python build_spec/gen_din91379_table.py [--source DIR] [--output FILE] [--check]

Source: https://github.com/String-Latin/DIN-91379-Characters-and-Sequences (CC-BY 4.0).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / "tests" / "data" / "din91379"  # the lists as shipped, see SOURCE.md
DEFAULT_OUTPUT = REPO / "clerk_app" / "data" / "din91379.json"

LIST_FILE = "latin_list_1.3.txt"
SEARCH_FILE = "latin_list_search_form_1.3.txt"
# Order as in latin_groups.txt; the table keeps it so the JSON diff stays readable.
GROUPS = ("bll", "bnlreq", "bnl", "bnlopt", "bnlnot", "dc", "gl", "cl", "enl")


def _chars(code_points: str) -> str:
    """`"0041 030B"` -> `"A\u030b"`: the code point column is authoritative (the glyph column
    holds U+FFFD for the control characters of group bnlnot)."""
    return "".join(chr(int(cp, 16)) for cp in code_points.split())


def read_rows(path: Path) -> list[list[str]]:
    """The `; `-separated rows of one list file. Splitting on `"; "` (not `";"`) keeps the
    rows for SEMICOLON and SPACE intact."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("; ")
        if len(fields) < 5 or fields[1] not in ("char", "seq"):
            raise ValueError(f"{path.name}:{number}: unexpected row format")
        rows.append(fields)
    return rows


def build_table(source: Path) -> dict[str, Any]:
    """The table as a JSON-ready dict; raises ValueError on anything the app could not use."""
    chars: dict[str, list[str]] = {group: [] for group in GROUPS}
    sequences: dict[str, list[str]] = {group: [] for group in GROUPS}
    for fields in read_rows(source / LIST_FILE):
        group, kind, unit = fields[0], fields[1], _chars(fields[2])
        if group not in chars:
            raise ValueError(f"unknown group {group!r}")
        if unicodedata.normalize("NFC", unit) != unit:
            raise ValueError(f"{fields[2]} is not in NFC; the validator compares NFC text")
        if kind == "char":
            if len(unit) != 1:
                raise ValueError(f"{fields[2]}: 'char' row with several code points")
            chars[group].append(unit)
        else:
            sequences[group].append(unit)

    search_forms: dict[str, str] = {}
    for fields in read_rows(source / SEARCH_FILE):
        if len(fields) < 7:
            raise ValueError(f"{fields[2]}: search-form row without a search form")
        form = _chars(fields[5])
        if not form.isascii() or not form.isalpha() or not form.isupper():
            raise ValueError(f"{fields[2]}: search form {form!r} is not A-Z")
        search_forms[_chars(fields[2])] = form

    return {
        "source": "DIN-91379-Characters-and-Sequences (String.Latin+ 1.3), CC-BY 4.0, "
        "https://github.com/String-Latin/DIN-91379-Characters-and-Sequences",
        "generated_by": "build_spec/gen_din91379_table.py",
        "chars": {group: "".join(units) for group, units in chars.items() if units},
        "sequences": {group: units for group, units in sequences.items() if units},
        "search_forms": search_forms,
    }


def render(table: dict[str, Any]) -> str:
    """Deterministic text so regenerating unchanged lists gives a byte-identical file."""
    return json.dumps(table, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the output file is out of date")
    args = parser.parse_args(argv)
    text = render(build_table(args.source))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            sys.stderr.write(f"{args.output} is out of date; run {Path(__file__).name}\n")
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
