"""Participant flow (CONSORT-style): who was randomised, completed each condition, and entered
each analysis, with the number of observations at each stage.

The complete-case counts of the rm-ANOVAs are read from the rm-ANOVA tables themselves, so the
flow states what the analysis used rather than recomputing it."""

from __future__ import annotations

import pandas as pd

# Plain words for the QC criteria in the flow notes.
CRITERION_WORDS = {"crlb": "%SD (CRLB)", "fwhm": "linewidth (FWHM)", "snr": "S/N", "undetermined": "undetermined fit",
                   "fwhm_drift": "linewidth drift", "snr_drift": "S/N drift"}

FLOW_COLUMNS = ["step", "stage", "condition", "n_participants", "n_observations", "note"]


def _rm_anova_participants(table: pd.DataFrame, outcome: str) -> int:
    """Participants the rm-ANOVA of `outcome` kept (complete cases), from its results table."""
    rows = table.loc[table["outcome"] == outcome, "n_participants"]
    if rows.empty:
        raise ValueError(f"participant flow: no rm-ANOVA rows for {outcome!r}")
    return int(rows.iloc[0])


def participant_flow(participants: pd.DataFrame, spectra: pd.DataFrame, scores: pd.DataFrame,
                     glx_rm_anova: pd.DataFrame, clinical_rm_anova: pd.DataFrame, conditions: list[str],
                     primary_outcome: str = "MADRS", ratio_label: str = "Glx/tNAA") -> pd.DataFrame:
    rows = []

    def add(stage, condition, n_participants, n_observations=None, note=""):
        rows.append({"step": len(rows) + 1, "stage": stage, "condition": condition,
                     "n_participants": int(n_participants), "n_observations": n_observations, "note": note})

    add("randomised", "all", len(participants), note="rows of participants.tsv")
    scored = scores[scores["value"].notna()]
    for condition in conditions:
        done = set(spectra.loc[spectra["condition"] == condition, "participant_id"]) | set(
            scored.loc[scored["condition"] == condition, "participant_id"])
        add(f"completed {condition}", condition, len(done), note="any spectrum or rating in this condition")
    for condition in conditions:
        session = spectra[spectra["condition"] == condition]
        add(f"fMRS acquired, {condition}", condition, session["participant_id"].nunique(), len(session),
            note="spectra with a fit table")
        kept = session[session["included"]]
        excluded = session[~session["included"]]
        reasons = excluded["excluded_by"].where(excluded["excluded_by"] != "", "no ratio").value_counts().sort_index()
        note = "; ".join(f"{' + '.join(CRITERION_WORDS.get(c, c) for c in reason.split(';'))}: {count}"
                         for reason, count in reasons.items()) or "none excluded"
        unchecked = int(kept["quality_not_evaluated"].sum()) if "quality_not_evaluated" in kept else 0
        if unchecked:  # included on the ratio alone: the tool provides no quality measure
            note += f"; {unchecked} included with no quality criterion evaluated"
        add(f"usable fMRS, {condition}", condition, kept["participant_id"].nunique(), len(kept),
            note=f"excluded spectra by criterion: {note}")
    kept = spectra[spectra["included"]]
    add(f"in {ratio_label} mixed model", "all", kept["participant_id"].nunique(), len(kept),
        note="all included spectra")
    add(f"in {ratio_label} rm-ANOVA (complete cases)", "all",
        _rm_anova_participants(glx_rm_anova, ratio_label),
        note="every condition x block included")
    primary = scores[scores["outcome"] == primary_outcome]
    usable = primary[primary["value"].notna()]
    add(f"in {primary_outcome} mixed model", "all", usable["participant_id"].nunique(), len(usable),
        note="all non-missing assessments")
    add(f"in {primary_outcome} rm-ANOVA (complete cases)", "all",
        _rm_anova_participants(clinical_rm_anova, primary_outcome), note="every condition x time point rated")
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)
