"""A bar chart painted with `QPainter`: the statistics screen's only plotting need.

Why no plotting library: QtCharts is not in PySide6-Essentials (the Addons wheel adds about
200 MB to the bundle for a few bar charts); matplotlib and pyqtgraph bring numpy, and
matplotlib its own font and backend machinery, tens of MB more in the signed installer, for
charts of at most 24 bars in two series. Bars, a value axis and labels are a hundred lines of
`QPainter`, print and grab like any widget, and follow the system font and scaling.

Readable without colour: a second series is hatched, each bar carries its value, and the
widget's accessible description holds the whole table as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

SERIES_COLOURS = (QColor("#1f4e79"), QColor("#c55a11"))
SERIES_PATTERNS = (Qt.BrushStyle.SolidPattern, Qt.BrushStyle.BDiagPattern)
AXIS = QColor("#303030")
GRID = QColor("#d0d0d0")
TICKS = 4


@dataclass(frozen=True)
class Series:
    """One row of bars: its name (the legend) and one value per category."""

    name: str
    values: tuple[float, ...]


class BarChart(QWidget):
    """Categories along the bottom, one bar per series in each; `set_data` replaces all."""

    def __init__(self, title: str, unit: str = "", parent: QWidget | None = None, *,
                 empty: str = "–") -> None:
        super().__init__(parent)
        self.setMinimumSize(360, 220)
        self.setAccessibleName(title)
        self._title = title
        self._unit = unit
        self._empty = empty
        self._categories: tuple[str, ...] = ()
        self._series: tuple[Series, ...] = ()

    def set_data(self, categories: Sequence[str], series: Sequence[Series]) -> None:
        self._categories = tuple(categories)
        self._series = tuple(series)
        if not self._categories:
            self.setAccessibleDescription(self._empty)
            self.update()
            return
        lines = [f"{c}: " + ", ".join(f"{s.name} {_number(s.values[i])}{self._unit}"
                                      for s in self._series)
                 for i, c in enumerate(self._categories)]
        self.setAccessibleDescription("; ".join(lines))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        metrics = QFontMetricsF(self.font())
        line = metrics.height()
        title_font = self.font()
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(AXIS)
        painter.drawText(QRectF(8, 4, self.width() - 16, line * 1.4),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         self._title)
        painter.setFont(self.font())
        self._legend(painter, QRectF(8, 4, self.width() - 16, line * 1.4), metrics)
        top = line * 2.2
        plot = QRectF(metrics.horizontalAdvance("00000") + 14, top,
                      self.width() - metrics.horizontalAdvance("00000") - 24,
                      self.height() - top - line * 1.8)
        if not self._categories or not self._series:
            painter.setPen(AXIS)
            painter.drawText(plot, int(Qt.AlignmentFlag.AlignCenter), self._empty)
            painter.end()
            return
        values = [v for s in self._series for v in s.values]
        step = _tick_step(max(values, default=0.0),
                          whole=all(float(v).is_integer() for v in values))
        peak = step * TICKS
        self._axis(painter, plot, peak, metrics)
        self._bars(painter, plot, peak, metrics)
        painter.end()

    def _legend(self, painter: QPainter, rect: QRectF, metrics: QFontMetricsF) -> None:
        x = rect.right()
        for index in reversed(range(len(self._series))):
            name = self._series[index].name
            width = metrics.horizontalAdvance(name)
            x -= width
            painter.setPen(AXIS)
            painter.drawText(QRectF(x, rect.top(), width, rect.height()),
                             int(Qt.AlignmentFlag.AlignVCenter), name)
            box = metrics.height() * 0.8
            x -= box + 6
            self._bar_style(painter, index)
            painter.drawRect(QRectF(x, rect.center().y() - box / 2, box, box))
            x -= 18

    def _axis(self, painter: QPainter, plot: QRectF, peak: float,
              metrics: QFontMetricsF) -> None:
        for step in range(TICKS + 1):
            value = peak * step / TICKS
            y = plot.bottom() - plot.height() * step / TICKS
            painter.setPen(QPen(GRID if step else AXIS, 1))
            painter.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            painter.setPen(AXIS)
            painter.drawText(QRectF(0, y - metrics.height() / 2, plot.left() - 6,
                                    metrics.height()),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             _number(value))

    def _bars(self, painter: QPainter, plot: QRectF, peak: float,
              metrics: QFontMetricsF) -> None:
        slot = plot.width() / len(self._categories)
        bar = slot * 0.8 / len(self._series)
        for i, category in enumerate(self._categories):
            left = plot.left() + slot * i + slot * 0.1
            for index, series in enumerate(self._series):
                value = series.values[i]
                height = plot.height() * value / peak if peak else 0.0
                rect = QRectF(left + bar * index, plot.bottom() - height, bar, height)
                self._bar_style(painter, index)
                painter.drawRect(rect)
                if value and bar >= metrics.horizontalAdvance(_number(value)):
                    painter.setPen(AXIS)
                    painter.drawText(QRectF(rect.left(), rect.top() - metrics.height(), bar,
                                            metrics.height()),
                                     int(Qt.AlignmentFlag.AlignCenter), _number(value))
            painter.setPen(AXIS)
            painter.drawText(QRectF(plot.left() + slot * i, plot.bottom() + 2, slot,
                                    metrics.height() * 1.4),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                             metrics.elidedText(category, Qt.TextElideMode.ElideRight, slot))

    @staticmethod
    def _bar_style(painter: QPainter, index: int) -> None:
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        painter.setPen(QPen(colour, 1))
        painter.setBrush(QBrush(colour, SERIES_PATTERNS[index % len(SERIES_PATTERNS)]))


def _tick_step(peak: float, *, whole: bool) -> float:
    """The distance between the value axis' `TICKS` + 1 lines: 1, 2, 2.5 or 5 times a power
    of ten, so that the top line is at least `peak` (whole numbers: no step below 1 and no
    2.5, so counts never get half a visitor)."""
    wanted = max(peak, 1e-9) / TICKS
    power = 10 ** math.floor(math.log10(wanted))
    factors = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(float(f * power) for f in factors if wanted <= f * power)
    return max(step, 1.0) if whole else step


def _number(value: float) -> str:
    """German form: whole numbers plain, else one decimal with a comma."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}".replace(".", ",")
