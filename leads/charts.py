"""Bar charts drawn on the server as SVG: no JavaScript, no CDN.

Each chart is an image with a <title> and a <desc> that say what it shows; the page also
gives the same numbers as a table, for screen readers and for anyone who wants the figures.
"""

from dataclasses import dataclass
from math import ceil, floor, log10

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Okabe-Ito colours: still told apart with the common kinds of colour blindness.
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"]
GREY = "#768692"

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 16, 40
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 13


def number(value: float | None) -> str:
    """Whole numbers plain, others to one decimal place; a dash for no value."""
    if value is None:
        return "—"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def axis_ticks(value: float, *, whole: bool = True) -> list[float]:
    """Four or so round steps from 0 to at least ``value``: 1, 2 or 5 times a power of ten
    (2.5 only where it stays a whole number), so counts never get a tick like 6.25.
    ``whole`` keeps the steps at 1 or more, for counts."""
    if value <= 0:
        return [0, 1]
    rough = value / 4
    power = 10 ** floor(log10(rough))
    steps = [m * power for m in (1, 2, 2.5, 5, 10) if m != 2.5 or power >= 10]
    step = next(s for s in steps if rough <= s)
    if whole:
        step = max(step, 1)
    return [step * i for i in range(ceil(value / step - 1e-9) + 1)]


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]
    colour: str


@dataclass(frozen=True)
class BarChart:
    """Bars per category, stacked when there is more than one series."""

    slug: str
    title: str
    description: str  # what the picture shows, in a sentence or two
    category_label: str
    categories: list[str]
    series: list[Series]
    unit: str = ""
    target: float | None = None
    target_label: str = ""
    max_value: float | None = None
    whole_numbers: bool = True  # counts; False for measures such as hours
    note: str = ""

    @property
    def stacked(self) -> bool:
        return len(self.series) > 1

    def totals(self) -> list[float]:
        return [sum(s.values[i] or 0 for s in self.series) for i in range(len(self.categories))]

    def table_header(self) -> list[str]:
        unit = f" ({self.unit})" if self.unit else ""
        header = [self.category_label, *(f"{s.label}{unit}" for s in self.series)]
        return [*header, "Total"] if self.stacked else header

    def table_rows(self) -> list[list[str]]:
        rows = []
        for i, category in enumerate(self.categories):
            cells = [number(s.values[i]) for s in self.series]
            if self.stacked:
                cells.append(number(self.totals()[i]))
            rows.append([category, *cells])
        return rows

    def svg(self) -> SafeString:
        ticks = axis_ticks(
            self.max_value or max([*self.totals(), self.target or 0]), whole=self.whole_numbers
        )
        top = ticks[-1]
        count = max(len(self.categories), 1)
        band = PLOT_WIDTH / count
        bar_width = band * 0.7

        def y(value: float) -> float:
            return TOP + PLOT_HEIGHT - (value / top) * PLOT_HEIGHT

        grid = format_html_join(
            "",
            '<line x1="{}" x2="{}" y1="{}" y2="{}" class="chart-grid"/>'
            '<text x="{}" y="{}" class="chart-axis" text-anchor="end">{}</text>',
            (
                (
                    LEFT,
                    WIDTH - RIGHT,
                    f"{y(t):.1f}",
                    f"{y(t):.1f}",
                    LEFT - 6,
                    f"{y(t) + 4:.1f}",
                    number(t),
                )
                for t in ticks
            ),
        )
        bars = []
        for i, category in enumerate(self.categories):
            base = 0.0
            x = LEFT + i * band + (band - bar_width) / 2
            for series in self.series:
                value = series.values[i]
                if not value:
                    continue
                bars.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                        "<title>{}: {}{} {}</title></rect>",
                        f"{x:.1f}",
                        f"{y(base + value):.1f}",
                        f"{bar_width:.1f}",
                        f"{y(base) - y(base + value):.1f}",
                        series.colour,
                        category,
                        f"{series.label} " if self.stacked else "",
                        number(value),
                        self.unit,
                    )
                )
                base += value
        every = ceil(count / MAX_X_LABELS)
        labels = format_html_join(
            "",
            '<text x="{}" y="{}" class="chart-axis" text-anchor="middle">{}</text>',
            (
                (f"{LEFT + i * band + band / 2:.1f}", HEIGHT - BOTTOM + 16, category)
                for i, category in enumerate(self.categories)
                if i % every == 0
            ),
        )
        target = ""
        if self.target is not None:
            target = format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" class="chart-target"/>'
                '<text x="{}" y="{}" class="chart-target-label" text-anchor="end">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                f"{y(self.target):.1f}",
                f"{y(self.target):.1f}",
                WIDTH - RIGHT,
                f"{y(self.target) - 4:.1f}",
                self.target_label,
            )
        empty = ""
        if not any(self.totals()):
            empty = format_html(
                '<text x="{}" y="{}" class="chart-empty" text-anchor="middle">{}</text>',
                LEFT + PLOT_WIDTH / 2,
                TOP + PLOT_HEIGHT / 2,
                "Nothing to show for this period",
            )
        return format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" '
            'role="img" aria-labelledby="{}-title {}-desc">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
            '{}<line x1="{}" x2="{}" y1="{}" y2="{}" class="chart-baseline"/>{}{}{}{}</svg>',
            WIDTH,
            HEIGHT,
            self.slug,
            self.slug,
            self.slug,
            self.title,
            self.slug,
            self.description,
            grid,
            LEFT,
            WIDTH - RIGHT,
            TOP + PLOT_HEIGHT,
            TOP + PLOT_HEIGHT,
            format_html_join("", "{}", ((bar,) for bar in bars)),
            target,
            labels,
            empty,
        )
