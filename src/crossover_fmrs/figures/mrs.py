"""fMRS figures: the Glx/tNAA time course by condition, per participant, and by sex."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import style
from .summary import (
    CI_NAME,
    SEX_LABELS,
    block_summary,
    data_end_min,
    error_bar_ends,
    error_bars,
    included_mask,
    individual_ratios,
    ratio_label,
    with_sex,
)

DODGE_MIN = 0.6  # minutes between the conditions' error bars at one block
COUNTS_NOTE = "numbers under the axis: n participants per block, in each condition's colour"


def _time_limits(table: pd.DataFrame, infusion_window) -> tuple[float, float]:
    low = min(table["onset_min"].min(), infusion_window[0])
    high = max(table["offset_min"].max(), infusion_window[1])
    return low - 1.0, high + 1.0


def _shade_infusion(ax, infusion_window, labels: style.Labels, label: bool = True) -> None:
    ax.axvspan(infusion_window[0], infusion_window[1], color=style.INFUSION_SHADE, zorder=0, lw=0)
    if label:
        ax.text(
            infusion_window[0] + 0.5,
            0.99,
            labels.infusion,
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            color=style.NEUTRAL,
        )


def data_end_text(data_end: float) -> str:
    return f"last fMRS block ends {data_end:g} min"


def _mark_data_end(ax, data_end: float, infusion_window, label: bool = True) -> bool:
    """A dotted line where the fMRS data end when the shaded infusion runs on past them, so the
    shading does not suggest data after it. Returns whether it drew the mark."""
    if data_end >= infusion_window[1]:
        return False
    ax.axvline(data_end, color=style.NEUTRAL, lw=0.7, ls=":", zorder=1)
    if label:
        ax.text(
            data_end + 0.5,
            0.5,
            data_end_text(data_end),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="left",
            va="center",
            fontsize=style.COUNT_FONT_SIZE,
            color=style.NEUTRAL,
        )
    return True


def _data_end_handle(data_end: float) -> Line2D:
    return Line2D([], [], color=style.NEUTRAL, lw=0.7, ls=":", label=data_end_text(data_end))


def _draw_means(ax, summary: pd.DataFrame, conditions: list[str], labels: style.Labels) -> None:
    """Mean and within-participant CI per block by condition, and the n under the axis."""
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, DODGE_MIN)
    x, n = {}, {}
    for condition in conditions:
        rows = summary[summary["condition"] == condition]
        ax.errorbar(
            rows["midpoint_min"] + offsets[condition],
            rows["mean"],
            yerr=error_bars(rows),
            color=colours[condition],
            marker="o",
            markersize=3.5,
            lw=1.0,
            elinewidth=0.8,
            label=labels.condition(condition),
        )
        x[condition], n[condition] = rows["midpoint_min"].tolist(), rows["n"].tolist()
    style.counts_under_axis(ax, x, n, colours)


def _legend_handles(conditions: list[str], labels: style.Labels, extra=()) -> list:
    colours = style.condition_colours(conditions)
    handles = [
        Line2D(
            [], [], color=colours[c], marker="o", markersize=3.5, lw=1.0, label=labels.condition(c)
        )
        for c in conditions
    ]
    return handles + list(extra)


def _infusion_handle(labels: style.Labels) -> Patch:
    return Patch(facecolor=style.INFUSION_SHADE, edgecolor="none", label=labels.infusion)


def _error_bars(n_participants: int) -> str:
    return "\n".join(
        textwrap.wrap(
            f"mean and {CI_NAME} per block (included spectra); n = {n_participants} "
            f"participants; {COUNTS_NOTE}",
            60,
        )
    )


def glx_timecourse(
    spectra: pd.DataFrame,
    conditions: list[str],
    *,
    infusion_window=(0.0, 40.0),
    synthetic: bool = False,
    labels: style.Labels | None = None,
):
    """Mean and within-participant CI of the ratio per block by condition, included spectra only,
    with n per block under the axis and a mark where the data end. Returns (figure, table)."""
    labels = labels or style.Labels()
    summary = block_summary(spectra, conditions)
    data_end = data_end_min(spectra)
    n = spectra.loc[included_mask(spectra), "participant_id"].nunique()
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN, 3.0)
        ax = figure.add_subplot()
        _shade_infusion(ax, infusion_window, labels)
        marked = _mark_data_end(ax, data_end, infusion_window)
        _draw_means(ax, summary, conditions, labels)
        ax.set_xlim(*_time_limits(summary, infusion_window))
        style.honest_limits(ax, error_bar_ends(summary))
        ax.set_xlabel(labels.time_axis)
        ax.set_ylabel(f"{ratio_label(spectra)} (ratio)")
        figure.legend(
            handles=_legend_handles(conditions, labels),
            loc="outside lower center",
            ncols=len(conditions),
            title=_error_bars(n),
        )
        style.label_synthetic(figure, synthetic)
    return figure, _with_time_marks(summary, infusion_window, data_end, marked)


def _with_time_marks(summary: pd.DataFrame, infusion_window, data_end, marked) -> pd.DataFrame:
    """The table with the shaded window and where the data end (and whether that was marked)."""
    return summary.assign(
        infusion_start_min=float(infusion_window[0]),
        infusion_end_min=float(infusion_window[1]),
        data_end_min=data_end,
        data_end_marked=marked,
    )


def sex_glx(
    spectra: pd.DataFrame,
    participants: pd.DataFrame,
    conditions: list[str],
    *,
    infusion_window=(0.0, 40.0),
    synthetic: bool = False,
    labels: style.Labels | None = None,
):
    """The time course of glx_timecourse, one panel for males and one for females (intervals
    within each sex's participants)."""
    labels = labels or style.Labels()
    labelled = with_sex(spectra, participants)
    summary = block_summary(labelled, conditions, by=["sex"])
    kept = labelled[included_mask(labelled)]
    data_end = data_end_min(spectra)
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, 2.9)
        sexes = list(dict.fromkeys(summary["sex"]))
        axes = figure.subplots(1, max(len(sexes), 1), sharex=True, sharey=True, squeeze=False)[0]
        for ax, sex in zip(axes, sexes):
            _shade_infusion(ax, infusion_window, labels)
            _mark_data_end(ax, data_end, infusion_window)
            _draw_means(ax, summary[summary["sex"] == sex], conditions, labels)
            n = kept.loc[kept["sex"] == sex, "participant_id"].nunique()
            ax.set_title(f"{SEX_LABELS.get(sex, sex)} (n = {n} participants)")
            ax.set_xlabel(labels.time_axis)
            ax.set_xlim(*_time_limits(summary, infusion_window))
        style.honest_limits(axes[0], error_bar_ends(summary))
        if len(sexes) > 1:
            style.panel_letters(axes)
        axes[0].set_ylabel(f"{ratio_label(spectra)} (ratio)")
        figure.legend(
            handles=_legend_handles(conditions, labels),
            loc="outside lower center",
            ncols=len(conditions),
            title="\n".join(
                textwrap.wrap(
                    f"mean and {CI_NAME} over the included spectra of each block; {COUNTS_NOTE}",
                    110,
                )
            ),
        )
        style.label_synthetic(figure, synthetic)
    marked = data_end < infusion_window[1]  # as _mark_data_end decides, in every panel
    return figure, _with_time_marks(summary, infusion_window, data_end, marked)


def glx_individual(
    spectra: pd.DataFrame,
    conditions: list[str],
    *,
    infusion_window=(0.0, 40.0),
    synthetic: bool = False,
    columns: int = 6,
    labels: style.Labels | None = None,
    sizes: style.Sizes | None = None,
):
    """Small multiples: each participant's ratio per block in both conditions; lines join included
    spectra, a cross marks a spectrum QC excluded, an open circle on the axis one without a
    ratio. Above sizes.individual_max_participants: every participant's line in one panel per
    condition under the mean and CI (individual_lines). Returns (figure, table of every
    spectrum)."""
    labels = labels or style.Labels()
    sizes = sizes or style.Sizes()
    table = individual_ratios(spectra, conditions)
    participants = sorted(table["participant_id"].unique())
    if len(participants) > sizes.individual_max_participants:
        return individual_lines(
            spectra, table, conditions, infusion_window, synthetic, labels, sizes
        ), table
    data_end = data_end_min(spectra)
    rows = math.ceil((len(participants) + 1) / columns)  # at least one spare panel holds the legend
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, sizes.cap(0.6 + 1.05 * rows))
        axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        limits = _time_limits(table, infusion_window)
        drawn = {"excluded": False, "no_ratio": False, "data_end": False}
        by_participant = dict(iter(table.groupby("participant_id", sort=True)))
        for index, ax in enumerate(axes.flat):
            if index >= len(participants):
                ax.set_axis_off()
                continue
            pid = participants[index]
            _shade_infusion(ax, infusion_window, labels, label=False)
            drawn["data_end"] |= _mark_data_end(ax, data_end, infusion_window, label=False)
            for kind, shown in _participant_panel(ax, by_participant[pid], conditions).items():
                drawn[kind] |= shown
            ax.set_title(pid, pad=2)
            ax.set_xlim(*limits)
            if index + columns >= len(participants):
                # Bottom panel of its column (the grid's last row may be part empty): show the
                # times.
                ax.xaxis.set_tick_params(labelbottom=True)
        figure.supxlabel(labels.time_axis, fontsize=style.FONT_SIZE)
        figure.supylabel(f"{ratio_label(spectra)} (ratio)", fontsize=style.FONT_SIZE)
        extra = _individual_marker_handles(drawn, data_end) + [_infusion_handle(labels)]
        spare = axes.flat[len(participants)]
        legend = spare.legend(
            handles=_legend_handles(conditions, labels, extra),
            loc="upper left",
            title=f"one panel per participant (n = {len(participants)}); every spectrum",
            ncols=2 if len(participants) % columns <= columns - 2 else 1,
        )
        legend.set_in_layout(False)  # may spread over the empty panels beside it
        style.label_synthetic(figure, synthetic)
    return figure, table


def _participant_panel(ax, rows: pd.DataFrame, conditions: list[str]) -> dict[str, bool]:
    """One participant's spectra in both conditions; returns which of the optional markers (QC
    excluded, no ratio) the panel drew, so the legend lists only markers that appear."""
    colours = style.condition_colours(conditions)
    drawn = {"excluded": False, "no_ratio": False}
    for condition in conditions:
        of_condition = rows[rows["condition"] == condition]
        colour = colours[condition]
        kept = of_condition["ratio"].where(of_condition["included"])
        ax.plot(of_condition["midpoint_min"], kept, color=colour, marker="o", markersize=2, lw=0.8)
        out = of_condition[~of_condition["included"] & of_condition["ratio"].notna()]
        if len(out):
            ax.plot(
                out["midpoint_min"],
                out["ratio"],
                ls="none",
                marker="x",
                markersize=3.5,
                mew=0.8,
                color=colour,
            )
            drawn["excluded"] = True
        no_ratio = of_condition[of_condition["ratio"].isna()]
        # An empty unclipped line would stretch the layout to the figure's origin: draw only
        # where there is one. No value to place: mark the block on the bottom edge of the panel.
        if len(no_ratio):
            ax.plot(
                no_ratio["midpoint_min"],
                np.full(len(no_ratio), 0.03),
                ls="none",
                marker="o",
                markersize=3,
                mfc="none",
                mew=0.7,
                color=colour,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )
            drawn["no_ratio"] = True
    return drawn


def _individual_marker_handles(drawn: dict[str, bool], data_end: float) -> list:
    """Legend entries of the small multiples' optional markers, only those drawn somewhere."""
    handles = []
    if drawn["excluded"]:
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="x",
                color=style.NEUTRAL,
                markersize=3.5,
                label="excluded by QC",
            )
        )
    if drawn["no_ratio"]:
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                mfc="none",
                color=style.NEUTRAL,
                markersize=3,
                label="no ratio (undetermined)",
            )
        )
    if drawn["data_end"]:
        handles.append(_data_end_handle(data_end))
    return handles


def _included_segments(table: pd.DataFrame) -> np.ndarray:
    """(time, ratio) segments joining consecutive included spectra of one participant in one
    condition (the lines of the small multiples), for all participants at once."""
    same = (
        (table["participant_id"].to_numpy()[1:] == table["participant_id"].to_numpy()[:-1])
        & (table["condition"].to_numpy()[1:] == table["condition"].to_numpy()[:-1])
        & table["included"].to_numpy()[1:]
        & table["included"].to_numpy()[:-1]
    )
    x, y = table["midpoint_min"].to_numpy(float), table["ratio"].to_numpy(float)
    starts = np.column_stack([x[:-1], y[:-1]])[same]
    ends = np.column_stack([x[1:], y[1:]])[same]
    return np.stack([starts, ends], axis=1) if len(starts) else np.zeros((0, 2, 2))


def _draw_bundle(ax, of_condition, means, condition: str, colours: dict, alpha: float) -> None:
    """One condition of individual_lines: every participant's included spectra as faint lines
    (one collection: linear in the spectra) under the mean and CI per block, n under the axis."""
    lines = LineCollection(
        _included_segments(of_condition),
        colors=colours[condition],
        linewidths=0.4,
        alpha=alpha,
        zorder=1,
    )
    lines.set_rasterized(True)  # an image in the SVG: its size does not grow with the study
    ax.add_collection(lines)
    ax.errorbar(
        means["midpoint_min"],
        means["mean"],
        yerr=error_bars(means),
        color="#000000",
        marker="o",
        markersize=3,
        lw=1.2,
        elinewidth=0.9,
        zorder=3,
    )
    style.counts_under_axis(
        ax, {condition: means["midpoint_min"].tolist()}, {condition: means["n"].tolist()}, colours
    )


def individual_lines(
    spectra: pd.DataFrame,
    table: pd.DataFrame,
    conditions: list[str],
    infusion_window,
    synthetic: bool,
    labels: style.Labels,
    sizes: style.Sizes,
):
    """glx_individual of a large study: one panel per condition, every participant's included
    spectra as a faint line under the mean and within-participant CI per block (as
    glx_timecourse); excluded spectra are counted in the title, listed in the table."""
    colours = style.condition_colours(conditions)
    summary = block_summary(spectra, conditions)
    n_people = table["participant_id"].nunique()
    # fainter lines the more there are, so the bundle still shows where most participants run
    alpha = float(np.clip(6.0 / max(n_people, 1), 0.02, 0.3))
    limits = _time_limits(table, infusion_window)
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, sizes.cap(3.3))
        axes = figure.subplots(1, len(conditions), sharex=True, sharey=True, squeeze=False)[0]
        for ax, condition in zip(axes, conditions):
            of_condition = table[table["condition"] == condition]
            _shade_infusion(ax, infusion_window, labels)
            marked = _mark_data_end(ax, data_end_min(spectra), infusion_window)
            means = summary[summary["condition"] == condition]
            _draw_bundle(ax, of_condition, means, condition, colours, alpha)
            excluded = int((~of_condition["included"] & of_condition["ratio"].notna()).sum())
            no_ratio = int(of_condition["ratio"].isna().sum())
            ax.set_title(
                f"{labels.condition(condition)}: "
                f"{of_condition['participant_id'].nunique()} participants\n"
                f"not drawn: {excluded} spectra excluded by QC, {no_ratio} without a ratio",
                color=colours[condition],
            )
            ax.set_xlim(*limits)
            ax.set_xlabel(labels.time_axis)
        kept = table.loc[table["included"], "ratio"]
        if len(kept):
            low, high = kept.min(), kept.max()
            pad = 0.05 * (high - low) if high > low else 0.05 * (abs(low) or 1.0)
            axes[0].set_ylim(low - pad, high + pad)
        axes[0].set_ylabel(f"{ratio_label(spectra)} (ratio)")
        if len(conditions) > 1:
            style.panel_letters(axes)
        handles = [
            Line2D([], [], color=style.NEUTRAL, lw=0.6, label="one participant (included spectra)"),
            Line2D(
                [], [], color="#000000", marker="o", markersize=3, lw=1.2, label=f"mean, {CI_NAME}"
            ),
            _infusion_handle(labels),
        ]
        if marked:
            handles.append(_data_end_handle(data_end_min(spectra)))
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 3),
            title="\n".join(
                textwrap.wrap(
                    f"n = {n_people} participants: more than "
                    f"{sizes.individual_max_participants}, so one panel per condition instead of "
                    "one per participant (every spectrum in the TSV); under each axis: n "
                    "participants per block",
                    110,
                )
            ),
        )
        style.label_synthetic(figure, synthetic)
    return figure
