"""Clinical simulator: raw format, determinism, missing data, scores recovered from items, and
the MADRS difference and within-participant SD in points (derived from the published F(1,74))."""

import copy
import math

import numpy as np
import pandas as pd
import pytest

import crossover_fmrs.simulate.clinical as simulate
from crossover_fmrs.common.config import section_with_defaults
from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.clinical import read_clinical_sheet, tidy_clinical
from crossover_fmrs.ingest.scales import SCALES, score_items
from crossover_fmrs.simulate.clinical import (
    distribute_total,
    distribute_totals,
    simulate_clinical,
    write_sheet,
)
from crossover_fmrs.simulate.effects import split_by_sex

# config.yaml `simulation` values (copied so that a config edit does not change the test), the
# schema's defaults for the rest.
SETTINGS = section_with_defaults(
    "simulation",
    {
        "reference_condition": "placebo",
        "seed": 20250601,
        "n_participants": 26,
        "n_male": 13,
        "pretreatment_min": 45,
        "male_to_female_effect_ratio": 3.0,
        "clinical": {
            "madrs_baseline_mean": 30.0,
            "madrs_between_sd": 5.0,
            "madrs_placebo_reduction": 11.0,
            "madrs_naltrexone_difference": 3.08,
            "madrs_within_sd": 3.382,
            "published_attenuation": 0.28,
            "published_interaction_F": 5.39,
            "madrs_missing_assessments": 1,
            "madrs_missing_items": 2,
            "teps_anticipatory_missing_pre": 3,
        },
    },
)
CLINICAL_CONFIG = {
    "scales": {
        "MADRS": {"sheet": "madrs.tsv", "timepoints": ["pre", "day1"]},
        "QIDS_SR16": {"sheet": "qids_sr16.tsv", "timepoints": ["pre", "day1"]},
        "M3VAS": {"sheet": "m3vas.tsv", "timepoints": ["pre", "day1"]},
        "SHAPS": {"sheet": "shaps.tsv", "timepoints": ["pre", "day1"]},
        "TEPS": {"sheet": "teps.tsv", "timepoints": ["pre", "day1"]},
        "CADSS": {"sheet": "cadss.tsv", "timepoints": ["pre", "post"]},
        "PSI": {"sheet": "psi.tsv", "timepoints": ["pre", "post"]},
    },
    "madrs_max_missing_items": 2,
}
CONDITIONS = ["placebo", "naltrexone"]
RANGES = {
    "MADRS": (0, 60),
    "QIDS_SR16": (0, 27),
    "M3VAS_mood": (0, 100),
    "M3VAS_pleasure": (0, 100),
    "M3VAS_suicidality": (0, 100),
    "SHAPS": (0, 14),
    "TEPS_A": (10, 60),
    "TEPS_C": (8, 48),
    "CADSS": (0, 92),
    "PSI": (0, 144),
}


def make_participants(n=26, n_male=13):
    sex = (
        ["M" if i % 2 else "F" for i in range(n)]
        if n_male * 2 == n
        else ["M"] * n_male + ["F"] * (n - n_male)
    )
    order = ["placebo-naltrexone" if (i // 2) % 2 else "naltrexone-placebo" for i in range(n)]
    return pd.DataFrame(
        {
            "participant_id": [f"sub-{i:02d}" for i in range(1, n + 1)],
            "sex": sex,
            "age": 30,
            "order": order,
        }
    )


def no_missing(settings=SETTINGS):
    settings = copy.deepcopy(settings)
    settings["clinical"].update(
        madrs_missing_assessments=0, madrs_missing_items=0, teps_anticipatory_missing_pre=0
    )
    return settings


def tidy(sheets, participants, tmp_path):
    read = {}
    for name, spec in CLINICAL_CONFIG["scales"].items():
        write_sheet(sheets[spec["sheet"]], tmp_path / spec["sheet"])
        read[name] = read_clinical_sheet(
            tmp_path / spec["sheet"], name, participants, spec["timepoints"], CONDITIONS
        )
    return tidy_clinical(read, CLINICAL_CONFIG, CONDITIONS)


def test_same_seed_same_frames_and_bytes(tmp_path):
    participants = make_participants()
    first = simulate_clinical(participants, SETTINGS, np.random.default_rng(7))
    second = simulate_clinical(participants, SETTINGS, np.random.default_rng(7))
    assert list(first) == sorted(spec["sheet"] for spec in CLINICAL_CONFIG["scales"].values())
    for sheet in first:
        pd.testing.assert_frame_equal(first[sheet], second[sheet])
        write_sheet(first[sheet], tmp_path / f"a_{sheet}")
        write_sheet(second[sheet], tmp_path / f"b_{sheet}")
        assert (tmp_path / f"a_{sheet}").read_bytes() == (tmp_path / f"b_{sheet}").read_bytes()
    other = simulate_clinical(participants, SETTINGS, np.random.default_rng(8))
    assert not first["madrs.tsv"].equals(other["madrs.tsv"])


@pytest.mark.parametrize("only", [("MADRS",), ("QIDS_SR16",), ("MADRS", "TEPS"), ("TEPS",)])
def test_a_subset_of_scales_draws_the_same_sheets_as_the_whole_study(only):
    """What the calibration's searches rely on (they draw only the scale they read)."""
    participants = make_participants()
    settings = {
        **SETTINGS,
        "calibrated": {"item_changes": [["MADRS", "sub-03", "placebo", "day1", "madrs_04", 1]]},
    }
    whole = simulate_clinical(participants, settings, np.random.default_rng(7))
    part = simulate_clinical(participants, settings, np.random.default_rng(7), only=only)
    sheets = {CLINICAL_CONFIG["scales"][scale]["sheet"] for scale in only}
    assert set(part) == sheets
    for sheet in sheets:
        pd.testing.assert_frame_equal(part[sheet], whole[sheet])


def test_raw_format_round_trips_through_the_parser(tmp_path):
    participants = make_participants()
    sheets = simulate_clinical(participants, SETTINGS, np.random.default_rng(1))
    for name, spec in CLINICAL_CONFIG["scales"].items():
        frame = sheets[spec["sheet"]]
        assert (
            list(frame.columns)
            == ["participant_id", "condition", "timepoint", "hours_from_infusion"]
            + SCALES[name].item_columns
        )
        assert len(frame) == 26 * 2 * 2
    madrs_text = (lambda p: (write_sheet(sheets["madrs.tsv"], p), p.read_text())[1])(
        tmp_path / "m.tsv"
    )
    assert madrs_text.startswith(
        "participant_id\tcondition\ttimepoint\thours_from_infusion\tmadrs_01\t"
    )
    assert (
        ".0\t" not in madrs_text and "nan" not in madrs_text.lower()
    )  # integers as integers, empty if missing
    _, scores = tidy(sheets, participants, tmp_path)  # the parser checks ranges and whole numbers
    for outcome, (low, high) in RANGES.items():
        values = scores.loc[scores["outcome"] == outcome, "value"].dropna()
        assert len(values) > 90 and values.between(low, high).all(), outcome


def test_missing_data_exactly_as_configured(tmp_path):
    participants = make_participants()
    sheets = simulate_clinical(participants, SETTINGS, np.random.default_rng(3))
    madrs = sheets["madrs.tsv"]
    items = madrs[SCALES["MADRS"].item_columns]
    n_missing = items.isna().sum(axis=1)
    assert (
        (n_missing == 10).sum() == 1 and (n_missing == 1).sum() == 2 and (n_missing > 0).sum() == 3
    )
    whole = madrs[n_missing == 10].iloc[0]
    assert whole["timepoint"] == "day1" and math.isnan(whole["hours_from_infusion"])
    teps = sheets["teps.tsv"]
    anticipatory = [f"teps_{i:02d}" for i in (1, 3, 7, 11, 12, 14, 15, 16, 17, 18)]
    gaps = teps[teps[anticipatory].isna().any(axis=1)]
    assert (
        len(gaps) == 3
        and gaps["participant_id"].nunique() == 3
        and set(gaps["timepoint"]) == {"pre"}
    )
    assert gaps[anticipatory].isna().all().all()
    assert teps.drop(columns=anticipatory).notna().all().all()
    for sheet in ("qids_sr16.tsv", "m3vas.tsv", "shaps.tsv", "cadss.tsv", "psi.tsv"):
        assert sheets[sheet].notna().all().all(), sheet
    _, scores = tidy(sheets, participants, tmp_path)
    notes = scores.groupby("outcome")["scoring_note"].value_counts()
    assert notes[("MADRS", "not rated")] == 1 and notes[("MADRS", "prorated 1 missing item")] == 2
    assert notes[("TEPS_A", "not rated")] == 3 and notes[("TEPS_C", "complete")] == 104


def test_items_give_back_the_latent_totals(monkeypatch, tmp_path):
    # Replace the latent draw by known values (some outside every range): the items must score
    # exactly to the rounded, clipped value under each scale's own rule.
    latent = np.linspace(-20.3, 170.6, 104)
    monkeypatch.setattr(simulate, "_latent", lambda design, *args: latent[: len(design)].copy())
    sheets = simulate_clinical(make_participants(), no_missing(), np.random.default_rng(11))
    for name, spec in CLINICAL_CONFIG["scales"].items():
        scored = score_items(name, sheets[spec["sheet"]][SCALES[name].item_columns].astype(float))
        for outcome in SCALES[name].scores:
            low, high = RANGES[outcome]
            np.testing.assert_array_equal(
                scored[outcome].to_numpy(), np.clip(np.rint(latent), low, high), outcome
            )


def test_distribute_total_sums_exactly_within_caps():
    rng = np.random.default_rng(0)
    for total in (0, 1, 17, 30, 59, 60):
        counts = distribute_total(total, simulate.MADRS_ITEM_WEIGHTS, 6, rng)
        assert counts.sum() == total and counts.min() >= 0 and counts.max() <= 6
    assert distribute_total(60, np.ones(10), 6, rng).tolist() == [6] * 10
    with pytest.raises(ValueError):
        distribute_total(61, np.ones(10), 6, rng)


def test_distribute_totals_sums_each_row_exactly_within_caps():
    rng = np.random.default_rng(0)
    totals = np.array([0, 1, 17, 30, 59, 60] * 50)
    counts = distribute_totals(totals, simulate.MADRS_ITEM_WEIGHTS, 6, rng)
    assert (counts.sum(axis=1) == totals).all() and counts.min() >= 0 and counts.max() <= 6
    assert (counts[totals == 60] == 6).all()
    with pytest.raises(ValueError):
        distribute_totals(np.array([61]), np.ones(10), 6, rng)


def test_simulated_interaction_matches_the_derivation():
    # Pool the per-participant condition x time contrasts over replicate studies: their mean is
    # the configured 3.08 points and their SD 2 sigma = 6.76 (rounding adds under 1%).
    participants = make_participants()
    settings = no_missing()
    settings["clinical"]["scales"] = {
        "MADRS": CLINICAL_CONFIG["scales"]["MADRS"]
    }  # MADRS only, for speed
    contrasts = []
    for seed in range(80):
        madrs = simulate_clinical(participants, settings, np.random.default_rng(seed))["madrs.tsv"]
        total = madrs[SCALES["MADRS"].item_columns].sum(axis=1).astype(float)
        cells = total.set_axis(
            pd.MultiIndex.from_frame(madrs[["participant_id", "condition", "timepoint"]])
        )
        cells = cells.unstack(["condition", "timepoint"])
        contrasts.append(
            (cells[("placebo", "pre")] - cells[("placebo", "day1")])
            - (cells[("naltrexone", "pre")] - cells[("naltrexone", "day1")])
        )
    contrasts = pd.concat(contrasts)
    assert contrasts.mean() == pytest.approx(3.08, abs=0.5)  # SE about 0.15
    assert contrasts.std() == pytest.approx(2 * 3.382, rel=0.05)  # SE about 1.6%


def test_difference_split_by_sex():
    split = split_by_sex(0.28, 3.0, 13, 13)
    assert split == {"M": pytest.approx(0.42), "F": pytest.approx(0.14)}
    uneven = split_by_sex(0.28, 2.0, 10, 16)
    assert uneven["M"] / uneven["F"] == pytest.approx(2.0)
    assert (10 * uneven["M"] + 16 * uneven["F"]) / 26 == pytest.approx(0.28)


def test_visit_times_and_acute_scales():
    sheets = simulate_clinical(make_participants(), SETTINGS, np.random.default_rng(5))
    times = pd.concat(
        frame[["participant_id", "condition", "timepoint", "hours_from_infusion"]]
        for frame in sheets.values()
    ).dropna()
    assert (
        times.groupby(["participant_id", "condition", "timepoint"])["hours_from_infusion"]
        .nunique()
        .max()
        == 1
    )
    by = times.groupby("timepoint")["hours_from_infusion"]
    assert by.min()["pre"] >= -1.15 and by.max()["pre"] <= -0.85
    assert by.min()["post"] >= 0.66 and by.max()["post"] <= 0.87
    assert by.min()["day1"] >= 20.5 and by.max()["day1"] <= 27.5
    for sheet, prefix in (("cadss.tsv", "cadss_"), ("psi.tsv", "psi_")):
        frame = sheets[sheet].assign(
            total=sheets[sheet].filter(like=prefix).sum(axis=1).astype(float)
        )
        means = frame.groupby(["condition", "timepoint"])["total"].mean()
        for condition in CONDITIONS:  # dissociation rises after ketamine under both conditions
            assert means[(condition, "post")] - means[(condition, "pre")] > 8


def test_bad_settings_are_input_errors():
    participants = make_participants()
    too_many = copy.deepcopy(SETTINGS)
    too_many["clinical"]["madrs_missing_assessments"] = 53
    with pytest.raises(InputError, match=r"madrs_missing_assessments.*at most 52"):
        simulate_clinical(participants, too_many, np.random.default_rng(0))
    typo = copy.deepcopy(SETTINGS)
    typo["clinical"]["secondary"] = {"CADSS": {"baseline": 3.0}}
    with pytest.raises(InputError, match=r"secondary\.CADSS.*column 'baseline'"):
        simulate_clinical(participants, typo, np.random.default_rng(0))


def test_secondary_parameters_can_be_overridden():
    settings = copy.deepcopy(SETTINGS)
    settings["clinical"]["secondary"] = {
        "CADSS": {
            "baseline_mean": 40.0,
            "change": 0.0,
            "between_sd": 0.0,
            "within_sd": 0.0,
            "response_sd": 0.0,
        }
    }
    cadss = simulate_clinical(make_participants(), settings, np.random.default_rng(0))["cadss.tsv"]
    assert (cadss.filter(like="cadss_").sum(axis=1) == 40).all()
