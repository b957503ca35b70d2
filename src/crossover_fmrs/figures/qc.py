"""QC figures: spectral quality against the QC thresholds (read from the QC flags table), and the
ratio of every spectrum."""

from __future__ import annotations

import math
import textwrap

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import cbook
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, Normalize, to_rgba
from matplotlib.lines import Line2D

from . import style
from .summary import SPECTRUM_KEYS, individual_ratios, ratio_label

SWARM_WIDTH = 0.8  # the dots fill 0.8 of a condition's slot
SWARM_SIZE_PT = (1.0, 2.2)  # marker diameter, smallest and largest
EXCLUDED_GREY = "#D9D9D9"
HISTOGRAM_BINS = 40  # per panel, when there are too many spectra to draw one by one
# criterion of qc_mrs -> code written in an excluded cell of the ratio map
REASON_CODES = {
    "crlb": "C",
    "fwhm": "F",
    "snr": "S",
    "undetermined": "U",
    "fwhm_drift": "Fd",
    "snr_drift": "Sd",
    "no ratio": "U",
}
# code -> words for the key under the map (qc_mrs's criterion names are not for readers)
CODE_NAMES = {
    "C": "%SD (CRLB)",
    "F": "linewidth (FWHM)",
    "S": "S/N",
    "U": "ratio undetermined",
    "Fd": "linewidth drift",
    "Sd": "S/N drift",
}


# Panel -> the criterion of the QC flags table it is judged by. The table has one crlb row per
# spectrum, on the worse %SD of the two metabolites; both %SD panels take its threshold.
PANEL_CRITERIA = {
    "fwhm_ppm": "fwhm",
    "snr": "snr",
    "numerator_crlb_percent": "crlb",
    "denominator_crlb_percent": "crlb",
}


def _quality_measures(numerator: str, denominator: str, flags: pd.DataFrame) -> list[dict]:
    """Measure, axis label, and the threshold and rule of its criterion in the QC flags table (no
    threshold where the table has no row of that criterion)."""
    labels = {
        "fwhm_ppm": "FWHM (ppm)",
        "snr": "S/N (fitting tool's definition)",
        "numerator_crlb_percent": f"%SD (CRLB) of {numerator}",
        "denominator_crlb_percent": f"%SD (CRLB) of {denominator}",
    }
    rules = flags.drop_duplicates("criterion").set_index("criterion")
    measures = []
    for measure, criterion in PANEL_CRITERIA.items():
        known = criterion in rules.index
        measures.append(
            {
                "measure": measure,
                "label": labels[measure],
                "criterion": criterion,
                "threshold": float(rules.loc[criterion, "threshold"]) if known else None,
                "rule": rules.loc[criterion, "rule"] if known else "",
            }
        )
    return measures


def _flagged_by_panel(ordered: pd.DataFrame, flags: pd.DataFrame, measures: list[dict]) -> dict:
    """Per panel, whether each spectrum of `ordered` is beyond the threshold, as the flags table
    decided it. A crlb flag is on max(numerator, denominator) %SD: a %SD panel marks a flagged
    spectrum where that panel's own %SD is above the flag's threshold, i.e. the metabolite(s) that
    raised the flag."""
    decided = flags.pivot_table(
        index=SPECTRUM_KEYS, columns="criterion", values="flagged", aggfunc="first"
    )
    keys = pd.MultiIndex.from_frame(ordered[SPECTRUM_KEYS])
    beyond = {}
    for spec in measures:
        criterion = spec["criterion"]
        if criterion not in decided.columns:
            beyond[spec["measure"]] = np.zeros(len(ordered), dtype=bool)
            continue
        flagged = decided[criterion].reindex(keys).fillna(False).to_numpy(bool, copy=True)
        if criterion == "crlb":
            flagged = flagged & (ordered[spec["measure"]].to_numpy(float) > spec["threshold"])
        beyond[spec["measure"]] = flagged
    return beyond


def swarm_offsets(values: np.ndarray, diameter_y: float, diameter_x: float) -> np.ndarray:
    """Horizontal offsets of a dot swarm that places every value at its own height: values within
    one marker diameter of each other (bins of diameter_y) sit side by side, centred on the slot;
    a bin with more dots than fit in SWARM_WIDTH is squeezed (dots overlap, none is dropped).
    Linear after one sort, and the same values give the same offsets."""
    values = np.asarray(values, dtype=float)
    offsets = np.zeros(len(values))
    if not len(values):
        return offsets
    order = np.argsort(values, kind="stable")
    bins = np.floor((values[order] - values[order[0]]) / diameter_y).astype(np.int64)
    _, start, count = np.unique(bins, return_index=True, return_counts=True)
    k = np.repeat(count, count)
    rank = np.arange(len(values)) - np.repeat(start, count)
    room = max(SWARM_WIDTH - diameter_x, 0.0)
    spacing = np.minimum(diameter_x, room / np.maximum(k - 1, 1))
    offsets[order] = (rank - (k - 1) / 2) * spacing
    return offsets


def _largest_bin(values: np.ndarray, diameter_y: float) -> int:
    """Most values within one bin of diameter_y (the widest row of the swarm)."""
    if not len(values):
        return 0
    bins = np.floor((values - values.min()) / diameter_y).astype(np.int64)
    return int(np.unique(bins, return_counts=True)[1].max())


def _swarm_size(ax, groups: list[np.ndarray], n_conditions: int) -> float:
    """Marker diameter (points) so the panel's widest swarm row fits its slot, within
    SWARM_SIZE_PT; measured on the laid-out panel, so it depends on the data only."""
    box = ax.get_window_extent()
    width_pt = box.width / ax.figure.dpi * 72 / max(n_conditions, 1)
    height_pt = box.height / ax.figure.dpi * 72
    low, high = ax.get_ylim()
    size = SWARM_SIZE_PT[1]
    for _ in range(3):  # a smaller dot makes narrower bins: refit a few times
        widest = max((_largest_bin(v, size / height_pt * (high - low)) for v in groups), default=0)
        if not widest:
            return size
        size = float(np.clip(SWARM_WIDTH * width_pt / widest, *SWARM_SIZE_PT))
    return size


def _value_limits(values: np.ndarray, threshold) -> tuple[float, float]:
    """y-limits around the values and the threshold line, with matplotlib's 5% margins."""
    shown = values[~np.isnan(values)]
    if threshold is not None:
        shown = np.append(shown, float(threshold))
    if not len(shown):
        return 0.0, 1.0
    low, high = float(shown.min()), float(shown.max())
    pad = 0.05 * (high - low) if high > low else 0.05 * (abs(low) or 1.0)
    return low - pad, high + pad


def qc_spectral_quality(
    spectra: pd.DataFrame,
    flags: pd.DataFrame,
    conditions: list[str],
    *,
    synthetic: bool = False,
    columns: int = 2,
    labels: style.Labels | None = None,
    sizes: style.Sizes | None = None,
):
    """Box and points of linewidth, S/N and the %SD of both ratio metabolites by condition, every
    spectrum (kept or not), with the QC thresholds as dashed lines. Thresholds and which spectra
    are beyond them come from the QC flags table (results/qc/mrs_qc_flags.tsv), as QC decided
    them. Returns (figure, table); the table has the box statistics (level "summary") and the
    plotted values.

    Up to sizes.swarm_max_spectra spectra per condition every spectrum is a dot of a swarm (a fixed
    rule, no random jitter; every value placed at its height; table level "spectrum"); above that
    each condition is a mirrored histogram of the spectra (table level "bin"), so the figure costs
    the same at any size. Boxes: matplotlib's boxplot_stats, whiskers at 1.5 IQR.
    """
    labels = labels or style.Labels()
    sizes = sizes or style.Sizes()
    numerator, denominator = ratio_label(spectra).split("/", 1)
    measures = _quality_measures(numerator, denominator, flags)
    ordered = spectra.assign(
        _rank=spectra["condition"].map({c: i for i, c in enumerate(conditions)})
    )
    ordered = ordered.sort_values(["_rank", "participant_id", "block"], kind="stable").reset_index(
        drop=True
    )
    largest_group = int(ordered["condition"].value_counts().max()) if len(ordered) else 0
    swarm = largest_group <= sizes.swarm_max_spectra
    beyond = _flagged_by_panel(ordered, flags, measures)
    summary_rows, point_rows, boxes = _quality_numbers(ordered, measures, beyond, conditions, swarm)
    columns = max(1, min(columns, len(measures)))
    grid_rows = math.ceil(len(measures) / columns)
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, sizes.cap(0.4 + 1.65 * grid_rows))
        axes = list(figure.subplots(grid_rows, columns, squeeze=False).flat)
        for ax, spec in zip(axes, measures):
            ax.set_ylabel(spec["label"])
            ax.set_xticks(range(len(conditions)), [labels.condition(c) for c in conditions])
            ax.set_xlim(-0.5, len(conditions) - 0.5)
            ax.set_ylim(*_value_limits(ordered[spec["measure"]].to_numpy(float), spec["threshold"]))
        # lay out once: the dots' size needs the panel sizes
        figure.draw_without_rendering()
        bin_rows = []
        for ax, spec in zip(axes, measures):
            bin_rows += _draw_quality_panel(ax, ordered, spec, boxes, conditions, swarm)
        for ax in axes[len(measures) :]:
            ax.set_axis_off()
        style.panel_letters(axes[: len(measures)])
        figure.legend(
            handles=[
                Line2D([], [], color="#000000", lw=0.8, ls="--", label="QC threshold (QC flags)")
            ],
            loc="outside lower center",
            title=_quality_title(ordered, swarm, sizes),
        )
        style.label_synthetic(figure, synthetic)
    return figure, _quality_table(summary_rows, point_rows, bin_rows, swarm)


def _quality_numbers(ordered, measures, beyond, conditions, swarm):
    """Box statistics and, for a swarm, every plotted value, per panel x condition."""
    summary_rows, point_rows, boxes = [], [], {}
    for spec in measures:
        for condition in conditions:
            in_condition = (ordered["condition"] == condition).to_numpy()
            rows = ordered[in_condition]
            values = rows[spec["measure"]].to_numpy(dtype=float)
            present = ~np.isnan(values)
            flagged = beyond[spec["measure"]][in_condition]
            common = {"threshold": spec["threshold"], "rule": spec["rule"]}
            if swarm:
                point_rows.append(
                    pd.DataFrame(
                        {
                            "level": "spectrum",
                            "measure": spec["measure"],
                            "condition": condition,
                            "participant_id": rows["participant_id"].to_numpy(),
                            "block": rows["block"].to_numpy(),
                            "value": values,
                            "beyond_threshold": pd.Series(flagged, dtype=object).where(
                                present, np.nan
                            ),
                            **common,
                        }
                    )
                )
            box = {"n": int(present.sum()), "n_missing": int((~present).sum())}
            if present.any():
                computed = cbook.boxplot_stats(values[present], whis=1.5)[0]
                boxes[(spec["measure"], condition)] = computed
                box.update(
                    median=computed["med"],
                    q1=computed["q1"],
                    q3=computed["q3"],
                    whisker_low=computed["whislo"],
                    whisker_high=computed["whishi"],
                )
            summary_rows.append(
                {
                    "level": "summary",
                    "measure": spec["measure"],
                    "condition": condition,
                    **box,
                    **common,
                    "n_beyond_threshold": int(flagged[present].sum()),
                }
            )
    return summary_rows, point_rows, boxes


def _draw_quality_panel(ax, ordered, spec, boxes, conditions, swarm) -> list[dict]:
    """One measure: the swarm or histograms, the boxes and the threshold; returns drawn bins."""
    colours = style.condition_colours(conditions)
    groups = [
        ordered.loc[ordered["condition"] == c, spec["measure"]].dropna().to_numpy(float)
        for c in conditions
    ]
    bin_rows = []
    if swarm:
        _draw_swarm(ax, groups, conditions, colours)
    else:
        bin_rows = _draw_histograms(ax, groups, conditions, colours, spec)
    stats = [boxes[(spec["measure"], c)] for c in conditions if (spec["measure"], c) in boxes]
    positions = [k for k, c in enumerate(conditions) if (spec["measure"], c) in boxes]
    if stats:
        ax.bxp(
            stats,
            positions=positions,
            widths=0.55,
            showfliers=False,
            manage_ticks=False,
            boxprops={"color": style.NEUTRAL, "linewidth": 0.7},
            whiskerprops={"color": style.NEUTRAL, "linewidth": 0.7},
            capprops={"color": style.NEUTRAL, "linewidth": 0.7},
            medianprops={"color": "#000000", "linewidth": 1.0},
            zorder=3,
        )
    if spec["threshold"] is not None:
        ax.axhline(spec["threshold"], color="#000000", lw=0.8, ls="--", zorder=4)
    return bin_rows


def _quality_title(ordered: pd.DataFrame, swarm: bool, sizes: style.Sizes) -> str:
    n_spectra, n_people = len(ordered), ordered["participant_id"].nunique()
    title = (
        f"every spectrum, kept or not: n = {n_spectra} spectra of "
        f"{n_people} participants; boxes: median, quartiles, 1.5 IQR"
    )
    if not swarm:
        title += (
            f"\nmore than {sizes.swarm_max_spectra} spectra per condition: "
            "histograms (width: spectra per bin) instead of one dot per spectrum"
        )
    return title


def _quality_table(summary_rows, point_rows, bin_rows, swarm: bool) -> pd.DataFrame:
    table_columns = [
        "level",
        "measure",
        "condition",
        "participant_id",
        "block",
        "value",
        "beyond_threshold",
        "bin_low",
        "bin_high",
        "n",
        "n_missing",
        "median",
        "q1",
        "q3",
        "whisker_low",
        "whisker_high",
        "threshold",
        "rule",
        "n_beyond_threshold",
    ]
    if swarm:
        table_columns = [c for c in table_columns if c not in ("bin_low", "bin_high")]
    parts = [pd.DataFrame(summary_rows), *point_rows]  # one frame of spectra per cell
    if bin_rows:
        parts.append(pd.DataFrame(bin_rows))
    return pd.concat(parts, ignore_index=True).reindex(columns=table_columns)


def _draw_swarm(ax, groups: list[np.ndarray], conditions: list[str], colours: dict) -> None:
    """Every value as a dot of a swarm (swarm_offsets) in its condition's slot."""
    size = _swarm_size(ax, groups, len(conditions))
    box = ax.get_window_extent()
    low, high = ax.get_ylim()
    diameter_y = size / (box.height / ax.figure.dpi * 72) * (high - low)
    diameter_x = size / (box.width / ax.figure.dpi * 72) * len(conditions)
    for position, (condition, values) in enumerate(zip(conditions, groups)):
        if not len(values):
            continue
        x = position + swarm_offsets(values, diameter_y, diameter_x)
        ax.scatter(
            x, values, s=size**2, color=colours[condition], linewidths=0, alpha=0.75, zorder=2
        )


def _draw_histograms(ax, groups, conditions: list[str], colours: dict, spec: dict) -> list[dict]:
    """Each condition's values as a histogram mirrored about its slot (HISTOGRAM_BINS bins over
    the panel's values); returns the bins as table rows."""
    present = [v for v in groups if len(v)]
    if not present:
        return []
    every = np.concatenate(present)
    low, high = float(every.min()), float(every.max())
    if np.all(every == np.round(every)) and high - low <= 2 * HISTOGRAM_BINS:
        edges = np.arange(low - 0.5, high + 1.0)  # whole numbers (LCModel's %SD): one bin each
    else:
        edges = np.histogram_bin_edges(every, bins=HISTOGRAM_BINS)
    counts = [np.histogram(v, bins=edges)[0] for v in groups]
    tallest = max(int(c.max()) for c in counts) or 1
    rows = []
    for position, (condition, count) in enumerate(zip(conditions, counts)):
        half = SWARM_WIDTH / 2 * count / tallest
        ax.barh(
            (edges[:-1] + edges[1:]) / 2,
            2 * half,
            height=np.diff(edges),
            left=position - half,
            color=colours[condition],
            alpha=0.6,
            linewidth=0,
            zorder=2,
        )
        for low, high, n in zip(edges[:-1], edges[1:], count):
            rows.append(
                {
                    "level": "bin",
                    "measure": spec["measure"],
                    "condition": condition,
                    "bin_low": low,
                    "bin_high": high,
                    "n": int(n),
                    "threshold": spec["threshold"],
                    "rule": spec["rule"],
                }
            )
    return rows


def reason_code(excluded_by: str) -> str:
    """'fwhm;snr' -> 'FS': the code printed in an excluded cell."""
    return "".join(REASON_CODES.get(reason, "?") for reason in excluded_by.split(";") if reason)


def qc_ratio_by_participant(
    spectra: pd.DataFrame,
    conditions: list[str],
    *,
    synthetic: bool = False,
    labels: style.Labels | None = None,
    sizes: style.Sizes | None = None,
):
    """Map of participant x (condition, block): the ratio of each spectrum QC kept as colour; an
    excluded spectrum as a grey cell with the code of its exclusion criteria; white where no
    spectrum exists. Returns (figure, table) with the ratio, decision and reason of every cell.
    Above sizes.ratio_map_max_participants: a heat map of unnamed rows sorted by exclusions
    (ratio_heat_map)."""
    labels = labels or style.Labels()
    sizes = sizes or style.Sizes()
    table = individual_ratios(spectra, conditions)
    table["reason_code"] = [
        reason_code(r) if not kept else ""
        for r, kept in zip(table["excluded_by"], table["included"])
    ]
    participants = sorted(table["participant_id"].unique())
    blocks = sorted(table["block"].unique())
    cells = [(c, b) for c in conditions for b in blocks]
    values, status = _ratio_grid(table, participants, cells)
    if len(participants) > sizes.ratio_map_max_participants:
        return ratio_heat_map(
            spectra,
            table,
            values,
            status,
            participants,
            conditions,
            blocks,
            synthetic,
            labels,
            sizes,
        )
    grid_codes = _grid_codes(table, participants, cells)
    codes = {(int(i), int(j)): grid_codes[i, j] for i, j in np.argwhere(status == 1)}
    label = ratio_label(spectra)
    with style.context():
        height = sizes.cap(0.9 + 0.14 * len(participants))
        figure = style.new_figure(style.SINGLE_COLUMN, height)
        ax = figure.add_subplot()
        background = np.where(status == 1, 1.0, 0.0)
        ax.pcolormesh(
            background,
            cmap=ListedColormap(["#FFFFFF", EXCLUDED_GREY]),
            vmin=0,
            vmax=1,
            edgecolors="none",
        )
        mesh = ax.pcolormesh(
            np.ma.masked_invalid(values), cmap="viridis", edgecolors="#FFFFFF", linewidth=0.3
        )
        for (i, j), code in sorted(codes.items()):
            ax.text(j + 0.5, i + 0.5, code, ha="center", va="center", color="#000000")
        for k in range(1, len(conditions)):
            ax.axvline(k * len(blocks), color="#000000", lw=0.8)
        ax.set_xticks(np.arange(len(cells)) + 0.5, [str(b) for _, b in cells])
        ax.set_yticks(np.arange(len(participants)) + 0.5, participants)
        ax.set_xlim(0, len(cells))
        ax.set_ylim(len(participants), 0)
        ax.tick_params(length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        _condition_headers(ax, conditions, blocks, labels, -0.2)
        key = _exclusion_key(codes)
        ax.set_xlabel(
            f"fMRS block (n = {len(participants)} participants)" + (f"\n{key}" if key else "")
        )
        colourbar = figure.colorbar(mesh, ax=ax, shrink=0.6, aspect=25)
        colourbar.set_label(f"{label} (ratio), included spectra")
        style.label_synthetic(figure, synthetic)
    return figure, table


def _condition_headers(ax, conditions: list[str], blocks, labels: style.Labels, y: float) -> None:
    """Each condition's name, in its colour, above its blocks of the ratio map."""
    for k, condition in enumerate(conditions):
        ax.text(
            (k + 0.5) * len(blocks),
            y,
            labels.condition(condition),
            ha="center",
            va="bottom",
            color=style.condition_colours(conditions)[condition],
            fontweight="bold",
        )


def _exclusion_key(codes: dict) -> str:
    """The words of the exclusion codes that appear in the map ('' where none does)."""
    used = sorted({c for code in codes.values() for c in _split_code(code)})
    key = "; ".join(f"{c} {CODE_NAMES.get(c, c)}" for c in used)
    return "\n".join(textwrap.wrap(f"grey: excluded by QC ({key})", 62)) if used else ""


def _split_code(code: str) -> list[str]:
    """'FSd' -> ['F', 'Sd']: a lower-case letter belongs to the capital before it."""
    parts: list[str] = []
    for char in code:
        if char.islower() and parts:
            parts[-1] += char
        else:
            parts.append(char)
    return parts


def _grid_index(table: pd.DataFrame, participants: list[str], cells: list) -> tuple:
    """Row (participant) and column (condition, block) of every spectrum of the table."""
    rows = pd.Index(participants).get_indexer(table["participant_id"])
    columns = pd.MultiIndex.from_tuples(cells).get_indexer(
        pd.MultiIndex.from_arrays([table["condition"], table["block"]])
    )
    return rows, columns


def _ratio_grid(table: pd.DataFrame, participants: list[str], cells: list):
    """Ratio of each included spectrum (NaN elsewhere) and status (0 no spectrum, 1 excluded) on
    the participant x (condition, block) grid."""
    values = np.full((len(participants), len(cells)), np.nan)
    status = np.zeros((len(participants), len(cells)))
    rows, columns = _grid_index(table, participants, cells)
    kept = table["included"].to_numpy(bool)
    values[rows[kept], columns[kept]] = table["ratio"].to_numpy(float)[kept]
    status[rows[~kept], columns[~kept]] = 1
    return values, status


def _grid_codes(table: pd.DataFrame, participants: list[str], cells: list) -> np.ndarray:
    """reason_code of every spectrum on the grid ('' where none)."""
    codes = np.full((len(participants), len(cells)), "", dtype=object)
    rows, columns = _grid_index(table, participants, cells)
    codes[rows, columns] = table["reason_code"].to_numpy(object)
    return codes


def ratio_heat_map(
    spectra, table, values, status, participants, conditions, blocks, synthetic, labels, sizes
):
    """qc_ratio_by_participant of a large study: one image row per participant, unnamed, sorted by
    the number of spectra QC excluded (most first), then by participant; excluded cells grey
    without codes. An image (resampled to the pixels), so the cost is linear in the spectra and
    the size fixed. The table gets each participant's drawn row (map_row, 1 at the top)."""
    excluded = status.sum(axis=1)
    order = np.lexsort((np.arange(len(participants)), -excluded))
    values, status = values[order], status[order]
    map_row = {participants[i]: k + 1 for k, i in enumerate(order)}
    table = table.assign(map_row=table["participant_id"].map(map_row))
    kept = values[~np.isnan(values)]
    norm = Normalize(*(kept.min(), kept.max()) if len(kept) else (0.0, 1.0))
    cmap = matplotlib.colormaps["viridis"]
    image = np.ones(values.shape + (4,))  # white: no spectrum
    image[status == 1] = to_rgba(EXCLUDED_GREY)
    has = ~np.isnan(values)
    image[has] = cmap(norm(values[has]))
    n_cells = values.shape[1]
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN, sizes.cap(4.5))
        ax = figure.add_subplot()
        ax.imshow(
            image,
            aspect="auto",
            interpolation="antialiased",
            interpolation_stage="rgba",
            extent=(0, n_cells, len(participants), 0),
        )
        for k in range(1, len(conditions)):
            ax.axvline(k * len(blocks), color="#000000", lw=0.8)
        cells = [(c, b) for c in conditions for b in blocks]
        ax.set_xticks(np.arange(n_cells) + 0.5, [str(b) for _, b in cells])
        ax.tick_params(axis="x", length=0)
        _condition_headers(ax, conditions, blocks, labels, -0.01 * len(participants))
        ax.set_ylabel(
            f"participants (n = {len(participants)}),\nsorted by spectra excluded (most first)"
        )
        ax.set_xlabel(
            f"fMRS block\ngrey: excluded by QC ({int(status.sum())} spectra; "
            "criteria in the figure's TSV)"
        )
        colourbar = figure.colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, aspect=25
        )
        colourbar.set_label(f"{ratio_label(spectra)} (ratio), included spectra")
        style.label_synthetic(figure, synthetic)
    return figure, table
