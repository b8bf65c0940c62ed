"""The statistics' bar chart: value axis steps that suit the data (never half a visitor),
the whole table as text for screen readers, an empty chart that says why."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from ui.queue.bar_chart import BarChart, Series, _tick_step


@pytest.mark.parametrize(("peak", "whole", "step"), [
    (1, True, 1.0), (3, True, 1.0), (5, True, 2.0), (9, True, 5.0), (41, True, 20.0),
    (0, True, 1.0), (1, False, 0.25), (13, False, 5.0), (31, False, 10.0), (0.3, False, 0.1)])
def test_tick_steps(peak: float, whole: bool, step: float) -> None:
    assert _tick_step(peak, whole=whole) == pytest.approx(step)
    assert _tick_step(peak, whole=whole) * 4 >= peak


def test_chart_says_its_figures_and_paints(qtbot: QtBot) -> None:
    chart = BarChart("Wartezeit", " min", empty="keine Besuche")
    qtbot.addWidget(chart)
    chart.resize(500, 260)
    assert chart.grab().width() == 500   # paints without data
    assert chart.accessibleDescription() == ""
    chart.set_data(["8 Uhr", "9 Uhr"], [Series("Durchschnitt", (4.0, 12.5)),
                                        Series("Höchstwert", (9.0, 31.0))])
    assert chart.accessibleDescription() == (
        "8 Uhr: Durchschnitt 4 min, Höchstwert 9 min; "
        "9 Uhr: Durchschnitt 12,5 min, Höchstwert 31 min")
    image = chart.grab().toImage()
    assert not image.isNull()
    chart.set_data([], [])
    assert chart.accessibleDescription() == "keine Besuche"
