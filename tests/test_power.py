"""Simulation-based power: replicates drawn by the simulator and tested by the main analysis's
models; no effect gives the tests' size; chunking changes nothing; the summary's arithmetic."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.power.grid import EFFECT_NAME_PATTERN, effect_name, grid_error
from crossover_fmrs.power.replicates import (
    TEST_TERMS,
    Formulas,
    check_chunk,
    replicate_seed,
    run_chunk,
)
from crossover_fmrs.power.summary import clopper_pearson, effect_range, power_table, smallest_n
from crossover_fmrs.simulate.replicate import Design, published_effects, replicate_tables

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
CONDITIONS = CONFIG["study"]["conditions"]
SETTINGS = {**CONFIG["simulation"], "reference_condition": "placebo"}
FORMULAS = Formulas(
    CONFIG["stats"]["glx_formula"],
    CONFIG["stats"]["clinical_formula"],
    CONFIG["stats"]["glx_sex_formula"],
    CONFIG["stats"]["glx_session_formula"],
)


def test_a_replicate_has_the_designs_features():
    design = Design(
        n_participants=30, male_fraction=0.4, qc_failure_rate=0.1, missing_visit_rate=0.1
    )
    participants, spectra, scores = replicate_tables(
        SETTINGS, CONDITIONS, design, 1.0, np.random.default_rng(3)
    )
    assert len(participants) == 30 and (participants["sex"] == "M").sum() == 12
    assert len(spectra) == 30 * 2 * 6 and (~spectra["included"]).sum() == round(0.1 * 360)
    day1 = scores[scores["timepoint"] == "day1"]
    assert (
        day1["value"].isna().sum() == round(0.1 * 60)
        and scores[scores["timepoint"] == "pre"]["value"].notna().all()
    )
    assert set(participants["order"]) == {"placebo-naltrexone", "naltrexone-placebo"}


def test_the_published_effects_are_the_simulators_natural_units():
    effects = published_effects(SETTINGS)
    # docs/simulator.md: -sqrt(4.83) x 2 x 0.06 / sqrt(290) and sigma = 3.08 sqrt(26) / (2 sqrt(F))
    assert effects["glx_naltrexone_minus_placebo"] == pytest.approx(-0.01549, abs=1e-5)
    assert effects["madrs_naltrexone_difference"] == pytest.approx(3.08)
    assert effects["madrs_within_sd"] == pytest.approx(3.38, abs=1e-2)


def test_a_replicates_stream_does_not_depend_on_where_it_runs():
    assert (
        replicate_seed(1, 26, 1.0, 5).generate_state(4).tolist()
        == replicate_seed(1, 26, 1.0, 5).generate_state(4).tolist()
    )
    assert replicate_seed(1, 26, 1.0, 5).generate_state(1) != replicate_seed(
        1, 26, 1.0, 6
    ).generate_state(1)
    whole = run_chunk(SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(16), 1.0, 7, range(0, 5))
    parts = pd.concat(
        [
            run_chunk(SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(16), 1.0, 7, range(0, 2)),
            run_chunk(SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(16), 1.0, 7, range(2, 5)),
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(whole, parts)
    assert set(whole["test"]) == set(TEST_TERMS)


def test_with_no_effect_the_power_of_each_test_is_its_size():
    """300 replicates of a study with no naltrexone effect: each test rejects at its nominal 5%,
    within Monte Carlo error (exact binomial test at 0.001, so a real 10% size would fail)."""
    replicates = run_chunk(
        SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(20), 0.0, 11, range(300)
    )
    power = power_table(replicates, alpha=0.05).set_index("test")
    for test, row in power.iterrows():
        assert row["replicates"] == 300
        assert stats.binomtest(int(row["rejections"]), 300, 0.05).pvalue > 0.001, (
            test,
            row["power"],
        )
        assert row["ci_low"] <= 0.05 + 0.03 and row["ci_high"] >= 0.05 - 0.03


def test_clopper_pearson_matches_the_textbook():
    low, high = clopper_pearson(5, 20)  # Clopper & Pearson 1934; e.g. R binom.test(5, 20)$conf.int
    assert (round(low, 4), round(high, 4)) == (0.0866, 0.4910)
    assert clopper_pearson(0, 10)[0] == 0 and clopper_pearson(10, 10)[1] == 1


def test_smallest_n_reports_where_the_target_is_reached_and_says_when_not():
    replicates = pd.DataFrame(
        [
            {
                "test": "t",
                "effect": 1.0,
                "session_sd": 0.0,
                "n_participants": n,
                "replicate": r,
                "p": 0.01 if r < k else 0.5,
            }
            for n, k in ((10, 50), (20, 85), (30, 95))
            for r in range(100)
        ]
    )
    power = power_table(replicates, alpha=0.05)
    assert power["power"].tolist() == [0.5, 0.85, 0.95]
    sizes = smallest_n(power, [0.8, 0.9, 0.99]).set_index("target_power")
    assert sizes.loc[0.8, "smallest_n"] == 20 and sizes.loc[0.9, "smallest_n"] == 30
    assert (
        math.isnan(sizes.loc[0.99, "smallest_n"])
        and "not reached by n = 30" in sizes.loc[0.99, "note"]
    )


def test_grid_cells_are_named_and_seeded_by_their_exact_effect():
    assert effect_name(0.5) != effect_name(0.5000001)
    assert [effect_name(e) for e in (0, 1, 0.5, 1e-7)] == ["0.0", "1.0", "0.5", "1e-07"]
    for effect in (0, 0.5000001, 1e-7, 2.5e12, 1e300):
        assert re.fullmatch(EFFECT_NAME_PATTERN, effect_name(effect)), effect
        assert float(effect_name(effect)) == effect
    seeds = {
        tuple(replicate_seed(1, 26, effect, 0).generate_state(2).tolist())
        for effect in (0.5, 0.5000001, 0.0, 1e-7)
    }
    assert len(seeds) == 4
    assert replicate_seed(1, 26, 0.0, 0, 0.01).generate_state(1) != replicate_seed(
        1, 26, 0.0, 0, 0.02
    ).generate_state(1)
    rows = run_chunk(SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(12), 1e-7, 3, range(2))
    assert set(rows["effect"]) == {1e-7} and rows["p"].notna().all()


def test_a_grid_axis_refuses_duplicates_and_text():
    assert grid_error([0, 0.5, 0.5000001, 1e-7]) is None
    assert grid_error([0.5, 1, 1.0]) == ("each value once", [1, 1.0])
    assert grid_error([0.5, "1"]) == ("numbers", "1")
    assert grid_error([float("nan")])[0] == "finite numbers"


def test_a_chunk_of_another_cell_or_run_never_enters_the_table():
    rows = run_chunk(SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(12), 1.0, 3, range(2))
    cell = {"n_participants": 12, "effect": 1.0, "session_sd": 0.0}
    check_chunk(rows, "chunk.tsv", cell, range(2))
    with pytest.raises(InputError, match="chunk.tsv.*effect.*0.5000001"):
        check_chunk(rows, "chunk.tsv", {**cell, "effect": 0.5000001}, range(2))
    with pytest.raises(InputError, match="replicates 0 to 2 once each"):
        check_chunk(rows, "chunk.tsv", cell, range(3))


def test_the_published_tests_range_of_effects_is_the_normal_theory_one_for_large_df():
    """F(1, df) = t^2; with df -> infinity the noncentral t is a shifted normal, so the 95% range
    of the noncentrality is t +- 1.96 (the textbook Wald interval), of the effect (t +- 1.96)/t."""
    low, high = effect_range(4.0, 1e7)
    assert (low, high) == pytest.approx(((2 - 1.959964) / 2, (2 + 1.959964) / 2), abs=1e-4)
    low, high = effect_range(4.83, 253)  # the published Glx test: a t distribution, wider
    assert 0 < low < (math.sqrt(4.83) - 1.96) / math.sqrt(4.83) and high > 1.89


def test_when_sessions_vary_the_primary_model_rejects_too_often_and_the_session_model_does_not():
    """No naltrexone effect, sessions with their own Glx/tNAA offset (SD 0.03, half the
    within-session SD): the primary model, blind to sessions, rejects far above 5%; the session
    model stays at its size (exact binomial tests at 0.001)."""
    replicates = run_chunk(
        SETTINGS, CONDITIONS, "placebo", FORMULAS, Design(16, session_sd=0.03), 0.0, 5, range(120)
    )
    power = power_table(replicates, alpha=0.05).set_index("test")
    primary, session = power.loc["glx_condition"], power.loc["glx_condition_session_model"]
    assert stats.binomtest(int(primary["rejections"]), 120, 0.05).pvalue < 0.001
    assert primary["power"] > 0.15, primary["power"]
    assert stats.binomtest(int(session["rejections"]), 120, 0.05).pvalue > 0.001, session["power"]
