import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.qc.clinical import clinical_checks, missing_conditions
from crossover_fmrs.qc.flow import participant_flow

CONDITIONS = ["placebo", "naltrexone"]
SCALES = {"MADRS": {"sheet": "madrs.tsv", "timepoints": ["pre", "day1"]}}
WINDOWS = {"pre": [-6, 0], "day1": [20, 28]}
PARTICIPANTS = pd.DataFrame({"participant_id": ["sub-01", "sub-02"], "sex": ["M", "F"]})


def score(pid, condition, timepoint, hours, value, missing=0):
    return {"participant_id": pid, "condition": condition, "timepoint": timepoint, "hours_from_infusion": hours,
            "scale": "MADRS", "outcome": "MADRS", "value": value, "n_items": 10, "n_items_missing": missing}


@pytest.fixture
def scores():
    return pd.DataFrame([
        score("sub-01", "placebo", "pre", -1.0, 30), score("sub-01", "placebo", "day1", 24.0, 20, missing=1),
        score("sub-01", "naltrexone", "pre", -1.0, 31), score("sub-01", "naltrexone", "day1", 30.5, 25),
        score("sub-02", "placebo", "pre", -1.0, 28), score("sub-02", "placebo", "day1", 24.0, np.nan, missing=10),
        # sub-02 has no naltrexone session at all
    ])


def test_clinical_checks_flag_missing_items_windows_and_absent_assessments(scores):
    checks = clinical_checks(scores, PARTICIPANTS, SCALES, CONDITIONS, WINDOWS)
    fired = checks[checks["flagged"]].set_index(["participant_id", "condition", "timepoint", "check"])
    assert fired.loc[("sub-01", "placebo", "day1", "missing_items"), "value"] == 1
    assert fired.loc[("sub-01", "naltrexone", "day1", "visit_window"), "value"] == 30.5
    assert fired.loc[("sub-01", "naltrexone", "day1", "visit_window"), "expected"] == "20 to 28 h from infusion start"
    assert ("sub-02", "placebo", "day1", "no_score") in fired.index
    absent = fired.xs("assessment_absent", level="check").index.tolist()
    assert sorted(absent) == [("sub-02", "naltrexone", "day1"), ("sub-02", "naltrexone", "pre")]
    assert not checks[(checks["participant_id"] == "sub-01") & (checks["timepoint"] == "pre")]["flagged"].any()


def test_missing_conditions_lists_an_arm_not_completed(scores):
    assert missing_conditions(scores, PARTICIPANTS, CONDITIONS).values.tolist() == [["sub-02", "naltrexone"]]


def spectra_frame():
    rows = []
    for pid in ("sub-01", "sub-02"):
        for condition in CONDITIONS:
            for block in (1, 2):
                excluded = (pid, condition, block) == ("sub-02", "naltrexone", 2)
                rows.append({"participant_id": pid, "condition": condition, "block": block, "ratio": 1.3,
                             "included": not excluded, "excluded_by": "crlb;snr" if excluded else ""})
    return pd.DataFrame(rows)


def rm_anova_table(outcome, n_participants):
    """The rows of an rm-ANOVA results table the flow reads its complete-case count from."""
    return pd.DataFrame({"outcome": [outcome] * 3, "term": ["condition", "block", "condition:block"],
                         "n_participants": [n_participants] * 3})


def test_participant_flow_counts_each_stage(scores):
    flow = participant_flow(PARTICIPANTS, spectra_frame(), scores, rm_anova_table("Glx/tNAA", 1),
                            rm_anova_table("MADRS", 1), CONDITIONS, "MADRS", "Glx/tNAA")
    stage = flow.set_index("stage")
    assert stage.loc["randomised", "n_participants"] == 2
    assert stage.loc["completed naltrexone", "n_participants"] == 2  # sub-02 has fMRS in that condition
    assert stage.loc["usable fMRS, naltrexone", "n_observations"] == 3
    assert stage.loc["usable fMRS, naltrexone", "note"] == "excluded spectra by criterion: %SD (CRLB) + S/N: 1"
    assert stage.loc["in Glx/tNAA mixed model", "n_observations"] == 7
    assert stage.loc["in Glx/tNAA rm-ANOVA (complete cases)", "n_participants"] == 1
    assert stage.loc["in MADRS mixed model", "n_observations"] == 5
    assert stage.loc["in MADRS rm-ANOVA (complete cases)", "n_participants"] == 1
    assert flow["step"].tolist() == list(range(1, len(flow) + 1))


def test_participant_flow_needs_the_rm_anova_of_each_outcome(scores):
    with pytest.raises(ValueError, match="no rm-ANOVA rows for 'MADRS'"):
        participant_flow(PARTICIPANTS, spectra_frame(), scores, rm_anova_table("Glx/tNAA", 1),
                         rm_anova_table("QIDS_SR16", 1), CONDITIONS, "MADRS", "Glx/tNAA")
