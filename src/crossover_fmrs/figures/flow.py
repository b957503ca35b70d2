"""The participant flow of a crossover trial drawn from results/stats/participant_flow.tsv (boxes
and arrows, after the CONSORT 2010 extension to crossover trials).

Every box and count is the table's (enrolment, the sequences and periods, who was analysed on
each condition, the analyses of the whole sample): the figure only lays them out. Layout, read
off the table: boxes of one `tier` stand side by side, in step order; tiers run top to bottom.
Between two tiers of the same sequences (`arm`) arrows run sequence to sequence; elsewhere they
meet in a horizontal connector (randomised -> sequences, sequences -> analyses).
"""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..common.errors import InputError
from . import style
from .data import require_columns, source_of

ALL = "all"
LINE_IN = style.FONT_SIZE * 1.25 / 72  # one text line, inches
CHAR_IN = style.FONT_SIZE * 0.56 / 72  # mean glyph width of DejaVu Sans, inches (for wrapping)
GAP_IN = 0.28  # vertical space between tiers
PAD_IN = 0.05
MAX_NOTE_LINES = 6  # a box's height does not grow with the study


def flow_tiers(flow: pd.DataFrame) -> list[dict]:
    """Tiers of boxes, top to bottom: {"arms": [arm of each box], "rows": [flow rows in step
    order]}."""
    require_columns(
        flow, ["step", "tier", "arm", "stage", "n_participants", "n_observations", "note"]
    )
    if flow["step"].duplicated().any():
        step = flow.loc[flow["step"].duplicated(), "step"].iloc[0]
        raise InputError(
            source_of(flow), f"step {step}", "step", "each step once", "a repeated step"
        )
    tiers = []
    for _, rows in flow.sort_values("step", kind="stable").groupby("tier", sort=True):
        records = rows.to_dict("records")
        tiers.append({"arms": [row["arm"] for row in records], "rows": records})
    return tiers


def _box_lines(row: dict, width_in: float) -> list[tuple[str, bool]]:
    """Text of a box as (line, bold): stage, counts, then the wrapped note."""
    chars = max(12, int((width_in - 2 * PAD_IN) / CHAR_IN))
    stage = str(row["stage"])
    first_word = stage.split(" ", 1)[0]
    if first_word.islower():  # "randomised" -> "Randomised", but "fMRS acquired" stays
        stage = stage[:1].upper() + stage[1:]
    bold_chars = max(10, int(chars * 0.88))  # bold glyphs are wider
    lines = [(line, True) for line in textwrap.wrap(stage, bold_chars)]
    count = f"n = {int(row['n_participants'])} participants"
    if not pd.isna(row["n_observations"]):
        unit = (
            row.get("unit")
            if isinstance(row.get("unit"), str) and row.get("unit")
            else "observations"
        )
        count += f", {int(row['n_observations'])} {unit}"
    lines += [(line, False) for line in textwrap.wrap(count, chars)]
    note = row["note"] if isinstance(row["note"], str) else ""
    note_lines = textwrap.wrap(note, chars)
    if len(note_lines) > MAX_NOTE_LINES:  # e.g. a count per site of a study of many sites
        note_lines = note_lines[: MAX_NOTE_LINES - 1] + ["… (the whole note: the figure's TSV)"]
    lines += [(line, False) for line in note_lines]
    return lines


def participant_flow(flow: pd.DataFrame, conditions: list[str], *, synthetic: bool = False):
    """Box-and-arrow diagram of the flow table, from enrolment through the sequences and periods
    to the analyses, per condition and of the whole sample. Returns (figure, table): one row per
    box with its tier, column and box centre (inches from the top left), plus the flow table's
    own columns."""
    tiers = flow_tiers(flow)
    width = style.DOUBLE_COLUMN
    layout, tops, heights, total = _flow_layout(tiers, width, synthetic)
    shift = 0.25 if synthetic else 0.0
    records = []
    with style.context():
        figure = style.new_figure(width, total, layout=None)  # boxes are placed by hand
        # Inches as data units, origin top left: positions need no conversion.
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(total, 0)
        ax.set_axis_off()
        centres: dict[int, list[tuple[int, float]]] = {}
        for t, k, row, x, box_width, lines in layout:
            top = tops[t] + shift
            _draw_box(ax, x, top, box_width, heights[t], lines, _edge(row, conditions))
            centres.setdefault(t, []).append((k, x))
            records.append(
                {
                    "tier": t + 1,
                    "column": k + 1,
                    "x_in": round(x, 4),
                    "y_in": round(top + heights[t] / 2, 4),
                    **{c: row[c] for c in TABLE_COLUMNS},
                }
            )
        _draw_phases(ax, flow_phases(tiers, conditions), tops, heights, shift)
        for t in range(len(tiers) - 1):
            _connect(
                ax,
                tiers[t],
                tiers[t + 1],
                centres.get(t, []),
                centres.get(t + 1, []),
                tops[t] + shift + heights.get(t, 0.0),
                tops[t + 1] + shift,
            )
        if synthetic:
            ax.text(
                width - MARGIN_IN,
                0.08,
                style.SYNTHETIC_LABEL,
                ha="right",
                va="top",
                fontweight="bold",
                fontsize=style.FONT_SIZE + 1,
            )
    table = pd.DataFrame(records, columns=["tier", "column", "x_in", "y_in", *TABLE_COLUMNS])
    return figure, table.sort_values("step", kind="stable").reset_index(drop=True)


TABLE_COLUMNS = [
    "step",
    "arm",
    "stage",
    "condition",
    "n_participants",
    "n_observations",
    "note",
]
MARGIN_IN = 0.1
GUTTER_IN = 0.28  # the left column of the CONSORT phase labels
PHASE_SHADE = "#DCE9F5"


def flow_phases(tiers: list[dict], conditions: list[str]) -> list[str]:
    """The CONSORT phase of each tier, read off its boxes: whole-sample boxes before the sequences
    are Enrolment, the sequences' own boxes Allocation, the periods (a sequence in a condition)
    Follow-up, and the boxes per condition or of the whole sample after them Analysis."""
    phases, allocated = [], False
    for tier in tiers:
        rows = tier["rows"]
        if all(row["arm"] == ALL for row in rows):
            phases.append("Analysis" if allocated else "Enrolment")
        elif all(row["arm"] in conditions for row in rows):
            phases.append("Analysis")
        elif all(row["condition"] == ALL for row in rows):
            allocated = True
            phases.append("Allocation")
        else:
            allocated = True
            phases.append("Follow-up")
    return phases


def _draw_phases(ax, phases: list[str], tops: dict, heights: dict, shift: float) -> None:
    """Each run of tiers of one phase as a shaded bar in the left gutter, its name written up."""
    start = 0
    for t in range(1, len(phases) + 1):
        if t < len(phases) and phases[t] == phases[start]:
            continue
        # into half of the gaps between runs, so a one-tier phase still holds its name
        reach = GAP_IN / 2 - 0.03
        top = tops[start] + shift - (reach if start > 0 else 0.0)
        bottom = tops[t - 1] + shift + heights.get(t - 1, 0.0) + (reach if t < len(phases) else 0.0)
        ax.add_patch(
            FancyBboxPatch(
                (MARGIN_IN, top),
                GUTTER_IN - 0.06,
                bottom - top,
                boxstyle="round,pad=0,rounding_size=0.03",
                fc=PHASE_SHADE,
                ec="none",
            )
        )
        ax.text(
            MARGIN_IN + (GUTTER_IN - 0.06) / 2,
            (top + bottom) / 2,
            phases[start],
            rotation=90,
            ha="center",
            va="center",
            fontweight="bold",
            fontsize=style.FONT_SIZE - 1,
        )
        start = t


def _flow_layout(tiers: list[dict], width: float, synthetic: bool):
    """Each box's tier, column, row, centre, width and text lines; each tier's top and height
    (inches); and the figure's height."""
    layout = []  # (tier index, column, row, x centre, box width, lines)
    for t, tier in enumerate(tiers):
        slot = (width - 2 * MARGIN_IN - GUTTER_IN) / len(tier["rows"])
        for k, row in enumerate(tier["rows"]):
            box_width = slot - 0.15
            layout.append(
                (
                    t,
                    k,
                    row,
                    MARGIN_IN + GUTTER_IN + slot * (k + 0.5),
                    box_width,
                    _box_lines(row, box_width),
                )
            )
    heights = {}
    for t, _, _, _, _, lines in layout:
        heights[t] = max(heights.get(t, 0.0), len(lines) * LINE_IN + 2 * PAD_IN)
    tops, y = {}, 0.1
    for t in range(len(tiers)):
        tops[t] = y
        y += heights.get(t, 0.0) + GAP_IN
    total = y - GAP_IN + 0.1 + (0.25 if synthetic else 0.0)
    return layout, tops, heights, total


def _draw_box(ax, x: float, top: float, box_width: float, height: float, lines, edge) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - box_width / 2, top),
            box_width,
            height,
            boxstyle="round,pad=0,rounding_size=0.03",
            fc="#FFFFFF",
            ec=edge,
            lw=0.8,
        )
    )
    for n, (text, bold) in enumerate(lines):
        ax.text(
            x,
            top + PAD_IN + (n + 0.5) * LINE_IN,
            text,
            ha="center",
            va="center",
            fontweight="bold" if bold else "normal",
        )


def _edge(row: dict, conditions: list[str]) -> str:
    """A period's box in the colour of its condition; every other box black."""
    if row["condition"] == ALL or row["condition"] not in conditions:
        return "#000000"
    return style.condition_colours(conditions)[row["condition"]]


def _arrow(ax, x0, y0, x1, y1) -> None:
    ax.add_patch(
        FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            arrowstyle="-|>",
            mutation_scale=6,
            lw=0.7,
            color="#000000",
            shrinkA=0,
            shrinkB=0,
        )
    )


def _connect(ax, upper: dict, lower: dict, above, below, bottom: float, top: float) -> None:
    if not above or not below:
        return
    same_columns = (upper["arms"] == lower["arms"] and ALL not in upper["arms"]) or (
        len(above) == len(below) == 1
    )
    if same_columns:
        lower_x = dict(below)
        for k, x in above:
            if k in lower_x:
                _arrow(ax, x, bottom, lower_x[k], top)
        return
    # Fan in or out: down to a connector line halfway, across, then an arrow into each box.
    middle = (bottom + top) / 2
    xs = [x for _, x in above] + [x for _, x in below]
    for _, x in above:
        ax.plot([x, x], [bottom, middle], color="#000000", lw=0.7, solid_capstyle="butt")
    ax.plot([min(xs), max(xs)], [middle, middle], color="#000000", lw=0.7, solid_capstyle="butt")
    for _, x in below:
        _arrow(ax, x, middle, x, top)
