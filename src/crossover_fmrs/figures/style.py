"""The shared look of every figure and the deterministic way they are saved.

Journal sizes (Nature: single column 89 mm, double column 183 mm), 7 pt text, the Okabe-Ito
colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"), with a condition's
colour fixed by its position in the configured condition list. The look (dark-grey ticks style,
journal sizes) is the project's own rc set. Figures are built with matplotlib's object API (no
pyplot: no global figure registry to leak between figures); `Sizes` holds the study sizes above
which a figure changes form and the largest side of a saved image.
Only the figure modules import matplotlib; `data` and `summary` stay free of it.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from ..common.tables import atomic_write_bytes, atomic_write_text, write_tsv

MM_PER_INCH = 25.4
SINGLE_COLUMN = 89 / MM_PER_INCH
DOUBLE_COLUMN = 183 / MM_PER_INCH
FONT_SIZE = 7
DPI = 300
# Okabe-Ito; the first two match the study's convention: placebo blue, naltrexone vermilion.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
NEUTRAL = "#555555"
LIGHT = "#BBBBBB"
INFUSION_SHADE = "#E5E5E5"
SYNTHETIC_LABEL = "SYNTHETIC DATA"
# Words for time points a config does not name (figures.labels.timepoints names the others).
TIMEPOINT_LABELS = {"pre": "pre-infusion", "post": "post-infusion"}
PANEL_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_SIDE_PX = 10_000  # no saved image is larger on a side (config figures.max_side_px)

INK = "#262626"  # dark grey for axes and text: softer than black at 7 pt
# The journal's style and sizes, and what makes a saved file the same on every run.
RC = {
    "axes.facecolor": "white",
    "figure.facecolor": "white",
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "axes.grid": False,
    "axes.axisbelow": True,
    "lines.solid_capstyle": "round",
    "patch.force_edgecolor": True,
    # DejaVu Sans ships with matplotlib: the same glyph metrics on every machine.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE,
    "ytick.labelsize": FONT_SIZE,
    "legend.fontsize": FONT_SIZE,
    "legend.title_fontsize": FONT_SIZE,
    "figure.titlesize": FONT_SIZE + 1,
    "legend.frameon": False,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.5,
    "errorbar.capsize": 2,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    # Text stays text in the SVG (editable, searchable); ids derive from a fixed salt, not a random
    # one.
    "svg.fonttype": "none",
    "svg.hashsalt": "crossover_fmrs",
    "pdf.fonttype": 42,
}


def theme() -> dict:
    """The rcParams of every figure (a copy of RC)."""
    return dict(RC)


@contextmanager
def context():
    """The figure style; used while building and while saving (ticks are made at draw time)."""
    with matplotlib.rc_context(theme()):
        yield


def condition_colours(conditions: list[str]) -> dict[str, str]:
    """Colour of each condition by its configured position, never by the order seen in the data."""
    if len(conditions) > len(OKABE_ITO):
        raise ValueError(
            f"at most {len(OKABE_ITO)} conditions have a colour, got {len(conditions)}"
        )
    return {condition: OKABE_ITO[i] for i, condition in enumerate(conditions)}


def dodge(conditions: list[str], width: float) -> dict[str, float]:
    """Horizontal offsets that keep the error bars of the conditions apart, centred on zero."""
    middle = (len(conditions) - 1) / 2
    return {condition: (i - middle) * width for i, condition in enumerate(conditions)}


def spread(n: int, width: float):
    """Deterministic horizontal scatter of n points in [-width, width] (golden-ratio sequence:
    looks random, needs no random generator and never changes between runs)."""
    golden = (5**0.5 - 1) / 2
    return [width * (2 * ((i * golden) % 1.0) - 1) for i in range(n)]


@dataclass(frozen=True)
class Sizes:
    """Study sizes above which a figure takes the form that scales, and the largest side of a saved
    image, from config figures (docs/reproducibility.md, "Figures at any size")."""

    swarm_max_spectra: int = 400
    individual_max_participants: int = 48
    ratio_map_max_participants: int = 60
    max_side_px: int = MAX_SIDE_PX
    dpi: int = DPI

    @classmethod
    def from_params(cls, params: Mapping) -> Sizes:
        """The rule's params that name a size; the others keep their defaults."""
        names = cls.__dataclass_fields__
        return cls(**{key: params[key] for key in names if key in params})

    def cap(self, inches: float) -> float:
        """A side in inches, no longer than max_side_px at the configured dpi."""
        return min(inches, self.max_side_px / self.dpi)


@dataclass(frozen=True)
class Labels:
    """The words on the figures, from config figures.labels: what the infusion is called, display
    names of conditions and time points, and the unit of each scale's scores."""

    infusion: str = "infusion"
    conditions: Mapping[str, str] = field(default_factory=dict)
    timepoints: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, labels: Mapping | None) -> Labels:
        labels = dict(labels or {})
        return cls(
            labels.get("infusion", "infusion"),
            dict(labels.get("conditions") or {}),
            dict(labels.get("timepoints") or {}),
            dict(labels.get("units") or {}),
        )

    def condition(self, name: str) -> str:
        return self.conditions.get(name, name)

    def timepoint(self, name: str, short: bool = False) -> str:
        """Configured name; else 'pre' -> 'pre-infusion', 'day7' -> 'day 7'. Short (narrow panels):
        the part before a hyphen, 'pre-infusion' -> 'pre'."""
        day = re.fullmatch(r"day(\d+)", name)
        label = (
            self.timepoints.get(name)
            or TIMEPOINT_LABELS.get(name)
            or (f"day {day.group(1)}" if day else name)
        )
        return label.split("-", 1)[0] if short else label

    def unit(self, scale: str) -> str:
        return self.units.get(scale, "score")

    @property
    def time_axis(self) -> str:
        return f"minutes from the start of the {self.infusion}"


def panel_letters(axes) -> None:
    """a, b, c, ... at the top left of each panel of a multi-panel figure."""
    for letter, ax in zip(PANEL_LETTERS, axes):
        ax.text(
            -0.02,
            1.02,
            letter,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontweight="bold",
            fontsize=FONT_SIZE + 1,
        )


def honest_limits(ax, values, floor: float | None = None, min_span_fraction: float = 0.2) -> None:
    """y-limits that do not blow up a small difference: start at the scale's floor where it has one
    (a score of 0), else span at least min_span_fraction of the mean level around the data."""
    values = [float(v) for v in values if v == v]  # drop NaN
    if not values:
        return
    low, high = min(values), max(values)
    if floor is not None:
        ax.set_ylim(min(floor, low), high + 0.08 * (high - min(floor, low) or 1.0))
        return
    middle, half = (low + high) / 2, (high - low) / 2
    half = max(half * 1.15, min_span_fraction * abs(middle) / 2)
    ax.set_ylim(middle - half, middle + half)


COUNT_FONT_SIZE = FONT_SIZE - 1
COUNT_TOP_PT = 14.5  # below the tick labels (tick 2.5 + pad 3.5 + 7 pt text + a gap)
COUNT_LINE_PT = 7.5


def counts_under_axis(ax, x_by_condition: dict, n_by_condition: dict, colours: dict) -> None:
    """The n of every plotted mean under the x axis, one row per condition in its colour, with
    the axis label moved below the rows (fixed offsets in points: the same at any data range)."""
    for row, (condition, xs) in enumerate(x_by_condition.items()):
        for x, n in zip(xs, n_by_condition[condition]):
            ax.annotate(
                f"{int(n)}",
                xy=(x, 0),
                xycoords=ax.get_xaxis_transform(),
                xytext=(0, -COUNT_TOP_PT - row * COUNT_LINE_PT),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=COUNT_FONT_SIZE,
                color=colours[condition],
                annotation_clip=False,
            )
    ax.annotate(
        "n",
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(-6, -COUNT_TOP_PT),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=COUNT_FONT_SIZE,
        fontstyle="italic",
    )
    ax.xaxis.labelpad = 4 + len(x_by_condition) * COUNT_LINE_PT


def outcome_label(outcome: str) -> str:
    """QIDS_SR16 -> QIDS-SR16, TEPS_A -> TEPS-A, M3VAS_mood -> M3VAS mood."""
    head, _, tail = outcome.partition("_")
    if not tail:
        return outcome
    return f"{head}-{tail}" if tail.upper() == tail else f"{head} {tail.replace('_', ' ')}"


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    return Figure(figsize=(width, height), layout=layout)


def label_synthetic(figure: Figure, synthetic: bool) -> None:
    """The visible SYNTHETIC DATA label every figure of simulated data carries."""
    if synthetic:
        figure.suptitle(SYNTHETIC_LABEL, x=0.99, ha="right", fontweight="bold", color="#000000")


def capped_dpi(figure: Figure, dpi: int, max_side_px: int = MAX_SIDE_PX) -> int:
    """dpi, lowered where a side of the figure would otherwise exceed max_side_px pixels (a
    safety net: the figures cap their own sizes, see Sizes.cap)."""
    longest = max(figure.get_size_inches())
    return dpi if longest * dpi <= max_side_px else int(max_side_px // longest)


def render(figure: Figure, fmt: str, dpi: int = DPI, max_side_px: int = MAX_SIDE_PX) -> bytes:
    """The figure as PNG or SVG bytes, without the software name or a date."""
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}[fmt]
    dpi = capped_dpi(figure, dpi, max_side_px)
    buffer = io.BytesIO()
    with context():
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{name}</title></head>
<body>
<p><img src="data:image/png;base64,{png}" alt="{name}" style="max-width: 100%"></p>
<p>Download: <a download="{name}.svg" href="data:image/svg+xml;base64,{svg}">{name}.svg</a> \
(vector),
<a download="{name}.tsv" href="data:text/tab-separated-values;base64,{tsv}">{name}.tsv</a> \
(the plotted numbers).
The same files are in results/figures/.</p>
</body>
</html>
"""


def report_page(name: str, png: bytes, svg: bytes, tsv: bytes) -> str:
    """A self-contained HTML page of one figure for the report: the PNG, and the SVG and the
    plotted numbers as downloads (embedded, so the single-file report needs nothing beside it)."""
    encoded = {
        kind: base64.b64encode(data).decode("ascii")
        for kind, data in (("png", png), ("svg", svg), ("tsv", tsv))
    }
    return PAGE.format(name=name, **encoded)


def write_figure(
    figure: Figure, table, output, dpi: int = DPI, max_side_px: int = MAX_SIDE_PX
) -> None:
    """A figure's outputs: PNG, SVG, the plotted numbers as TSV and, where the rule asks for it,
    its report page (report_page)."""
    png = render(figure, "png", dpi, max_side_px)
    svg = render(figure, "svg", dpi, max_side_px)
    atomic_write_bytes(output["png"], png)
    atomic_write_bytes(output["svg"], svg)
    write_tsv(table, output["tsv"])
    if output.get("page"):
        page = report_page(Path(output["png"]).stem, png, svg, Path(output["tsv"]).read_bytes())
        atomic_write_text(output["page"], page)
