"""When a machine-readable zone typed by a keyboard-wedge scanner is complete, and in which layout.

The scanner types the zone character by character, fast, with or without a line break after
each line. Length alone cannot decide the layout while the zone arrives: the first 72
characters of an ID card (TD1, 3 × 30) have the length of a whole TD2 zone (2 × 36), and its
first 88 that of a passport (TD3, 2 × 44). Reading at the first length that fits took every ID
card for a TD2 zone and showed a wall of check-digit errors.

So the zone is judged by what the scanner tells beyond the characters:

* **Line breaks.** A break can only come where a line of the layout ends: a break after 30
  characters rules out TD2 and TD3, one after 72 rules out TD1 and TD3.
* **A pause.** A scanner types a zone in one burst; it does not stop in the middle of a line.
  When the typing stops at a length that completes a layout, that layout is meant.
* **No longer layout possible.** 90 characters can only be TD1, so the zone is read at once.

`progress` is pure: the search field feeds it what it has seen and acts on the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from clerk_app.mrz import MrzKind

__all__ = ["LAYOUTS", "ZoneProgress", "ZoneState", "progress"]

# kind -> (line width, number of lines)
LAYOUTS: dict[MrzKind, tuple[int, int]] = {"TD1": (30, 3), "TD2": (36, 2), "TD3": (44, 2)}


class ZoneState(StrEnum):
    """Where a typed zone stands."""

    TYPING = "typing"        # more characters are to come (or may come)
    COMPLETE = "complete"    # read it now: `ZoneProgress.zone` holds its lines
    STOPPED = "stopped"      # the typing paused before any layout was complete
    BROKEN = "broken"        # no layout fits what arrived: a character was lost or added


@dataclass(frozen=True)
class ZoneProgress:
    state: ZoneState
    kind: MrzKind | None = None
    zone: str = ""
    """The complete zone, its lines separated by '\\n' (what `mrz.parse` reads)."""
    expected_length: int | None = None
    """The length of the only layout still possible (else None), for "n of 90 characters"."""


def progress(chars: str, line_ends: Iterable[int] = (), *, paused: bool) -> ZoneProgress:
    """Judge the zone typed so far.

    `chars` is what arrived without line breaks or surrounding blanks; `line_ends` the
    lengths of `chars` at which the scanner sent a line break; `paused` whether the typing
    has stopped for a moment (the caller's timer).
    """
    length = len(chars)
    ends = {end for end in line_ends if 0 < end <= length}
    possible = [kind for kind, (width, lines) in LAYOUTS.items()
                if length <= width * lines and all(end % width == 0 for end in ends)]
    if not possible:
        return ZoneProgress(ZoneState.BROKEN)
    complete = [kind for kind in possible if length == _total(kind)]
    if complete and (paused or len(possible) == 1):
        kind = complete[0]
        width = LAYOUTS[kind][0]
        zone = "\n".join(chars[start:start + width] for start in range(0, length, width))
        return ZoneProgress(ZoneState.COMPLETE, kind, zone, length)
    expected = _total(possible[0]) if len(possible) == 1 else None
    if paused:
        return ZoneProgress(ZoneState.STOPPED, expected_length=expected)
    return ZoneProgress(ZoneState.TYPING, expected_length=expected)


def _total(kind: MrzKind) -> int:
    width, lines = LAYOUTS[kind]
    return width * lines
