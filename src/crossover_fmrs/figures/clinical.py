"""Rating-scale figures: MADRS over time, the secondary scales, and the MADRS change by sex."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from . import style
from .summary import (
    SEX_LABELS,
    SEX_ORDER,
    change_scores,
    check_scores,
    error_bar_ends,
    mean_sem,
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
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, DODGE)
    for condition in conditions:
        rows = summary[summary["condition"] == condition]
        ax.errorbar(
            rows["timepoint_index"] + offsets[condition],
            rows["mean"],
            yerr=rows["sem"],
            color=colours[condition],
            marker="o",
            markersize=3.5,
            lw=1.2,
            elinewidth=0.9,
            label=labels.condition(condition),
            zorder=3,
        )


def _timepoint_axis(ax, timepoints: list[str], labels: style.Labels, short: bool = False) -> None:
    ax.set_xticks(range(len(timepoints)), [labels.timepoint(t, short) for t in timepoints])
    ax.set_xlim(-0.4, len(timepoints) - 0.6)


def _condition_handles(conditions: list[str], labels: style.Labels) -> list:
    colours = style.condition_colours(conditions)
    return [
        Line2D([], [], color=colours[c], marker="o", markersize=3.5, label=labels.condition(c))
        for c in conditions
    ]


def _participants(scores: pd.DataFrame, outcomes: list[str]) -> int:
    rated = scores[scores["outcome"].isin(outcomes) & scores["value"].notna()]
    return rated["participant_id"].nunique()


def madrs_timecourse(
    scores: pd.DataFrame,
    conditions: list[str],
    scales: dict,
    *,
    outcome: str = "MADRS",
    synthetic: bool = False,
    labels: style.Labels | None = None,
):
    """Mean ± SEM at each time point by condition over faint individual lines. Returns (figure,
    table); the table holds the means (level "mean") and every plotted participant value (level
    "participant")."""
    labels = labels or style.Labels()
    summary = timepoint_summary(scores, conditions, scales, [outcome])
    scale = summary["scale"].iloc[0]
    timepoints = scales[scale]["timepoints"]
    rank = {t: i for i, t in enumerate(timepoints)}
    individual = scores[scores["outcome"] == outcome][
        ["participant_id", "condition", "timepoint", "value"]
    ].copy()
    individual["timepoint_index"] = individual["timepoint"].map(rank)
    individual["condition_rank"] = individual["condition"].map(
        {c: i for i, c in enumerate(conditions)}
    )
    individual = individual.sort_values(
        ["condition_rank", "participant_id", "timepoint_index"], kind="stable"
    )
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, DODGE)
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN, 2.6)
        ax = figure.add_subplot()
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
        else:
            for rank, name in enumerate(conditions):
                wide = individual[individual["condition_rank"] == rank].pivot(
                    index="participant_id", columns="timepoint_index", values="value"
                )
                wide = wide.reindex(columns=range(len(timepoints)))
                x = np.arange(len(timepoints)) + offsets[name]
                # fainter the more there are, so the means stay visible over the bundle
                alpha = float(np.clip(50 / len(wide), 0.02, 0.25))
                _add_lines(ax, x, wide.to_numpy(float), colours[name], lw=0.5, alpha=alpha)
        _draw_timepoint_means(ax, summary, conditions, labels)
        _timepoint_axis(ax, timepoints, labels)
        ax.set_ylim(bottom=0)  # the scale starts at 0: a full axis, not a zoom on the change
        ax.set_xlabel("time point")
        ax.set_ylabel(f"{style.outcome_label(outcome)} ({labels.unit(scale)})")
        n = _participants(scores, [outcome])
        figure.legend(
            handles=_condition_handles(conditions, labels),
            loc="outside lower center",
            ncols=len(conditions),
            title=f"mean ± SEM (faint lines: each participant); n = {n} participants",
        )
        style.label_synthetic(figure, synthetic)
    means = summary.assign(level="mean", participant_id=np.nan, value=np.nan)
    people = individual.drop(columns="condition_rank").assign(
        level="participant", outcome=outcome, scale=scale
    )
    columns = [
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
        "n_missing",
    ]
    table = pd.concat(
        [means.reindex(columns=columns), people.reindex(columns=columns)], ignore_index=True
    )
    return figure, table


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
    """One panel per outcome other than the primary: mean ± SEM by condition over its time
    points."""
    labels = labels or style.Labels()
    check_scores(scores, conditions, scales)
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
            title=f"mean ± SEM; n = {n} participants",
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
    each participant's points, joined across conditions, and the mean ± SEM beside them."""
    labels = labels or style.Labels()
    changes = change_scores(scores, participants, conditions, scales, outcome)
    definition = changes["change_definition"].iloc[0]
    last, first = definition.split(" - ")
    colours = style.condition_colours(conditions)
    offsets = style.dodge(conditions, 0.36)
    sexes = [s for s in SEX_ORDER if s in set(changes["sex"])]
    many = changes["participant_id"].nunique() > ONE_ARTIST_ABOVE
    means = []
    for sex in sexes:
        for condition in conditions:
            cell = changes[(changes["sex"] == sex) & (changes["condition"] == condition)]
            means.append({"sex": sex, "condition": condition, **mean_sem(cell["change"])})
    means = pd.DataFrame(means, columns=["sex", "condition", "n", "mean", "sd", "sem"])
    with style.context():
        figure = style.new_figure(style.SINGLE_COLUMN, 2.6)
        ax = figure.add_subplot()
        ax.axhline(0, color=style.LIGHT, lw=0.6, zorder=0)
        ticks = []
        for position, sex in enumerate(sexes):
            of_sex = changes[changes["sex"] == sex]
            people = sorted(of_sex["participant_id"].unique())
            jitter = dict(zip(people, style.spread(len(people), 0.07)))
            wide = of_sex.pivot(
                index="participant_id", columns="condition", values="change"
            ).reindex(index=people, columns=conditions)
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
                cell = means[(means["sex"] == sex) & (means["condition"] == condition)].iloc[0]
                ax.errorbar(
                    position + offsets[condition] + 0.13,
                    cell["mean"],
                    yerr=cell["sem"],
                    marker="D",
                    markersize=4,
                    color=colours[condition],
                    mec="#000000",
                    mew=0.6,
                    elinewidth=1.0,
                    zorder=3,
                )
            n = of_sex.loc[of_sex["change"].notna(), "participant_id"].nunique()
            ticks.append(f"{SEX_LABELS.get(sex, sex)}\n(n = {n})")
        ax.set_xticks(range(len(sexes)), ticks)
        ax.set_xlim(-0.6, len(sexes) - 0.4)
        scale = scores.loc[scores["outcome"] == outcome, "scale"].iloc[0]
        ax.set_ylabel(
            f"change in {style.outcome_label(outcome)} ({labels.unit(scale)})\n"
            f"({labels.timepoint(last)} \u2212 {labels.timepoint(first)})"
        )
        handles = _condition_handles(conditions, labels) + [
            Line2D(
                [],
                [],
                ls="none",
                marker="D",
                color=style.NEUTRAL,
                mec="#000000",
                markersize=4,
                label="mean \u00b1 SEM",
            )
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        style.label_synthetic(figure, synthetic)
    table = pd.concat(
        [
            means.assign(level="mean", outcome=outcome, change_definition=definition),
            changes.assign(level="participant"),
        ],
        ignore_index=True,
    )
    table = table.reindex(
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
        ]
    )
    return figure, table
