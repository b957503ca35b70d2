"""The numbers the figures draw: means, counts and within-participant intervals, without matplotlib.

Every participant is in every condition, so the error bars are Cousineau-Morey 95% intervals
(within_ci): they show the uncertainty of the differences between the cells that the design
compares, without the spread between participants that the within-participant comparisons remove.
The between-participant SD and SEM (n - 1 denominator; NaN with one value) stay in the tables.
Missing values are left out and counted, never filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from ..common.errors import InputError
from ..common.schemas import SPECTRUM_KEYS
from .data import source_of

SEX_ORDER = ["M", "F"]
SEX_LABELS = {"M": "males", "F": "females"}
CI_LEVEL = 0.95
CI_NAME = "95% within-participant CI (Cousineau-Morey)"
INTERVAL_COLUMNS = ["n_within", "ci_low", "ci_high"]


def mean_sem(values) -> dict:
    """n, mean, sd and sem of the non-missing values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    return {"n": n, "mean": mean, "sd": sd, "sem": sd / np.sqrt(n) if n > 1 else np.nan}


def within_ci(
    frame: pd.DataFrame,
    cells: list[str],
    n_cells: int,
    *,
    value: str = "value",
    subject: str = "participant_id",
    level: float = CI_LEVEL,
) -> pd.DataFrame:
    """Half-width of the Cousineau-Morey interval of every cell (Cousineau 2005; Morey 2008).

    Each participant's values are centred on their own mean over the cells they have (plus the
    grand mean, which shifts every value alike and so leaves the widths unchanged); the variance
    of the centred values of a cell is multiplied by M / (M - 1), M = n_cells, the number of
    within-participant cells of the design; half-width = t(level, n - 1) * SD * sqrt(M / (M - 1))
    / sqrt(n). A participant missing cells is centred on the cells they have; one with a single
    cell has no within-participant variation and is left out of the interval (n_within counts
    who is in). Columns of `cells` that are between-participant (sex) only split the table: a
    participant's mean is over their own cells. One groupby pass: linear in the rows.
    """
    data = frame.loc[frame[value].notna(), [subject, *cells, value]]
    by_subject = data.groupby(subject, sort=False)[value]
    data = data.assign(
        _centred=data[value] - by_subject.transform("mean"), _k=by_subject.transform("size")
    )
    data = data[data["_k"] > 1]
    grouped = data.groupby(cells, sort=True)["_centred"]
    table = pd.DataFrame({"n_within": grouped.size(), "_sd": grouped.std(ddof=1)})
    n = table["n_within"].to_numpy(float)
    correction = np.sqrt(n_cells / (n_cells - 1)) if n_cells > 1 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        t = scipy_stats.t.ppf((1 + level) / 2, n - 1)
        table["ci_half"] = np.where(n > 1, t * table["_sd"] * correction / np.sqrt(n), np.nan)
    return table.drop(columns="_sd").reset_index()


def add_interval(summary: pd.DataFrame, intervals: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """summary with n_within, ci_low and ci_high: the cell's mean ± its within_ci half-width."""
    merged = summary.merge(intervals, on=keys, how="left", validate="one_to_one")
    merged["n_within"] = merged["n_within"].fillna(0).astype(int)
    merged["ci_low"] = merged["mean"] - merged["ci_half"]
    merged["ci_high"] = merged["mean"] + merged["ci_half"]
    return merged.drop(columns="ci_half")


def error_bar_ends(summary: pd.DataFrame) -> list[float]:
    """Both ends of every interval of a summary (the mean alone where it has none)."""
    low = summary["ci_low"].fillna(summary["mean"])
    high = summary["ci_high"].fillna(summary["mean"])
    return list(low) + list(high)


def error_bars(summary: pd.DataFrame) -> np.ndarray:
    """yerr for errorbar: distances from the mean to the interval's ends (0 where none)."""
    low = (summary["mean"] - summary["ci_low"]).fillna(0).to_numpy(float)
    high = (summary["ci_high"] - summary["mean"]).fillna(0).to_numpy(float)
    return np.vstack([low, high])


def included_mask(spectra: pd.DataFrame) -> pd.Series:
    """Spectra that enter the statistics: QC kept them and they have a ratio."""
    return spectra["included"].astype(bool) & spectra["ratio"].notna()


def ratio_label(spectra: pd.DataFrame) -> str:
    """'Glx/tNAA' from the numerator and denominator columns (one ratio per table)."""
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


def block_times(spectra: pd.DataFrame) -> pd.DataFrame:
    """Onset, offset and midpoint of each block, minutes from the start of the infusion.

    Median over all spectra of the block (every condition), so both conditions share one x.
    """
    times = spectra.groupby("block", sort=True)[["onset_min", "offset_min"]].median().reset_index()
    times["midpoint_min"] = (times["onset_min"] + times["offset_min"]) / 2
    return times


def with_sex(frame: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """frame with each participant's sex; a participant missing from participants.tsv is an
    error (a check across two tables, which a schema of one cannot make)."""
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
    """Mean and within_ci interval of the ratio per [by x] condition x block, over included
    spectra only (M = conditions x blocks).

    Every block seen in the table appears for every condition (n = 0 where nothing is left);
    n_excluded counts the spectra of the cell that QC excluded or that have no ratio.
    """
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
    keys = by + ["condition", "block"]
    kept_rows = spectra.loc[kept, keys + ["participant_id", "ratio"]]
    intervals = within_ci(kept_rows, keys, len(conditions) * len(times), value="ratio")
    summary = add_interval(pd.DataFrame(rows, columns=columns), intervals, keys)
    return summary[columns[:-1] + INTERVAL_COLUMNS + ["n_excluded"]]


def data_end_min(spectra: pd.DataFrame) -> float:
    """Where the fMRS data end: the offset of the last block (minutes from the infusion's start)."""
    return float(block_times(spectra)["offset_min"].max())


def _order_key(column: str, value):
    if column == "sex" and value in SEX_ORDER:
        return (0, SEX_ORDER.index(value), "")
    return (1, 0, str(value))


def individual_ratios(spectra: pd.DataFrame, conditions: list[str]) -> pd.DataFrame:
    """Every spectrum's ratio with its block time and QC decision, in participant, condition, block
    order."""
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


def outcome_order(scores: pd.DataFrame, scales: dict) -> list[str]:
    """Outcomes in the config's scale order, alphabetical within a scale."""
    order = []
    for scale in scales:
        order += sorted(scores.loc[scores["scale"] == scale, "outcome"].unique())
    return order


def timepoint_summary(
    scores: pd.DataFrame, conditions: list[str], scales: dict, outcomes: list[str]
) -> pd.DataFrame:
    """Mean and within_ci interval per outcome x condition x time point (M = conditions x time
    points of the outcome's scale); n counts values, n_missing rows with NA."""
    rows, intervals = [], []
    for outcome in outcomes:
        of_outcome = scores[scores["outcome"] == outcome]
        if of_outcome.empty:
            raise InputError(source_of(scores), None, "outcome", f"rows for {outcome}", "none")
        scale = of_outcome["scale"].iloc[0]
        n_cells = len(conditions) * len(scales[scale]["timepoints"])
        cells = within_ci(of_outcome, ["condition", "timepoint"], n_cells)
        intervals.append(cells.assign(outcome=outcome))
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
    columns = [
        "outcome",
        "scale",
        "condition",
        "timepoint",
        "timepoint_index",
        "n",
        "mean",
        "sd",
        "sem",
    ]
    summary = add_interval(
        pd.DataFrame(rows, columns=columns + ["n_missing"]),
        pd.concat(intervals, ignore_index=True),
        ["outcome", "condition", "timepoint"],
    )
    return summary[columns + INTERVAL_COLUMNS + ["n_missing"]]


def change_scores(
    scores: pd.DataFrame,
    participants: pd.DataFrame | None,
    conditions: list[str],
    scales: dict,
    outcome: str = "MADRS",
) -> pd.DataFrame:
    """Per participant x condition: last minus first configured time point (MADRS: day1 - pre),
    with each participant's sex when `participants` is given (then sorted by sex first).

    NaN where either value is missing; the participant still appears, with the missing side NaN.
    """
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
    sexes = participants is not None
    if sexes:
        wide = with_sex(wide, participants)
        wide["sex_rank"] = wide["sex"].map({s: i for i, s in enumerate(SEX_ORDER)})
    wide = wide.rename(columns={first: "value_first", last: "value_last"})
    wide["change"] = wide["value_last"] - wide["value_first"]
    wide["outcome"] = outcome
    wide["change_definition"] = f"{last} - {first}"
    wide["condition_rank"] = wide["condition"].map({c: i for i, c in enumerate(conditions)})
    order = ["sex_rank"] * sexes + ["condition_rank", "participant_id"]
    wide = wide.sort_values(order, kind="stable").reset_index(drop=True)
    return wide[
        ["sex"] * sexes
        + [
            "condition",
            "participant_id",
            "outcome",
            "change_definition",
            "value_first",
            "value_last",
            "change",
        ]
    ]


def change_summary(
    changes: pd.DataFrame, conditions: list[str], by: list[str] = ()
) -> pd.DataFrame:
    """Mean and within_ci interval of change_scores per [by x] condition (M = conditions)."""
    by = list(by)
    groups = [()] if not by else list(dict.fromkeys(changes[by].itertuples(index=False, name=None)))
    rows = []
    for key in groups:
        in_group = np.ones(len(changes), dtype=bool)
        for column, value in zip(by, key):
            in_group &= (changes[column] == value).to_numpy()
        for condition in conditions:
            cell = changes.loc[in_group & (changes["condition"] == condition).to_numpy(), "change"]
            rows.append({**dict(zip(by, key)), "condition": condition, **mean_sem(cell)})
    columns = by + ["condition", "n", "mean", "sd", "sem"]
    intervals = within_ci(changes, by + ["condition"], len(conditions), value="change")
    summary = add_interval(pd.DataFrame(rows, columns=columns), intervals, by + ["condition"])
    return summary[columns + INTERVAL_COLUMNS]
