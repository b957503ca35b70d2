"""Quality control of the clinical assessments: missing items, missing conditions, visit windows.

Structural faults (out-of-range scores, duplicates, unknown codes) stop ingestion with an
InputError; what remains here are the legitimate imperfections of real data, each reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ASSESSMENT_KEYS = ["participant_id", "condition", "timepoint", "scale"]


def _check(frame: pd.DataFrame, check: str, value, expected: str, flagged) -> pd.DataFrame:
    out = frame[ASSESSMENT_KEYS].copy()
    out["check"] = check
    out["value"] = np.asarray(value, dtype=float)
    out["expected"] = expected
    out["flagged"] = np.asarray(flagged, dtype=bool)
    return out


def clinical_checks(
    scores: pd.DataFrame,
    participants: pd.DataFrame,
    scales: dict,
    conditions: list[str],
    windows: dict,
) -> pd.DataFrame:
    """Long table: one row per assessment x check (plus one per participant x scale x condition
    for assessments that are absent altogether)."""
    assessments = (
        scores.groupby(ASSESSMENT_KEYS, sort=True)
        .agg(
            hours_from_infusion=("hours_from_infusion", "first"),
            n_items=("n_items", "first"),
            n_items_missing=("n_items_missing", "first"),
            any_score=("value", lambda v: v.notna().any()),
        )
        .reset_index()
    )
    parts = [
        _check(
            assessments,
            "missing_items",
            assessments["n_items_missing"],
            "0 unrated items",
            assessments["n_items_missing"] > 0,
        ),
        _check(
            assessments,
            "no_score",
            (~assessments["any_score"]).astype(float),
            "a score (items rated enough for the scale's rule)",
            ~assessments["any_score"],
        ),
    ]
    low = assessments["timepoint"].map(lambda t: windows.get(t, [np.nan, np.nan])[0]).astype(float)
    high = assessments["timepoint"].map(lambda t: windows.get(t, [np.nan, np.nan])[1]).astype(float)
    hours = assessments["hours_from_infusion"].astype(float)
    expected = [
        f"{a:g} to {b:g} h from infusion start" if not np.isnan(a) else "no window set"
        for a, b in zip(low, high)
    ]
    parts.append(_check(assessments, "visit_window", hours, "", (hours < low) | (hours > high)))
    parts[-1]["expected"] = expected
    # Assessments expected by the design but absent from the sheets.
    design = pd.MultiIndex.from_tuples(
        [
            (pid, condition, timepoint, scale)
            for pid in participants["participant_id"]
            for condition in conditions
            for scale, spec in scales.items()
            for timepoint in spec["timepoints"]
        ],
        names=ASSESSMENT_KEYS,
    ).to_frame(index=False)
    present = design.merge(assessments[ASSESSMENT_KEYS], how="left", indicator=True)
    absent = present[present["_merge"] == "left_only"].drop(columns="_merge")
    parts.append(
        _check(
            absent,
            "assessment_absent",
            np.ones(len(absent)),
            "a row in the scale's sheet",
            np.ones(len(absent), dtype=bool),
        )
    )
    checks = pd.concat(parts, ignore_index=True)
    return checks.sort_values(ASSESSMENT_KEYS + ["check"], kind="stable").reset_index(drop=True)


def missing_conditions(
    scores: pd.DataFrame, participants: pd.DataFrame, conditions: list[str]
) -> pd.DataFrame:
    """Participants who lack every assessment of a condition (a crossover arm not completed)."""
    seen = scores.loc[scores["value"].notna(), ["participant_id", "condition"]].drop_duplicates()
    rows = []
    for pid in participants["participant_id"]:
        done = set(seen.loc[seen["participant_id"] == pid, "condition"])
        for condition in conditions:
            if condition not in done:
                rows.append({"participant_id": pid, "condition": condition})
    return pd.DataFrame(rows, columns=["participant_id", "condition"])
