import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.qc.clinical import clinical_checks, missing_conditions
from crossover_fmrs.stats.flow import participant_flow

CONDITIONS = ["placebo", "naltrexone"]
SCALES = {"MADRS": {"sheet": "madrs.tsv", "timepoints": ["pre", "day1"]}}
WINDOWS = {"pre": [-6, 0], "day1": [20, 28]}
PARTICIPANTS = pd.DataFrame(
    {
        "participant_id": ["sub-01", "sub-02"],
        "sex": ["M", "F"],
        "order": ["placebo-naltrexone", "naltrexone-placebo"],
    }
)


def score(pid, condition, timepoint, hours, value, missing=0):
    return {
        "participant_id": pid,
        "condition": condition,
        "timepoint": timepoint,
        "hours_from_infusion": hours,
        "scale": "MADRS",
        "outcome": "MADRS",
        "value": value,
        "n_items": 10,
        "n_items_missing": missing,
    }


@pytest.fixture
def scores():
    return pd.DataFrame(
        [
            score("sub-01", "placebo", "pre", -1.0, 30),
            score("sub-01", "placebo", "day1", 24.0, 20, missing=1),
            score("sub-01", "naltrexone", "pre", -1.0, 31),
            score("sub-01", "naltrexone", "day1", 30.5, 25),
            score("sub-02", "placebo", "pre", -1.0, 28),
            score("sub-02", "placebo", "day1", 24.0, np.nan, missing=10),
            # sub-02 has no naltrexone session at all
        ]
    )


def test_clinical_checks_flag_missing_items_windows_and_absent_assessments(scores):
    checks = clinical_checks(scores, PARTICIPANTS, SCALES, CONDITIONS, WINDOWS)
    fired = checks[checks["flagged"]].set_index(
        ["participant_id", "condition", "timepoint", "check"]
    )
    assert fired.loc[("sub-01", "placebo", "day1", "missing_items"), "value"] == 1
    assert fired.loc[("sub-01", "naltrexone", "day1", "visit_window"), "value"] == 30.5
    assert (
        fired.loc[("sub-01", "naltrexone", "day1", "visit_window"), "expected"]
        == "20 to 28 h from infusion start"
    )
    assert ("sub-02", "placebo", "day1", "no_score") in fired.index
    absent = fired.xs("assessment_absent", level="check").index.tolist()
    assert sorted(absent) == [("sub-02", "naltrexone", "day1"), ("sub-02", "naltrexone", "pre")]
    assert not checks[(checks["participant_id"] == "sub-01") & (checks["timepoint"] == "pre")][
        "flagged"
    ].any()


def test_missing_conditions_lists_an_arm_not_completed(scores):
    assert missing_conditions(scores, PARTICIPANTS, CONDITIONS).values.tolist() == [
        ["sub-02", "naltrexone"]
    ]


def spectra_frame():
    rows = []
    for pid in ("sub-01", "sub-02"):
        for condition in CONDITIONS:
            for block in (1, 2):
                excluded = (pid, condition, block) == ("sub-02", "naltrexone", 2)
                rows.append(
                    {
                        "participant_id": pid,
                        "condition": condition,
                        "block": block,
                        "ratio": 1.3,
                        "included": not excluded,
                        "excluded_by": "crlb;snr" if excluded else "",
                    }
                )
    return pd.DataFrame(rows)


def flags_frame(spectra, fired):
    """The flags table of `spectra`: one row per spectrum x criterion, `fired` maps a spectrum
    key to the criteria that fired on it."""
    rows = []
    for key in spectra[["participant_id", "condition", "block"]].itertuples(index=False):
        for criterion in ("crlb", "fwhm", "snr", "fwhm_drift"):
            rows.append(
                {
                    **key._asdict(),
                    "criterion": criterion,
                    "flagged": criterion in fired.get(tuple(key), ()),
                    "available": True,
                }
            )
    return pd.DataFrame(rows)


def rm_anova_table(outcome, n_participants, analyses=("rm",), dropped=""):
    """The rows of an rm-ANOVA results table the flow reads its counts from."""
    return pd.DataFrame(
        [
            {
                "analysis": analysis,
                "outcome": outcome,
                "term": term,
                "n_participants": n_participants,
                "participants_dropped": dropped,
            }
            for analysis in analyses
            for term in ("condition", "time", "condition:time")
        ]
    )


GLX_RM = ("glx_rm_anova_phase", "glx_rm_anova_block")


def test_participant_flow_counts_each_stage(scores):
    spectra = spectra_frame()
    fired = {
        ("sub-02", "naltrexone", 2): ("crlb", "snr"),  # the excluded spectrum
        ("sub-01", "placebo", 2): ("fwhm_drift",),  # flagged, kept: not in exclude_on
    }
    flow = participant_flow(
        PARTICIPANTS,
        spectra,
        flags_frame(spectra, fired),
        scores,
        rm_anova_table("Glx/tNAA", 1, GLX_RM, "sub-02"),
        rm_anova_table("MADRS", 1),
        CONDITIONS,
        "MADRS",
        "Glx/tNAA",
    )
    stage = flow.set_index("stage")
    assert flow["stage"].iloc[0] == "Enrolled" and stage.loc["Enrolled", "note"] == "all randomised"
    assert stage.loc["Randomised", "n_participants"] == 2
    allocated = flow[flow["stage"].str.startswith("Allocated")]
    assert allocated["n_participants"].sum() == 2 and allocated["tier"].nunique() == 1
    periods = flow[flow["stage"].str.startswith("Period")]
    assert len(periods) == 4  # two sequences x two periods
    assert set(periods["note"]) <= {"none missed", "missed: sub-02"}
    glx = stage.loc["Analysed, Glx/tNAA (mixed model)"]
    assert glx["n_observations"] == 7 and glx["unit"] == "spectra"
    assert glx["note"] == (
        "8 spectra acquired; spectra excluded by QC: %SD (CRLB) + S/N: 1; "
        "flagged but not an exclusion criterion: linewidth drift: 1"
    )
    assert stage.loc["Analysed, MADRS (mixed model)", "n_observations"] == 5
    assert stage.loc["Glx/tNAA rm-ANOVA, condition × phase", "n_participants"] == 1
    assert (
        stage.loc["Glx/tNAA rm-ANOVA, condition × block", "note"]
        == "left out, a cell without a value: sub-02"
    )
    assert stage.loc["MADRS rm-ANOVA, condition × time", "n_participants"] == 1
    assert flow["step"].tolist() == list(range(1, len(flow) + 1))
    assert "participants.tsv" not in " ".join(flow["note"])


def test_participant_flow_counts_who_was_analysed_on_each_condition(scores):
    spectra = spectra_frame()
    flow = participant_flow(
        PARTICIPANTS,
        spectra,
        flags_frame(spectra, {}),
        scores,
        rm_anova_table("Glx/tNAA", 1, GLX_RM),
        rm_anova_table("MADRS", 1),
        CONDITIONS,
        "MADRS",
        "Glx/tNAA",
    )
    per_condition = flow[flow["stage"].str.startswith("Analysed on")].set_index("condition")
    assert per_condition.index.tolist() == CONDITIONS
    periods = flow.loc[flow["stage"].str.startswith("Period"), "tier"]
    assert set(per_condition["tier"]) == {periods.max() + 1}  # right after the periods
    assert (per_condition["arm"] == per_condition.index).all()
    # naltrexone: sub-01 (2 spectra, 2 ratings), sub-02 one included spectrum and no rating
    assert per_condition.loc["naltrexone", "n_participants"] == 2
    assert per_condition.loc["naltrexone", "note"] == (
        "Glx/tNAA: 2 participants, 3 spectra; MADRS: 1 participants, 2 ratings"
    )
    assert per_condition.loc["placebo", "note"] == (
        "Glx/tNAA: 2 participants, 4 spectra; MADRS: 2 participants, 3 ratings"
    )
    analyses = flow[flow["stage"].str.startswith("Analysed,")]
    assert set(analyses["tier"]) == {periods.max() + 2}
    assert "flagged but not" not in " ".join(flow["note"])  # nothing fired on a kept spectrum


def test_participant_flow_needs_the_rm_anova_of_each_outcome(scores):
    spectra = spectra_frame()
    with pytest.raises(ValueError, match="no rm-ANOVA rows for 'MADRS'"):
        participant_flow(
            PARTICIPANTS,
            spectra,
            flags_frame(spectra, {}),
            scores,
            rm_anova_table("Glx/tNAA", 1, GLX_RM),
            rm_anova_table("QIDS_SR16", 1),
            CONDITIONS,
            "MADRS",
            "Glx/tNAA",
        )
