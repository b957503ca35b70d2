"""Participant flow of a randomised crossover trial, as the CONSORT 2010 extension to crossover
trials asks (Dwan et al. 2019, BMJ 366:l4378): randomised, allocated to each sequence, each
period with the condition the sequence received there (attended and missed), and, per outcome,
who and what was analysed, with the exclusions and their reasons.

One row per box of the diagram. `tier` is the diagram's row (boxes of one tier stand side by
side), `arm` the sequence a box belongs to ("all" for boxes of the whole sample). The counts of
the rm-ANOVAs are read from their results tables, so the flow states what the analysis used.
"""

from __future__ import annotations

import pandas as pd

from ..common.tables import SITE, is_multisite, order_conditions

ALL = "all"
FLOW_COLUMNS = [
    "step",
    "tier",
    "arm",
    "stage",
    "condition",
    "n_participants",
    "n_observations",
    "unit",
    "note",
]
# Plain words for the QC criteria in the flow notes.
CRITERION_WORDS = {
    "crlb": "%SD (CRLB)",
    "fwhm": "linewidth (FWHM)",
    "snr": "S/N",
    "undetermined": "undetermined fit",
    "fwhm_drift": "linewidth drift",
    "snr_drift": "S/N drift",
}


def sequence_label(order: str) -> str:
    """'placebo-naltrexone' -> 'placebo → naltrexone'."""
    return " → ".join(order_conditions(order))


def _exclusion_note(excluded: pd.DataFrame) -> str:
    reasons = (
        excluded["excluded_by"]
        .where(excluded["excluded_by"] != "", "no ratio")
        .value_counts()
        .sort_index()
    )
    words = "; ".join(
        f"{' + '.join(CRITERION_WORDS.get(c, c) for c in reason.split(';'))}: {count}"
        for reason, count in reasons.items()
    )
    return f"spectra excluded by QC: {words}" if words else "no spectrum excluded by QC"


def _rm_anova_row(table: pd.DataFrame, outcome: str, analysis: str | None = None) -> pd.Series:
    """The first row of an rm-ANOVA results table for `outcome` (and `analysis`, if given)."""
    rows = table[table["outcome"] == outcome]
    if analysis is not None:
        rows = rows[rows["analysis"] == analysis]
    if rows.empty:
        raise ValueError(
            f"participant flow: no rm-ANOVA rows for {outcome!r}"
            + (f" ({analysis})" if analysis else "")
        )
    return rows.iloc[0]


def participant_flow(
    participants: pd.DataFrame,
    spectra: pd.DataFrame,
    scores: pd.DataFrame,
    glx_rm_anova: pd.DataFrame,
    clinical_rm_anova: pd.DataFrame,
    conditions: list[str],
    primary_outcome: str = "MADRS",
    ratio_label: str = "Glx/tNAA",
) -> pd.DataFrame:
    rows = []

    def add(tier, arm, stage, n_participants, n_observations=None, note="", condition=ALL, unit=""):
        rows.append(
            {
                "step": len(rows) + 1,
                "tier": tier,
                "arm": arm,
                "stage": stage,
                "condition": condition,
                "n_participants": int(n_participants),
                "n_observations": n_observations,
                "unit": unit,
                "note": note,
            }
        )

    by_site = (
        "per site: "
        + ", ".join(
            f"{site} {n}" for site, n in participants[SITE].value_counts().sort_index().items()
        )
        if is_multisite(participants)
        else ""
    )
    add(1, ALL, "Randomised", len(participants), note=by_site)
    sequences = list(dict.fromkeys(participants["order"]))
    attended = pd.concat(
        [
            spectra[["participant_id", "condition"]],
            scores.loc[scores["value"].notna(), ["participant_id", "condition"]],
        ]
    ).drop_duplicates()
    for sequence in sequences:
        members = participants.loc[participants["order"] == sequence, "participant_id"]
        add(2, sequence, f"Allocated to {sequence_label(sequence)}", len(members))
    n_periods = max(len(order_conditions(sequence)) for sequence in sequences)
    for period in range(n_periods):
        for sequence in sequences:
            order = order_conditions(sequence)
            if period >= len(order):
                continue
            condition = order[period]
            members = set(participants.loc[participants["order"] == sequence, "participant_id"])
            came = members & set(attended.loc[attended["condition"] == condition, "participant_id"])
            missed = sorted(members - came)
            note = f"missed: {', '.join(missed)}" if missed else "none missed"
            add(
                3 + period,
                sequence,
                f"Period {period + 1}: {condition}",
                len(came),
                note=note,
                condition=condition,
            )
    tier = 3 + n_periods
    kept = spectra[spectra["included"]]
    note = f"{len(spectra)} spectra acquired; {_exclusion_note(spectra[~spectra['included']])}"
    unchecked = int(kept["quality_not_evaluated"].sum()) if "quality_not_evaluated" in kept else 0
    if unchecked:  # included on the ratio alone: the tool provides no quality measure
        note += f"; {unchecked} included with no quality criterion evaluated"
    add(
        tier,
        ALL,
        f"Analysed, {ratio_label} (mixed model)",
        kept["participant_id"].nunique(),
        len(kept),
        note=note,
        unit="spectra",
    )
    primary = scores[scores["outcome"] == primary_outcome]
    usable = primary[primary["value"].notna()]
    missing = len(primary) - len(usable)
    add(
        tier,
        ALL,
        f"Analysed, {primary_outcome} (mixed model)",
        usable["participant_id"].nunique(),
        len(usable),
        note=f"{missing} rating{'s' if missing != 1 else ''} missing"
        if missing
        else "no rating missing",
        unit="ratings",
    )
    for analysis, label in (
        ("glx_rm_anova_phase", "condition × phase"),
        ("glx_rm_anova_block", "condition × block"),
    ):
        row = _rm_anova_row(glx_rm_anova, ratio_label, analysis)
        add(
            tier + 1,
            ALL,
            f"{ratio_label} rm-ANOVA, {label}",
            row["n_participants"],
            note=_rm_anova_note(row),
        )
    row = _rm_anova_row(clinical_rm_anova, primary_outcome)
    add(
        tier + 1,
        ALL,
        f"{primary_outcome} rm-ANOVA, condition × time",
        row["n_participants"],
        note=_rm_anova_note(row),
    )
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def _rm_anova_note(row: pd.Series) -> str:
    """Who the rm-ANOVA left out: it needs a value in every cell of a participant."""
    dropped = [pid for pid in str(row["participants_dropped"]).split(";") if pid and pid != "nan"]
    if not dropped:
        return "every participant has a value in every cell"
    who = ", ".join(dropped) if len(dropped) <= 4 else f"{len(dropped)} participants"
    return f"left out, a cell without a value: {who}"
