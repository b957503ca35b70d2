"""Participant flow of a randomised crossover trial, as the CONSORT 2010 extension to crossover
trials asks (Dwan et al. 2019, BMJ 366:l4378): randomised, allocated to each sequence, each
period with the condition the sequence received there (attended and missed), and, per outcome,
who and what was analysed, with the exclusions and their reasons.

One row per box of the diagram, from enrolment to the analyses: the figure draws this table as it
is. `tier` is the diagram's row (boxes of one tier stand side by side), `arm` the sequence a box
belongs to (a condition for the boxes analysed per condition, "all" for boxes of the whole
sample). Exclusions come from the QC decision of each spectrum (mrs_spectra), the criteria that
fired without excluding from the flags table (mrs_qc_flags); the counts of the rm-ANOVAs are read
from their results tables, so the flow states what the analysis used.
"""

from __future__ import annotations

import pandas as pd

from ..common.schemas import SPECTRUM_KEYS
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


def _kept_flags_note(flags: pd.DataFrame, kept: pd.DataFrame) -> str:
    """The criteria that fired on analysed spectra (QC flags first; only the criteria of
    qc.mrs.exclude_on exclude)."""
    fired = flags[flags["flagged"].astype(bool)].merge(
        kept[SPECTRUM_KEYS], on=SPECTRUM_KEYS, how="inner"
    )
    if fired.empty:
        return ""
    counts = fired["criterion"].value_counts().sort_index()
    words = "; ".join(f"{CRITERION_WORDS.get(c, c)}: {n}" for c, n in counts.items())
    return f"; flagged but not an exclusion criterion: {words}"


def analysed_by_condition(
    kept: pd.DataFrame, rated: pd.DataFrame, conditions: list[str], outcome: str, ratio_label: str
) -> list[dict]:
    """Who was analysed on each condition: participants with an included spectrum or a rating of
    `outcome`, with the spectra and ratings analysed in the note."""
    boxes = []
    for condition in conditions:
        of_spectra = kept[kept["condition"] == condition]
        of_ratings = rated[rated["condition"] == condition]
        people = set(of_spectra["participant_id"]) | set(of_ratings["participant_id"])
        boxes.append(
            {
                "condition": condition,
                "n_participants": len(people),
                "note": f"{ratio_label}: {of_spectra['participant_id'].nunique()} participants, "
                f"{len(of_spectra)} spectra; {outcome}: "
                f"{of_ratings['participant_id'].nunique()} participants, {len(of_ratings)} ratings",
            }
        )
    return boxes


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


class _FlowRows(list):
    """The flow's boxes in drawing order; `add` numbers each one."""

    def add(
        self,
        tier,
        arm,
        stage,
        n_participants,
        n_observations=None,
        *,
        condition=ALL,
        unit="",
        note="",
    ):
        self.append(
            {
                "step": len(self) + 1,
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


def participant_flow(
    participants: pd.DataFrame,
    spectra: pd.DataFrame,
    flags: pd.DataFrame,
    scores: pd.DataFrame,
    glx_rm_anova: pd.DataFrame,
    clinical_rm_anova: pd.DataFrame,
    conditions: list[str],
    primary_outcome: str = "MADRS",
    ratio_label: str = "Glx/tNAA",
) -> pd.DataFrame:
    rows = _FlowRows()
    _enrolment_and_allocation(rows, participants)
    tier = _periods(rows, participants, spectra, scores)
    kept = spectra[spectra["included"]]
    primary = scores[scores["outcome"] == primary_outcome]
    rated = primary[primary["value"].notna()]
    for box in analysed_by_condition(kept, rated, conditions, primary_outcome, ratio_label):
        condition = box["condition"]
        rows.add(
            tier,
            condition,
            f"Analysed on {condition}",
            box["n_participants"],
            condition=condition,
            note=box["note"],
        )
    note = f"{len(spectra)} spectra acquired; {_exclusion_note(spectra[~spectra['included']])}"
    unchecked = int(kept["quality_not_evaluated"].sum()) if "quality_not_evaluated" in kept else 0
    if unchecked:  # included on the ratio alone: the tool provides no quality measure
        note += f"; {unchecked} included with no quality criterion evaluated"
    note += _kept_flags_note(flags, kept)
    analysed = f"Analysed, {ratio_label} (mixed model)"
    rows.add(
        tier + 1,
        ALL,
        analysed,
        kept["participant_id"].nunique(),
        len(kept),
        unit="spectra",
        note=note,
    )
    missing = len(primary) - len(rated)
    rows.add(
        tier + 1,
        ALL,
        f"Analysed, {primary_outcome} (mixed model)",
        rated["participant_id"].nunique(),
        len(rated),
        unit="ratings",
        note=f"{missing} rating{'s' if missing != 1 else ''} missing"
        if missing
        else "no rating missing",
    )
    _rm_anovas(rows, tier + 2, glx_rm_anova, clinical_rm_anova, primary_outcome, ratio_label)
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def _enrolment_and_allocation(rows: _FlowRows, participants: pd.DataFrame) -> None:
    """Enrolled and randomised (everyone participants.tsv lists: its schema requires each one's
    sequence, so the two are the same people), and one box per sequence."""
    rows.add(1, ALL, "Enrolled", len(participants), note="all randomised")
    by_site = (
        "per site: "
        + ", ".join(
            f"{site} {n}" for site, n in participants[SITE].value_counts().sort_index().items()
        )
        if is_multisite(participants)
        else ""
    )
    rows.add(2, ALL, "Randomised", len(participants), note=by_site)
    for sequence in dict.fromkeys(participants["order"]):
        members = participants.loc[participants["order"] == sequence, "participant_id"]
        rows.add(3, sequence, f"Allocated to {sequence_label(sequence)}", len(members))


def _periods(
    rows: _FlowRows, participants: pd.DataFrame, spectra: pd.DataFrame, scores: pd.DataFrame
) -> int:
    """Each period of each sequence: who attended (a spectrum or a rating of that condition) and
    who missed it. Returns the next free tier."""
    sequences = list(dict.fromkeys(participants["order"]))
    attended = pd.concat(
        [
            spectra[["participant_id", "condition"]],
            scores.loc[scores["value"].notna(), ["participant_id", "condition"]],
        ]
    ).drop_duplicates()
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
            rows.add(
                4 + period,
                sequence,
                f"Period {period + 1}: {condition}",
                len(came),
                condition=condition,
                note=f"missed: {', '.join(missed)}" if missed else "none missed",
            )
    return 4 + n_periods


def _rm_anovas(rows, tier, glx_rm_anova, clinical_rm_anova, primary_outcome, ratio_label) -> None:
    """Who each rm-ANOVA used: it needs a value in every cell of a participant."""
    for analysis, label in (
        ("glx_rm_anova_phase", "condition × phase"),
        ("glx_rm_anova_block", "condition × block"),
    ):
        row = _rm_anova_row(glx_rm_anova, ratio_label, analysis)
        rows.add(
            tier,
            ALL,
            f"{ratio_label} rm-ANOVA, {label}",
            row["n_participants"],
            note=_rm_anova_note(row),
        )
    row = _rm_anova_row(clinical_rm_anova, primary_outcome)
    rows.add(
        tier,
        ALL,
        f"{primary_outcome} rm-ANOVA, condition × time",
        row["n_participants"],
        note=_rm_anova_note(row),
    )


def _rm_anova_note(row: pd.Series) -> str:
    """Who the rm-ANOVA left out: it needs a value in every cell of a participant."""
    dropped = [pid for pid in str(row["participants_dropped"]).split(";") if pid and pid != "nan"]
    if not dropped:
        return "every participant has a value in every cell"
    who = ", ".join(dropped) if len(dropped) <= 4 else f"{len(dropped)} participants"
    return f"left out, a cell without a value: {who}"
