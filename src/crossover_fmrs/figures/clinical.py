"""Rating-scale figures: MADRS over time and its change, the secondary scales, and the MADRS
change by sex. Error bars: within-participant CIs (summary.within_ci)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from . import style
from .summary import (
    CI_NAME,
    SEX_LABELS,
    SEX_ORDER,
    change_scores,
    change_summary,
    error_bar_ends,
    error_bars,
    outcome_order,
    timepoint_summary,
)

DODGE = 0.08  # x units (one time point = 1) between the conditions' means
# Participants above which their lines are one collection (rasterized in the SVG) instead of one
# line each: the same picture, drawn in time and file size linear in the study's size.
ONE_ARTIST_ABOVE = 200


def _add_lines(ax, x, y, colour: str, lw: float, alpha: float) -> None:
    """One line per row of y (NaN: a gap) at x (one row of x per row of y, or one shared row),
    drawn as segments between neighbouring columns that both have a value."""
    x = np.broadcast_to(np.asarray(x, dtype=float), y.shape)
    both = ~np.isnan(y[:, :-1]) & ~np.isnan(y[:, 1:])
    starts = np.stack([x[:, :-1][both], y[:, :-1][both]], axis=-1)
    ends = np.stack([x[:, 1:][both], y[:, 1:][both]], axis=-1)
    lines = LineCollection(
        np.stack([starts, ends], axis=1), colors=colour, linewidths=lw, alpha=alpha, zorder=1
    )
    lines.set_rasterized(True)
    ax.add_collection(lines)


def _draw_timepoint_means(
    ax, summary: pd.DataFrame, conditions: list[str], labels: style.Labels
) -> None:
    """Mean and within-participant CI per time point by condition, and the n under the axis."""
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, DODGE)
    x, n = {}, {}
    for condition in conditions:
        rows = summary[summary["condition"] == condition]
        ax.errorbar(
            rows["timepoint_index"] + offsets[condition],
            rows["mean"],
            yerr=error_bars(rows),
            color=colours[condition],
            marker="o",
            markersize=3.5,
            lw=1.2,
            elinewidth=0.9,
            label=labels.condition(condition),
            zorder=3,
        )
        x[condition], n[condition] = rows["timepoint_index"].tolist(), rows["n"].tolist()
    style.counts_under_axis(ax, x, n, colours)


def _timepoint_axis(ax, timepoints: list[str], labels: style.Labels, short: bool = False) -> None:
    ax.set_xticks(range(len(timepoints)), [labels.timepoint(t, short) for t in timepoints])
    ax.set_xlim(-0.4, len(timepoints) - 0.6)


def _condition_handles(conditions: list[str], labels: style.Labels) -> list:
    colours = style.condition_colours(conditions)
    return [
        Line2D([], [], color=colours[c], marker="o", markersize=3.5, label=labels.condition(c))
        for c in conditions
    ]


def _mean_handle() -> Line2D:
    return Line2D(
        [],
        [],
        ls="none",
        marker="D",
        color=style.NEUTRAL,
        mec="#000000",
        markersize=4,
        label="mean and CI",
    )


def _participants(scores: pd.DataFrame, outcomes: list[str]) -> int:
    rated = scores[scores["outcome"].isin(outcomes) & scores["value"].notna()]
    return rated["participant_id"].nunique()


def _individual_values(
    scores: pd.DataFrame, outcome: str, conditions: list[str], timepoints: list[str]
) -> pd.DataFrame:
    """Every participant's value of the outcome, in condition, participant, time order."""
    individual = scores[scores["outcome"] == outcome][
        ["participant_id", "condition", "timepoint", "value"]
    ].copy()
    individual["timepoint_index"] = individual["timepoint"].map(
        {t: i for i, t in enumerate(timepoints)}
    )
    individual["condition_rank"] = individual["condition"].map(
        {c: i for i, c in enumerate(conditions)}
    )
    return individual.sort_values(
        ["condition_rank", "participant_id", "timepoint_index"], kind="stable"
    )


def _draw_individual_lines(
    ax, individual: pd.DataFrame, conditions: list[str], n_timepoints: int
) -> None:
    """Each participant's values over time as a faint line; above ONE_ARTIST_ABOVE participants
    one collection per condition."""
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, DODGE)
    if individual["participant_id"].nunique() <= ONE_ARTIST_ABOVE:
        for (condition, _), rows in individual.groupby(
            ["condition_rank", "participant_id"], sort=True
        ):
            name = conditions[condition]
            ax.plot(
                rows["timepoint_index"] + offsets[name],
                rows["value"],
                color=colours[name],
                lw=0.5,
                alpha=0.25,
                zorder=1,
            )
        return
    for rank, name in enumerate(conditions):
        wide = individual[individual["condition_rank"] == rank].pivot(
            index="participant_id", columns="timepoint_index", values="value"
        )
        wide = wide.reindex(columns=range(n_timepoints))
        x = np.arange(n_timepoints) + offsets[name]
        # fainter the more there are, so the means stay visible over the bundle
        alpha = float(np.clip(50 / len(wide), 0.02, 0.25))
        _add_lines(ax, x, wide.to_numpy(float), colours[name], lw=0.5, alpha=alpha)


def _draw_change_group(
    ax,
    changes: pd.DataFrame,
    means: pd.DataFrame,
    position: float,
    conditions: list[str],
    many: bool,
) -> None:
    """At x = position: every participant's change per condition (dots joined across conditions)
    and each condition's mean with its within-participant CI (diamond)."""
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, 0.36)
    people = sorted(changes["participant_id"].unique())
    jitter = dict(zip(people, style.spread(len(people), 0.07)))
    wide = changes.pivot(index="participant_id", columns="condition", values="change").reindex(
        index=people, columns=conditions
    )
    if not many:
        for pid, values in wide.iterrows():
            x = [position + offsets[c] + jitter[pid] for c in conditions]
            ax.plot(x, values.to_numpy(dtype=float), color=style.LIGHT, lw=0.4, zorder=1)
    else:
        x = position + np.array([offsets[c] for c in conditions])
        shift = np.array([jitter[p] for p in people])[:, None]
        _add_lines(ax, x + shift, wide.to_numpy(float), style.LIGHT, lw=0.4, alpha=1.0)
    for condition in conditions:
        x = [position + offsets[condition] + jitter[p] for p in people]
        ax.plot(
            x,
            wide[condition].to_numpy(dtype=float),
            ls="none",
            marker="o",
            markersize=2.5,
            color=colours[condition],
            alpha=0.6,
            mew=0,
            zorder=2,
            rasterized=many,  # many points: an image in the SVG
        )
        cell = means[means["condition"] == condition]
        ax.errorbar(
            position + offsets[condition] + 0.13,
            cell["mean"].to_numpy(float),
            yerr=error_bars(cell),
            marker="D",
            markersize=4,
            color=colours[condition],
            mec="#000000",
            mew=0.6,
            elinewidth=1.0,
            zorder=3,
        )


def _change_axis_label(outcome: str, unit: str, definition: str, labels: style.Labels) -> str:
    last, first = definition.split(" - ")
    return (
        f"change in {style.outcome_label(outcome)} ({unit})\n"
        f"({labels.timepoint(last)} \u2212 {labels.timepoint(first)})"
    )


def _counts_label(means: pd.DataFrame, conditions: list[str]) -> str:
    """'n = 26 / 25': participants with a change, per condition in the configured order."""
    by_condition = dict(zip(means["condition"], means["n"]))
    return "n = " + " / ".join(str(int(by_condition.get(c, 0))) for c in conditions)


def madrs_timecourse(
    scores: pd.DataFrame,
    conditions: list[str],
    scales: dict,
    *,
    outcome: str = "MADRS",
    synthetic: bool = False,
    labels: style.Labels | None = None,
):
    """a: the totals, mean and within-participant CI at each time point by condition over faint
    individual lines, n under the axis; b: the change (last - first time point, MADRS: day1 -
    pre) per participant and condition, with its mean and within-participant CI, the paper's
    question. Returns (figure, table): panel "total" or "change", level "mean" (the cell's
    numbers) or "participant" (every plotted value)."""
    labels = labels or style.Labels()
    summary = timepoint_summary(scores, conditions, scales, [outcome])
    scale = summary["scale"].iloc[0]
    timepoints = scales[scale]["timepoints"]
    individual = _individual_values(scores, outcome, conditions, timepoints)
    changes = change_scores(scores, None, conditions, scales, outcome)
    change_means = change_summary(changes, conditions)
    definition = changes["change_definition"].iloc[0]
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN, 2.9)
        total_ax, change_ax = figure.subplots(1, 2, width_ratios=[3, 2])
        _draw_individual_lines(total_ax, individual, conditions, len(timepoints))
        _draw_timepoint_means(total_ax, summary, conditions, labels)
        _timepoint_axis(total_ax, timepoints, labels)
        total_ax.set_ylim(bottom=0)  # the scale starts at 0: a full axis, not a zoom on the change
        total_ax.set_xlabel("time point")
        total_ax.set_ylabel(f"{style.outcome_label(outcome)} ({labels.unit(scale)})")
        change_ax.axhline(0, color=style.LIGHT, lw=0.6, zorder=0)
        many = changes["participant_id"].nunique() > ONE_ARTIST_ABOVE
        _draw_change_group(change_ax, changes, change_means, 0, conditions, many)
        change_ax.set_xticks([0], [_counts_label(change_means, conditions)])
        change_ax.set_xlim(-0.6, 0.6)
        change_ax.set_ylabel(_change_axis_label(outcome, labels.unit(scale), definition, labels))
        style.panel_letters([total_ax, change_ax])
        n = _participants(scores, [outcome])
        figure.legend(
            handles=_condition_handles(conditions, labels) + [_mean_handle()],
            loc="outside lower center",
            ncols=3,
            title="\n".join(
                textwrap.wrap(
                    f"a: mean and {CI_NAME} (faint lines: each participant), n per time point "
                    f"under the axis; b: change per participant and its mean and CI; "
                    f"n = {n} participants",
                    62,
                )
            ),
        )
        style.label_synthetic(figure, synthetic)
    return figure, _madrs_table(summary, individual, changes, change_means, outcome, scale)


def _madrs_table(summary, individual, changes, change_means, outcome, scale) -> pd.DataFrame:
    """The plotted numbers of madrs_timecourse, one frame: totals and changes, means and
    participants."""
    definition = changes["change_definition"].iloc[0]
    parts = [
        summary.assign(panel="total", level="mean"),
        individual.drop(columns="condition_rank").assign(
            panel="total", level="participant", outcome=outcome, scale=scale
        ),
        change_means.assign(panel="change", level="mean", timepoint=definition),
        changes.rename(columns={"change_definition": "timepoint", "change": "value"}).assign(
            panel="change", level="participant"
        ),
    ]
    columns = [
        "panel",
        "level",
        "outcome",
        "scale",
        "condition",
        "timepoint",
        "timepoint_index",
        "participant_id",
        "value",
        "n",
        "mean",
        "sd",
        "sem",
        "n_within",
        "ci_low",
        "ci_high",
        "n_missing",
    ]
    table = pd.concat([part.reindex(columns=columns) for part in parts], ignore_index=True)
    table["outcome"], table["scale"] = outcome, scale
    return table


def secondary_scales(
    scores: pd.DataFrame,
    conditions: list[str],
    scales: dict,
    *,
    primary: str = "MADRS",
    synthetic: bool = False,
    columns: int = 5,
    labels: style.Labels | None = None,
):
    """One panel per outcome other than the primary: mean and within-participant CI by condition
    over its time points, n under each axis."""
    labels = labels or style.Labels()
    outcomes = [o for o in outcome_order(scores, scales) if o != primary]
    summary = timepoint_summary(scores, conditions, scales, outcomes)
    columns = max(1, min(columns, len(outcomes)))
    rows = max(1, math.ceil(len(outcomes) / columns))
    with style.context():
        figure = style.new_figure(style.DOUBLE_COLUMN, 0.5 + 1.7 * rows)
        axes = figure.subplots(rows, columns, squeeze=False)
        for index, ax in enumerate(axes.flat):
            if index >= len(outcomes):
                ax.set_axis_off()
                continue
            outcome = outcomes[index]
            of_outcome = summary[summary["outcome"] == outcome]
            scale = of_outcome["scale"].iloc[0]
            _draw_timepoint_means(ax, of_outcome, conditions, labels)
            _timepoint_axis(ax, scales[scale]["timepoints"], labels, short=True)
            style.honest_limits(ax, error_bar_ends(of_outcome), floor=0.0)
            ax.set_title(style.outcome_label(outcome))
            ax.set_ylabel(labels.unit(scale))
        style.panel_letters(list(axes.flat)[: len(outcomes)])
        n = _participants(scores, outcomes)
        figure.legend(
            handles=_condition_handles(conditions, labels),
            loc="outside lower center",
            ncols=len(conditions),
            title=f"mean and {CI_NAME}; n = {n} participants (n per time point under each axis)",
        )
        style.label_synthetic(figure, synthetic)
    return figure, summary


def sex_madrs(
    scores: pd.DataFrame,
    participants: pd.DataFrame,
    conditions: list[str],
    scales: dict,
    *,
    outcome: str = "MADRS",
    synthetic: bool = False,
    labels: style.Labels | None = None,
):
    """Change (last - first time point, MADRS: day1 - pre) by condition for males and females:
    each participant's points, joined across conditions, and the mean with its within-participant
    CI (over each sex's participants) beside them; n per condition under each group."""
    labels = labels or style.Labels()
    changes = change_scores(scores, participants, conditions, scales, outcome)
    definition = changes["change_definition"].iloc[0]
    sexes = [s for s in SEX_ORDER if s in set(changes["sex"])]
    many = changes["participant_id"].nunique() > ONE_ARTIST_ABOVE
    means = change_summary(changes, conditions, by=["sex"])
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN, 2.7)
        ax = figure.add_subplot()
        ax.axhline(0, color=style.LIGHT, lw=0.6, zorder=0)
        ticks = []
        for position, sex in enumerate(sexes):
            of_sex = means[means["sex"] == sex]
            _draw_change_group(
                ax, changes[changes["sex"] == sex], of_sex, position, conditions, many
            )
            ticks.append(f"{SEX_LABELS.get(sex, sex)}\n{_counts_label(of_sex, conditions)}")
        ax.set_xticks(range(len(sexes)), ticks)
        ax.set_xlim(-0.6, len(sexes) - 0.4)
        scale = scores.loc[scores["outcome"] == outcome, "scale"].iloc[0]
        ax.set_ylabel(_change_axis_label(outcome, labels.unit(scale), definition, labels))
        handles = _condition_handles(conditions, labels) + [_mean_handle()]
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=len(handles),
            title="\n".join(
                textwrap.wrap(
                    f"mean and {CI_NAME}; n under each group: participants with a change, per "
                    "condition (" + " / ".join(labels.condition(c) for c in conditions) + ")",
                    62,
                )
            ),
        )
        style.label_synthetic(figure, synthetic)
    table = pd.concat(
        [
            means.assign(level="mean", outcome=outcome, change_definition=definition),
            changes.assign(level="participant"),
        ],
        ignore_index=True,
    )
    return figure, table.reindex(
        columns=[
            "level",
            "sex",
            "condition",
            "participant_id",
            "outcome",
            "change_definition",
            "value_first",
            "value_last",
            "change",
            "n",
            "mean",
            "sd",
            "sem",
            "n_within",
            "ci_low",
            "ci_high",
        ]
    )
