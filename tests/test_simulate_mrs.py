import copy

import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.config import section_with_defaults
from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.mrs import read_study_mrs
from crossover_fmrs.qc.mrs import beyond_thresholds, ratio_table
from crossover_fmrs.simulate.mrs import (
    block_timing,
    glx_effect_by_sex,
    rise_profile,
    simulate_mrs,
    simulate_mrs_study,
    thresholds_of,
)

# config.yaml `simulation:` values (copied, so that a config change does not move these tests),
# the schema's defaults for the rest.
SETTINGS = section_with_defaults(
    "simulation",
    {
        "reference_condition": "placebo",
        "n_participants": 26,
        "published_n_participants": 26,
        "n_male": 13,
        "male_to_female_effect_ratio": 3.0,
        "mrs": {
            "baseline_block_minutes": [-8, 0],
            "n_infusion_blocks": 5,
            "infusion_block_minutes": 6,
            "glx_tnaa_mean": 1.30,
            "glx_tnaa_between_sd": 0.10,
            "glx_tnaa_within_sd": 0.06,
            "ketamine_rise": 0.06,
            "naltrexone_minus_placebo": -0.01549,
            "published_condition_F": 4.83,
            "n_failing_spectra": 22,
            "n_undetermined_crlb": 3,
        },
        "qc_thresholds": {"max_crlb_percent": 20, "max_fwhm_ppm": 0.10, "min_snr": 8},
    },
)
CONDITIONS = ["placebo", "naltrexone"]
KEYS = ["participant_id", "condition", "block"]


def make_participants(n=26, n_male=13):
    return pd.DataFrame(
        {
            "participant_id": [f"sub-{i:02d}" for i in range(1, n + 1)],
            "sex": ["M"] * n_male + ["F"] * (n - n_male),
            "age": 30,
            "order": ["placebo-naltrexone", "naltrexone-placebo"] * (n // 2)
            + ["placebo-naltrexone"] * (n % 2),
        }
    )


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    participants = make_participants()
    spectra, files = simulate_mrs_study(participants, SETTINGS, np.random.default_rng(20250601))
    root = tmp_path_factory.mktemp("synthetic")
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    tidy = read_study_mrs(root, participants, CONDITIONS)
    return participants, spectra, files, tidy


def test_the_difference_is_split_by_sex_around_the_configured_one():
    effect = glx_effect_by_sex(SETTINGS, 13, 13)
    assert effect["M"] / effect["F"] == pytest.approx(3.0)
    assert (13 * effect["M"] + 13 * effect["F"]) / 26 == pytest.approx(-0.01549)
    uneven = glx_effect_by_sex(SETTINGS, 6, 20)
    assert (6 * uneven["M"] + 20 * uneven["F"]) / 26 == pytest.approx(-0.01549)


def test_blocks_and_ramp():
    timing = block_timing(SETTINGS)
    assert timing[["onset_min", "offset_min"]].values.tolist() == [
        [-8, 0],
        [0, 6],
        [6, 12],
        [12, 18],
        [18, 24],
        [24, 30],
    ]
    assert timing["phase"].tolist() == ["baseline"] + ["infusion"] * 5
    assert rise_profile(SETTINGS).tolist() == [0.0, 0.5, 1.0, 1.0, 1.0, 1.0]


def test_file_counts_and_names(simulated):
    _, _, files, tidy = simulated
    tables = [path for path in files if path.endswith(".table")]
    sidecars = [path for path in files if path.endswith("_blocks.tsv")]
    assert (len(tables), len(sidecars), len(files)) == (26 * 2 * 6, 26 * 2, 26 * 2 * 7)
    assert "sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-06.table" in files
    assert files["sub-01/ses-naltrexone/mrs/sub-01_ses-naltrexone_blocks.tsv"].startswith(
        "block\tonset_min\toffset_min\tphase\n1\t-8.0\t0.0\tbaseline\n2\t0.0\t6.0\tinfusion\n"
    )
    assert tidy[KEYS].drop_duplicates().shape[0] == 312
    assert "SYNTHETIC" in files[tables[0]].split("\n")[1]


def test_deterministic_for_a_seed():
    participants = make_participants(6, 3)
    settings = copy.deepcopy(SETTINGS)
    settings["mrs"].update(n_failing_spectra=3, n_undetermined_crlb=1)
    first = simulate_mrs(participants, settings, np.random.default_rng(7))
    assert first == simulate_mrs(participants, settings, np.random.default_rng(7))
    assert first != simulate_mrs(participants, settings, np.random.default_rng(8))


def spectrum_quality(tidy):
    """Printed Glx and tNAA %SD, FWHM and S/N per spectrum, from the parsed files."""
    wide = tidy[tidy["metabolite"].isin(["Glx", "tNAA"])].pivot_table(
        index=KEYS, columns="metabolite", values="crlb_percent", sort=True
    )
    quality = tidy.groupby(KEYS, sort=True)[["fwhm_ppm", "snr"]].first()
    return wide.join(quality)


def test_exactly_the_configured_spectra_fail_qc(simulated):
    _, spectra, _, tidy = simulated
    thresholds = thresholds_of(SETTINGS)
    quality = spectrum_quality(tidy)
    beyond = beyond_thresholds(
        quality[["Glx", "tNAA"]].max(axis=1), quality["fwhm_ppm"], quality["snr"], thresholds
    )
    failing = quality.index[beyond["crlb"] | beyond["fwhm"] | beyond["snr"]].tolist()
    assert len(failing) == 22
    truth = spectra.loc[spectra["fails_qc"], KEYS].apply(tuple, axis=1).tolist()
    assert sorted(failing) == sorted(truth)
    assert (
        len({key[0] for key in failing}) == 22
    )  # spread: one per participant while participants last
    assert set(spectra.loc[spectra["fails_qc"], "failure"]) == {"snr", "fwhm"}


def test_threshold_aware(tmp_path):
    participants = make_participants(8, 4)
    settings = copy.deepcopy(SETTINGS)
    settings["mrs"].update(n_failing_spectra=5, n_undetermined_crlb=1)
    settings["qc_thresholds"] = {"max_crlb_percent": 15, "max_fwhm_ppm": 0.08, "min_snr": 12}
    spectra, _ = simulate_mrs_study(participants, settings, np.random.default_rng(3))
    thresholds = thresholds_of(settings)
    beyond = beyond_thresholds(
        spectra[["glx_crlb", "tnaa_crlb"]].max(axis=1),
        spectra["fwhm_ppm"],
        spectra["snr"],
        thresholds,
    )
    fails = (beyond["crlb"] | beyond["fwhm"] | beyond["snr"]).tolist()
    assert sum(fails) == 5
    assert fails == spectra["fails_qc"].tolist()


def test_the_simulator_needs_the_studys_qc_thresholds():
    settings = {key: value for key, value in SETTINGS.items() if key != "qc_thresholds"}
    with pytest.raises(InputError, match="qc.mrs"):
        thresholds_of(settings)


def test_undetermined_minor_metabolites(simulated):
    _, spectra, _, tidy = simulated
    undetermined = tidy[tidy["crlb_undetermined"]]
    assert len(undetermined) == 3
    assert set(undetermined["metabolite"]) <= {"GABA", "Asp"}
    assert (undetermined["concentration"] == 0.0).all()
    keys = sorted(undetermined[KEYS].apply(tuple, axis=1))
    assert keys == sorted(
        spectra.loc[spectra["undetermined_metabolite"] != "", KEYS].apply(tuple, axis=1)
    )


def test_parsed_ratio_matches_generative_truth(simulated):
    _, spectra, _, tidy = simulated
    ratios = ratio_table(tidy).merge(spectra, on=KEYS, validate="one_to_one")
    assert len(ratios) == 312 and ratios["reason"].eq("").all()
    # only the 3-decimal rounding of printed concentrations separates them
    assert (ratios["ratio"] - ratios["true_ratio"]).abs().max() < 2e-4
    ratio_to_tcr = tidy.loc[tidy["metabolite"] == "Glx", "ratio_to_tcr"].to_numpy()
    glx = tidy.loc[tidy["metabolite"] == "Glx", "concentration"].to_numpy()
    tcr = tidy.loc[tidy["metabolite"] == "tCr", "concentration"].to_numpy()
    assert (
        np.abs(ratio_to_tcr - glx / tcr).max() <= 5e-4
    )  # printed /Cr+PCr agrees with the concentrations


def test_expected_ratio_has_the_designed_effects(simulated):
    _, spectra, _, _ = simulated
    effect = glx_effect_by_sex(SETTINGS, 13, 13)
    mean = spectra.pivot_table(
        index=["participant_id", "sex"], columns=["condition", "block"], values="expected_ratio"
    )
    placebo_rise = mean[("placebo", 4)] - mean[("placebo", 1)]
    assert np.allclose(placebo_rise, 0.06)
    assert np.allclose((mean[("placebo", 2)] - mean[("placebo", 1)]), 0.03)
    # naltrexone - placebo, averaged over the blocks, is each sex's configured difference
    difference = (mean["naltrexone"] - mean["placebo"]).mean(axis=1).groupby(level="sex").first()
    assert difference["M"] == pytest.approx(effect["M"])
    assert difference["F"] == pytest.approx(effect["F"])
    assert np.allclose(
        mean[("naltrexone", 1)], mean[("placebo", 1)]
    )  # one intercept for both conditions
