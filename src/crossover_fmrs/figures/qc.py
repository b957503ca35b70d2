"""QC figures: spectral quality against the configured thresholds, and the ratio of every
spectrum."""

from __future__ import annotations

import math
import textwrap
import warnings

import numpy as np
import pandas as pd
from matplotlib import MatplotlibDeprecationWarning, cbook
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from . import style
from .data import require_columns
from .summary import check_spectra, individual_ratios, ratio_label

SWARM_WIDTH = 0.8  # seaborn's swarm fills 0.8 of a category's slot
SWARM_SIZE_PT = (1.0, 2.2)  # marker diameter, smallest and largest
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


def _quality_measures(numerator: str, denominator: str, thresholds: dict) -> list[dict]:
    """Measure, axis label, threshold and which side of it is flagged (qc_mrs's rules)."""
    crlb = thresholds.get("max_crlb_percent")
    return [
        {
            "measure": "fwhm_ppm",
            "label": "FWHM (ppm)",
            "threshold": thresholds.get("max_fwhm_ppm"),
            "flag_if": ">",
        },
        {
            "measure": "snr",
            "label": "S/N (fitting tool's definition)",
            "threshold": thresholds.get("min_snr"),
            "flag_if": "<",
        },
        {
            "measure": "numerator_crlb_percent",
            "label": f"%SD (CRLB) of {numerator}",
            "threshold": crlb,
            "flag_if": ">",
        },
        {
            "measure": "denominator_crlb_percent",
            "label": f"%SD (CRLB) of {denominator}",
            "threshold": crlb,
            "flag_if": ">",
        },
    ]


def _tie_run(values: np.ndarray) -> int:
    """Largest number of spectra sharing one value (LCModel's %SD is a whole number: many ties)."""
    if not len(values):
        return 0
    return int(np.unique(values, return_counts=True)[1].max())


def _swarm_size(ax, run: int, n_conditions: int) -> float:
    """Marker diameter (points) so the panel's largest run of tied values fits side by side.

    A swarm cannot stack equal values vertically; seaborn piles what does not fit at the edge of
    the slot (with a warning). Measured on the laid-out figure, so the size depends on the data
    only.
    """
    slot_pt = ax.get_window_extent().width / ax.figure.dpi * 72 / max(n_conditions, 1)
    if run == 0:
        return SWARM_SIZE_PT[1]
    return float(np.clip(SWARM_WIDTH * slot_pt / run, *SWARM_SIZE_PT))


def qc_spectral_quality(
    spectra: pd.DataFrame,
    conditions: list[str],
    thresholds: dict,
    *,
    synthetic: bool = False,
    columns: int = 2,
    labels: style.Labels | None = None,
):
    """Box and swarm of linewidth, S/N and the %SD of both ratio metabolites by condition, every
    spectrum (kept or not), with the configured thresholds as dashed lines. Returns (figure, table);
    the table has the box statistics (level "summary") and every plotted value (level "spectrum").

    seaborn draws the boxes (matplotlib's boxplot_stats, whiskers at 1.5 IQR, the same numbers as
    the table) and the swarm, which places points by a deterministic rule: no random jitter.
    """
    import seaborn  # only this figure draws with seaborn; its import is costly for the others

    labels = labels or style.Labels()
    names = [labels.condition(c) for c in conditions]
    check_spectra(spectra, conditions)
    require_columns(
        spectra, ["fwhm_ppm", "snr", "numerator_crlb_percent", "denominator_crlb_percent"]
    )
    numerator, denominator = ratio_label(spectra).split("/", 1)
    measures = _quality_measures(numerator, denominator, thresholds)
    colours = style.condition_colours(conditions)
    ordered = spectra.assign(
        _rank=spectra["condition"].map({c: i for i, c in enumerate(conditions)})
    )
    ordered = ordered.sort_values(["_rank", "participant_id", "block"], kind="stable").reset_index(
        drop=True
    )
    summary_rows, point_rows, runs = [], [], []
    for spec in measures:
        threshold = spec["threshold"]
        for condition in conditions:
            rows = ordered[ordered["condition"] == condition]
            values = rows[spec["measure"]].to_numpy(dtype=float)
            present = ~np.isnan(values)
            runs.append(_tie_run(values[present]))
            flagged = np.zeros(len(values), dtype=bool)
            if threshold is not None:
                flagged = values > threshold if spec["flag_if"] == ">" else values < threshold
            for row, value, is_flagged in zip(rows.itertuples(index=False), values, flagged):
                point_rows.append(
                    {
                        "level": "spectrum",
                        "measure": spec["measure"],
                        "condition": condition,
                        "participant_id": row.participant_id,
                        "block": row.block,
                        "value": value,
                        "beyond_threshold": bool(is_flagged) if not np.isnan(value) else np.nan,
                        "threshold": threshold,
                        "flag_if": spec["flag_if"],
                    }
                )
            box = {"n": int(present.sum()), "n_missing": int((~present).sum())}
            if present.any():
                computed = cbook.boxplot_stats(values[present], whis=1.5)[0]
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
                    "threshold": threshold,
                    "flag_if": spec["flag_if"],
                    "n_beyond_threshold": int(flagged[present].sum()),
                }
            )
    columns = max(1, min(columns, len(measures)))
    grid_rows = math.ceil(len(measures) / columns)
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, 0.4 + 1.65 * grid_rows)
        axes = list(figure.subplots(grid_rows, columns, squeeze=False).flat)
        for ax, spec in zip(axes, measures):
            ax.set_ylabel(spec["label"])
            ax.set_xticks(range(len(conditions)), names)
        # lay out once: the swarm's marker size needs the panel widths
        figure.draw_without_rendering()
        for k, (ax, spec) in enumerate(zip(axes, measures)):
            size = _swarm_size(
                ax, max(runs[k * len(conditions) : (k + 1) * len(conditions)]), len(conditions)
            )
            # Missing values (an undetermined %SD) are counted in the table, never drawn.
            drawn = ordered[["condition", spec["measure"]]].dropna()
            if len(drawn):
                with warnings.catch_warnings():
                    # seaborn 0.13.2 passes bxp's `vert`, deprecated in matplotlib 3.11: noise in
                    # every log.
                    warnings.filterwarnings(
                        "ignore", message="vert: bool", category=MatplotlibDeprecationWarning
                    )
                    seaborn.boxplot(
                        data=drawn,
                        x="condition",
                        y=spec["measure"],
                        order=conditions,
                        ax=ax,
                        whis=1.5,
                        width=0.55,
                        fill=False,
                        showfliers=False,
                        color=style.NEUTRAL,
                        linewidth=0.7,
                        medianprops={"color": "#000000", "linewidth": 1.0},
                    )
                seaborn.swarmplot(
                    data=drawn,
                    x="condition",
                    y=spec["measure"],
                    order=conditions,
                    hue="condition",
                    hue_order=conditions,
                    palette=colours,
                    size=size,
                    linewidth=0,
                    alpha=0.75,
                    legend=False,
                    ax=ax,
                    zorder=2,
                )
            if spec["threshold"] is not None:
                ax.axhline(spec["threshold"], color="#000000", lw=0.8, ls="--", zorder=3)
            ax.set_xticks(range(len(conditions)), names)
            ax.set_xlim(-0.5, len(conditions) - 0.5)
            ax.set_xlabel("")
            ax.set_ylabel(spec["label"])
        for ax in axes[len(measures) :]:
            ax.set_axis_off()
        style.panel_letters(axes[: len(measures)])
        n_spectra, n_people = len(ordered), ordered["participant_id"].nunique()
        figure.legend(
            handles=[
                Line2D([], [], color="#000000", lw=0.8, ls="--", label="QC threshold (config)")
            ],
            loc="outside lower center",
            title=f"every spectrum, kept or not: n = {n_spectra} spectra of "
            f"{n_people} participants; boxes: median, quartiles, 1.5 IQR",
        )
        style.label_synthetic(figure, synthetic)
    table_columns = [
        "level",
        "measure",
        "condition",
        "participant_id",
        "block",
        "value",
        "beyond_threshold",
        "n",
        "n_missing",
        "median",
        "q1",
        "q3",
        "whisker_low",
        "whisker_high",
        "threshold",
        "flag_if",
        "n_beyond_threshold",
    ]
    table = pd.DataFrame(summary_rows + point_rows).reindex(columns=table_columns)
    return figure, table


def reason_code(excluded_by: str) -> str:
    """'fwhm;snr' -> 'FS': the code printed in an excluded cell."""
    return "".join(REASON_CODES.get(reason, "?") for reason in excluded_by.split(";") if reason)


def qc_ratio_by_participant(
    spectra: pd.DataFrame,
    conditions: list[str],
    *,
    synthetic: bool = False,
    labels: style.Labels | None = None,
):
    """Map of participant x (condition, block): the ratio of each spectrum QC kept as colour; an
    excluded spectrum as a grey cell with the code of its exclusion criteria; white where no
    spectrum exists. Returns (figure, table) with the ratio, decision and reason of every cell."""
    labels = labels or style.Labels()
    table = individual_ratios(spectra, conditions)
    table["reason_code"] = [
        reason_code(r) if not kept else ""
        for r, kept in zip(table["excluded_by"], table["included"])
    ]
    participants = sorted(table["participant_id"].unique())
    blocks = sorted(table["block"].unique())
    cells = [(c, b) for c in conditions for b in blocks]
    row_of = {p: i for i, p in enumerate(participants)}
    column_of = {cell: j for j, cell in enumerate(cells)}
    values = np.full((len(participants), len(cells)), np.nan)
    status = np.zeros((len(participants), len(cells)))  # 0 no spectrum, 1 excluded
    codes = {}
    for row in table.itertuples(index=False):
        i, j = row_of[row.participant_id], column_of[(row.condition, row.block)]
        if row.included:
            values[i, j] = row.ratio
        else:
            status[i, j] = 1
            codes[(i, j)] = row.reason_code
    label = ratio_label(spectra)
    with style.context():
        height = 0.9 + 0.14 * len(participants)
        figure = style.new_figure(style.SINGLE_COLUMN, height)
        ax = figure.add_subplot()
        background = np.where(status == 1, 1.0, 0.0)
        ax.pcolormesh(
            background,
            cmap=ListedColormap(["#FFFFFF", "#D9D9D9"]),
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
        for k, condition in enumerate(conditions):
            ax.text(
                (k + 0.5) * len(blocks),
                -0.2,
                labels.condition(condition),
                ha="center",
                va="bottom",
                color=style.condition_colours(conditions)[condition],
                fontweight="bold",
            )
        used = sorted({c for code in codes.values() for c in _split_code(code)})
        key = "; ".join(f"{c} {CODE_NAMES.get(c, c)}" for c in used)
        key = "\n".join(textwrap.wrap(f"grey: excluded by QC ({key})", 62)) if used else ""
        ax.set_xlabel(
            f"fMRS block (n = {len(participants)} participants)" + (f"\n{key}" if key else "")
        )
        colourbar = figure.colorbar(mesh, ax=ax, shrink=0.6, aspect=25)
        colourbar.set_label(f"{label} (ratio), included spectra")
        style.label_synthetic(figure, synthetic)
    return figure, table


def _split_code(code: str) -> list[str]:
    """'FSd' -> ['F', 'Sd']: a lower-case letter belongs to the capital before it."""
    parts: list[str] = []
    for char in code:
        if char.islower() and parts:
            parts[-1] += char
        else:
            parts.append(char)
    return parts
