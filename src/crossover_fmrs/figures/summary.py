"""The numbers the figures draw: means, SDs, SEMs and counts, without matplotlib.

SEM is the between-observation SD (n - 1 denominator) over sqrt(n); with one observation SD and
SEM are NaN, with none the mean is NaN too. Missing values are left out and counted, never filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.errors import InputError
from .data import check_levels, check_unique, require_columns, source_of

SEX_ORDER = ["M", "F"]
SEX_LABELS = {"M": "males", "F": "females"}
SPECTRUM_KEYS = ["participant_id", "condition", "block"]
SCORE_KEYS = ["participant_id", "condition", "outcome", "timepoint"]


def mean_sem(values) -> dict:
    """n, mean, sd and sem of the non-missing values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    return {"n": n, "mean": mean, "sd": sd, "sem": sd / np.sqrt(n) if n > 1 else np.nan}


def error_bar_ends(summary: pd.DataFrame) -> list[float]:
    """Both ends of every mean ± SEM bar of a summary (a mean alone where the SEM is missing)."""
    sem = summary["sem"].fillna(0)
    return list(summary["mean"] - sem) + list(summary["mean"] + sem)


def included_mask(spectra: pd.DataFrame) -> pd.Series:
    """Spectra that enter the statistics: QC kept them and they have a ratio."""
    return spectra["included"].astype(bool) & spectra["ratio"].notna()


def ratio_label(spectra: pd.DataFrame) -> str:
    """'Glx/tNAA' from the numerator and denominator columns (one ratio per table)."""
    require_columns(spectra, ["numerator", "denominator"])
    pairs = spectra[["numerator", "denominator"]].drop_duplicates()
    if len(pairs) != 1:
        raise InputError(
            source_of(spectra),
            None,
            "numerator/denominator",
            "one ratio for the whole table",
            sorted("/".join(map(str, p)) for p in pairs.itertuples(index=False)),
        )
    numerator, denominator = pairs.iloc[0]
    return f"{numerator}/{denominator}"


def check_spectra(spectra: pd.DataFrame, conditions: list[str]) -> None:
    require_columns(spectra, SPECTRUM_KEYS + ["onset_min", "offset_min", "ratio", "included"])
    check_levels(spectra, "condition", conditions, "the configured conditions")
    check_unique(spectra, SPECTRUM_KEYS)


def block_times(spectra: pd.DataFrame) -> pd.DataFrame:
    """Onset, offset and midpoint of each block, minutes from the start of the infusion.

    Median over all spectra of the block (every condition), so both conditions share one x.
    """
    times = spectra.groupby("block", sort=True)[["onset_min", "offset_min"]].median().reset_index()
    times["midpoint_min"] = (times["onset_min"] + times["offset_min"]) / 2
    return times


def with_sex(frame: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """frame with each participant's sex; a participant missing from participants.tsv is an
    error."""
    require_columns(participants, ["participant_id", "sex"])
    check_levels(participants, "sex", SEX_ORDER, "sex codes")
    check_unique(participants, ["participant_id"])
    sex = dict(zip(participants["participant_id"], participants["sex"]))
    unknown = sorted(set(frame["participant_id"]) - set(sex))
    if unknown:
        raise InputError(
            source_of(frame),
            f"participant {unknown[0]}",
            "participant_id",
            f"a participant listed in {source_of(participants, 'participants.tsv')}",
            unknown[0],
        )
    out = frame.copy()
    out["sex"] = out["participant_id"].map(sex)
    return out


def block_summary(spectra: pd.DataFrame, conditions: list[str], by: list[str] = ()) -> pd.DataFrame:
    """Mean ± SEM of the ratio per [by x] condition x block, over included spectra only.

    Every block seen in the table appears for every condition (n = 0 where nothing is left);
    n_excluded counts the spectra of the cell that QC excluded or that have no ratio.
    """
    check_spectra(spectra, conditions)
    by = list(by)
    label = ratio_label(spectra)
    times = block_times(spectra)
    kept = included_mask(spectra)
    groups = (
        [()]
        if not by
        else sorted(
            spectra[by].drop_duplicates().itertuples(index=False, name=None),
            key=lambda key: tuple(_order_key(c, v) for c, v in zip(by, key)),
        )
    )
    rows = []
    for key in groups:
        in_group = np.ones(len(spectra), dtype=bool)
        for column, value in zip(by, key):
            in_group &= (spectra[column] == value).to_numpy()
        for condition in conditions:
            for block in times.itertuples(index=False):
                cell = (
                    in_group
                    & (spectra["condition"] == condition).to_numpy()
                    & (spectra["block"] == block.block).to_numpy()
                )
                stats = mean_sem(spectra.loc[cell & kept.to_numpy(), "ratio"])
                rows.append(
                    {
                        **dict(zip(by, key)),
                        "condition": condition,
                        "block": int(block.block),
                        "onset_min": block.onset_min,
                        "offset_min": block.offset_min,
                        "midpoint_min": block.midpoint_min,
                        "outcome": label,
                        **stats,
                        "n_excluded": int(cell.sum()) - stats["n"],
                    }
                )
    columns = by + [
        "condition",
        "block",
        "onset_min",
        "offset_min",
        "midpoint_min",
        "outcome",
        "n",
        "mean",
        "sd",
        "sem",
        "n_excluded",
    ]
    return pd.DataFrame(rows, columns=columns)


def _order_key(column: str, value):
    if column == "sex" and value in SEX_ORDER:
        return (0, SEX_ORDER.index(value), "")
    return (1, 0, str(value))


def individual_ratios(spectra: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Every spectrum's ratio with its block time and QC decision, in participant, condition, block
    order."""
    check_spectra(spectra, conditions)
    times = block_times(spectra)[["block", "midpoint_min"]]
    columns = SPECTRUM_KEYS + ["onset_min", "offset_min"]
    table = spectra[columns + ["ratio", "included"]].copy()
    table["included"] = included_mask(spectra)
    for optional in ("excluded_by", "flags"):
        table[optional] = (
            spectra[optional].fillna("").astype(str) if optional in spectra.columns else ""
        )
    # A spectrum QC kept but without a ratio is out of the statistics too: say why.
    no_ratio = table["ratio"].isna() & (table["excluded_by"] == "")
    table.loc[no_ratio, "excluded_by"] = "no ratio"
    table = table.merge(times, on="block", how="left")
    table["outcome"] = ratio_label(spectra)
    table["condition_rank"] = table["condition"].map({c: i for i, c in enumerate(conditions)})
    table = table.sort_values(["participant_id", "condition_rank", "block"], kind="stable")
    return table.drop(columns="condition_rank").reset_index(drop=True)[
        SPECTRUM_KEYS
        + [
            "onset_min",
            "offset_min",
            "midpoint_min",
            "outcome",
            "ratio",
            "included",
            "excluded_by",
            "flags",
        ]
    ]


def check_scores(scores: pd.DataFrame, conditions: list[str], scales: dict) -> None:
    """Known conditions, scales and time points; one value per participant x condition x outcome x
    time."""
    require_columns(scores, SCORE_KEYS + ["scale", "value"])
    check_levels(scores, "condition", conditions, "the configured conditions")
    check_levels(scores, "scale", list(scales), "the configured scales")
    for scale, spec in scales.items():
        check_levels(
            scores[scores["scale"] == scale],
            "timepoint",
            spec["timepoints"],
            f"time points of {scale}",
        )
    check_unique(scores, SCORE_KEYS)


def outcome_order(scores: pd.DataFrame, scales: dict) -> list[str]:
    """Outcomes in the config's scale order, alphabetical within a scale."""
    order = []
    for scale in scales:
        order += sorted(scores.loc[scores["scale"] == scale, "outcome"].unique())
    return order


def timepoint_summary(
    scores: pd.DataFrame, conditions: list[str], scales: dict, outcomes: list[str]
) -> pd.DataFrame:
    """Mean ± SEM per outcome x condition x time point; n counts values, n_missing rows with NA."""
    check_scores(scores, conditions, scales)
    rows = []
    for outcome in outcomes:
        of_outcome = scores[scores["outcome"] == outcome]
        if of_outcome.empty:
            raise InputError(source_of(scores), None, "outcome", f"rows for {outcome}", "none")
        scale = of_outcome["scale"].iloc[0]
        for condition in conditions:
            for position, timepoint in enumerate(scales[scale]["timepoints"]):
                cell = of_outcome[
                    (of_outcome["condition"] == condition) & (of_outcome["timepoint"] == timepoint)
                ]
                stats = mean_sem(cell["value"])
                rows.append(
                    {
                        "outcome": outcome,
                        "scale": scale,
                        "condition": condition,
                        "timepoint": timepoint,
                        "timepoint_index": position,
                        **stats,
                        "n_missing": len(cell) - stats["n"],
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "scale",
            "condition",
            "timepoint",
            "timepoint_index",
            "n",
            "mean",
            "sd",
            "sem",
            "n_missing",
        ],
    )


def change_scores(
    scores: pd.DataFrame,
    participants: pd.DataFrame,
    conditions: list[str],
    scales: dict,
    outcome: str = "MADRS",
) -> pd.DataFrame:
    """Per participant x condition: last minus first configured time point (MADRS: day1 - pre).

    NaN where either value is missing; the participant still appears, with the missing side NaN.
    """
    check_scores(scores, conditions, scales)
    of_outcome = scores[scores["outcome"] == outcome]
    if of_outcome.empty:
        raise InputError(source_of(scores), None, "outcome", f"rows for {outcome}", "none")
    timepoints = scales[of_outcome["scale"].iloc[0]]["timepoints"]
    first, last = timepoints[0], timepoints[-1]
    wide = of_outcome.pivot(
        index=["participant_id", "condition"], columns="timepoint", values="value"
    )
    wide = wide.reindex(columns=[first, last]).reset_index()
    wide.columns.name = None
    wide = with_sex(wide, participants)
    wide = wide.rename(columns={first: "value_first", last: "value_last"})
    wide["change"] = wide["value_last"] - wide["value_first"]
    wide["outcome"] = outcome
    wide["change_definition"] = f"{last} - {first}"
    wide["sex_rank"] = wide["sex"].map({s: i for i, s in enumerate(SEX_ORDER)})
    wide["condition_rank"] = wide["condition"].map({c: i for i, c in enumerate(conditions)})
    wide = wide.sort_values(
        ["sex_rank", "condition_rank", "participant_id"], kind="stable"
    ).reset_index(drop=True)
    return wide[
        [
            "sex",
            "condition",
            "participant_id",
            "outcome",
            "change_definition",
            "value_first",
            "value_last",
            "change",
        ]
    ]
