"""When a zone typed by a scanner is complete: ICAO 9303 specimens, with and without line
breaks, typed one character at a time (every prefix is judged, as the search field does)."""

from __future__ import annotations

import pytest

from clerk_app.mrz import parse
from clerk_app.mrz_input import ZoneState, progress

# German ID card specimen (TD1), ICAO TD2 specimen, German passport specimen (TD3).
TD1 = ("IDD<<T220001293<<<<<<<<<<<<<<<", "6408125<2010315D<<<<<<<<<<<<<4",
       "MUSTERMANN<<ERIKA<<<<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
TD3 = ("P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<",
       "C01X00T478D<<6408125F2702283<<<<<<<<<<<<<<<4")
SPECIMENS = {"TD1": TD1, "TD2": TD2, "TD3": TD3}


def typed(lines: tuple[str, ...], breaks: bool) -> list[tuple[str, list[int]]]:
    """Every state the field passes through: (characters so far, line ends so far)."""
    states: list[tuple[str, list[int]]] = []
    chars, ends = "", []
    for line in lines:
        for char in line:
            chars += char
            states.append((chars, list(ends)))
        if breaks:
            ends.append(len(chars))
            states.append((chars, list(ends)))
    return states


@pytest.mark.parametrize("breaks", [True, False], ids=["line breaks", "one piece"])
@pytest.mark.parametrize("kind", ["TD1", "TD2", "TD3"])
def test_zone_typed_fast_is_complete_exactly_once_in_its_layout(kind: str, breaks: bool) -> None:
    """Without a pause (a fast scanner), no shorter layout is ever taken for complete."""
    lines = SPECIMENS[kind]
    complete = [(chars, progress(chars, ends, paused=False))
                for chars, ends in typed(lines, breaks)]
    complete = [(chars, p) for chars, p in complete if p.state is ZoneState.COMPLETE]
    total = sum(map(len, lines))
    if kind == "TD1" or breaks:
        assert complete, "complete without waiting"
        assert {len(chars) for chars, _ in complete} == {total}
        answer = complete[0][1]
        assert answer.kind == kind
        assert answer.zone == "\n".join(lines)
        assert parse(answer.zone).is_valid
    else:
        assert complete == [], "TD2/TD3 in one piece could still be the start of a longer zone"


@pytest.mark.parametrize("kind", ["TD2", "TD3"])
def test_after_a_pause_the_zone_that_fits_is_read(kind: str) -> None:
    lines = SPECIMENS[kind]
    answer = progress("".join(lines), paused=True)
    assert (answer.state, answer.kind, answer.zone) == \
        (ZoneState.COMPLETE, kind, "\n".join(lines))


def test_id_card_start_is_not_taken_for_a_td2_or_td3_zone() -> None:
    chars = "".join(TD1)
    for length in (72, 88):
        assert progress(chars[:length], paused=False).state is ZoneState.TYPING
        # With the line breaks seen, even a pause does not make it TD2 or TD3.
        answer = progress(chars[:length], [30, 60], paused=True)
        assert answer.state is ZoneState.STOPPED
        assert answer.expected_length == 90


def test_trailing_break_completes_a_one_piece_zone() -> None:
    chars = "".join(TD2)
    answer = progress(chars, [72], paused=False)
    assert (answer.state, answer.kind) == (ZoneState.COMPLETE, "TD2")


@pytest.mark.parametrize(("chars", "ends"), [
    ("".join(TD1)[:29], [29]),                 # a line of 29: a character was lost
    ("".join(TD1) + "<", []),                  # longer than any zone
    ("".join(TD1)[:65], [30, 65]),             # a line break inside a line
])
def test_zone_that_fits_no_layout_is_broken(chars: str, ends: list[int]) -> None:
    assert progress(chars, ends, paused=False).state is ZoneState.BROKEN


def test_zone_that_stops_short_is_stopped_after_the_pause() -> None:
    chars = "".join(TD1)[:89]
    assert progress(chars, paused=False).state is ZoneState.TYPING
    answer = progress(chars, paused=True)
    assert answer.state is ZoneState.STOPPED
    assert answer.expected_length == 90
    assert progress(chars[:80], paused=True).expected_length is None, "TD3 or TD1"
