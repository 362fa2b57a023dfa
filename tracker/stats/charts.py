"""The statistics as charts: which figures become which bars, in words a person reads.

Pure data for the SVG macros in ``templates/stats/partials/_charts.html``: each bar
knows its share of the largest, so a template only scales it. No Flask, no queries.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from tracker.library.display import STATUS_ORDER, format_label, status_label
from tracker.services.stats import MonthCount, Stats

# A label on the axis longer than this is cut (the table holds it whole).
MAX_LABEL = 22


@dataclass(frozen=True)
class Bar:
    label: str  # on the axis, perhaps cut short
    name: str  # whole: in the table and the bar's tooltip
    value: int
    share: float  # of the largest bar, 0 to 1
    sublabel: str = ""  # a second line under the label (a month's year)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str  # what the values count ("titles", "changes")
    heading: str  # the table's first column
    bars: list[Bar]

    @property
    def sublabelled(self) -> bool:
        return any(bar.sublabel for bar in self.bars)

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def largest(self) -> Bar | None:
        return max(self.bars, key=lambda bar: bar.value, default=None)

    @property
    def summary(self) -> str:
        """The chart in a sentence, for its accessible description."""
        top = self.largest
        if top is None or not top.value:
            return f"Nothing to show: no {self.unit}."
        total = sum(bar.value for bar in self.bars)
        return (f"{total} {self.unit} in all; the most, {top.value}, for {top.name}. "
                "The table below has every value.")  # fmt: skip


def chart(id: str, title: str, unit: str, heading: str,
          rows: list[tuple[str, str, int]]) -> Chart:  # fmt: skip
    """A chart of (label, name, value) rows, in the order given."""
    largest = max((value for _l, _n, value in rows), default=0)
    bars = [Bar(_cut(label), name, value, value / largest if largest else 0.0)
            for label, name, value in rows]  # fmt: skip
    return Chart(id, title, unit, heading, bars)


def _cut(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def month_label(month: str) -> str:
    """``2026-05`` as ``May``."""
    return _month(month).strftime("%b")


def month_year(month: str, *, first: bool = False) -> str:
    """The year under a month's label: on the first bar and on every January, so a
    window across two years reads without the table; nothing under the others."""
    day = _month(month)
    return str(day.year) if first or day.month == 1 else ""


def month_name(month: str) -> str:
    """``2026-05`` as ``May 2026``."""
    return _month(month).strftime("%B %Y")


def _month(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def _months(id: str, title: str, unit: str, months: list[MonthCount]) -> Chart:
    rows = [(month_label(m.month), month_name(m.month), m.count) for m in months]
    drawn = chart(id, title, unit, "Month", rows)
    years = [month_year(m.month, first=k == 0) for k, m in enumerate(months)]
    bars = [replace(bar, sublabel=year) for bar, year in zip(drawn.bars, years, strict=True)]
    return replace(drawn, bars=bars)


def charts_for(stats: Stats) -> dict[str, Chart]:
    """Every chart of the page, by name."""
    statuses = [(status_label(s, stats.type), status_label(s, stats.type), stats.by_status[s])
                for s in STATUS_ORDER]  # fmt: skip
    formats = [(format_label(f.name) or "Unknown", format_label(f.name) or "Unknown", f.count)
               for f in stats.formats]  # fmt: skip
    return {
        "status": chart("chart-status", "Titles by status", "titles", "Status", statuses),
        "scores": chart("chart-scores", "Score distribution", "scored titles", "Score",
                        [(_top(b.label), b.words, b.count) for b in stats.scores.distribution]),
        "completions": _months("chart-completions", "Completed per month", "titles completed",
                               stats.completions),
        "activity": _months("chart-activity", "Activity per month", "changes", stats.activity),
        "formats": chart("chart-formats", "Formats", "titles", "Format", formats),
        "genres": chart("chart-genres", "Top genres", "titles", "Genre",
                        [(g.name or "", g.name or "", g.count) for g in stats.genres]),
    }  # fmt: skip


def _top(label: str) -> str:
    """A range of scores on the axis by its top, as AniList labels it: 100 for 91 to 100."""
    return label.rpartition("–")[2]


def duration_words(minutes: int) -> str:
    """``3 days 4 hours``, ``12 hours 5 minutes``, ``45 minutes``."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (mins, "minute")]
    words = [f"{n:,} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(words) or "0 minutes"
