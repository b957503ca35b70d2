"""Effects in natural units at any size: config holds the derivation from the published statistics
at n = 26; a large plain draw has the configured Glx/tNAA and MADRS differences, MADRS totals do
not pile at the bounds; sites get balanced and their intercept SDs come back; the bulk LCModel
writer gives write_table's bytes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crossover_fmrs.ingest.formats.lcmodel_table import ConcRow
from crossover_fmrs.ingest.scales import SCALES
from crossover_fmrs.simulate.calibrate import decimals
from crossover_fmrs.simulate.clinical import simulate_clinical
from crossover_fmrs.simulate.effects import derived_from_published
from crossover_fmrs.simulate.lcmodel_writer import TableFit, write_table, write_tables
from crossover_fmrs.simulate.mrs import ROWS, latent_spectra, simulate_mrs_study
from crossover_fmrs.simulate.study import (
    SimulationSettingsError,
    assign_sites,
    simulate_participants,
    study_settings,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
CONDITIONS = CONFIG["study"]["conditions"]
SIMULATION = {
    **CONFIG["simulation"],
    "reference_condition": CONFIG["study"]["reference_condition"],
    "qc_thresholds": CONFIG["qc"]["mrs"],
}


def large(n: int, sites: int = 1) -> tuple[dict, pd.DataFrame]:
    settings = study_settings(SIMULATION, n_participants=n, n_sites=sites, calibrate=False)
    participants = simulate_participants(settings, CONDITIONS, np.random.default_rng(1))
    return settings, participants


def test_the_configured_effects_are_the_derivation_at_the_published_n():
    derived = derived_from_published(SIMULATION)
    mrs, clinical = SIMULATION["mrs"], SIMULATION["clinical"]
    for given, name in (
        (mrs["naltrexone_minus_placebo"], "glx_naltrexone_minus_placebo"),
        (clinical["madrs_naltrexone_difference"], "madrs_naltrexone_difference"),
        (clinical["madrs_within_sd"], "madrs_within_sd"),
    ):
        assert given == round(derived[name], decimals(given)), name
    assert derived["n_usable_spectra"] == 2 * 26 * 6 - 22


def test_another_size_keeps_effects_and_sds_and_the_shares_of_counts():
    settings = study_settings(SIMULATION, n_participants=2600)
    assert settings["calibrate"] is False  # the search targets the published n only
    assert (
        settings["mrs"]["naltrexone_minus_placebo"] == SIMULATION["mrs"]["naltrexone_minus_placebo"]
    )
    assert settings["clinical"]["madrs_within_sd"] == SIMULATION["clinical"]["madrs_within_sd"]
    assert (settings["n_male"], settings["mrs"]["n_failing_spectra"]) == (1300, 2200)
    assert settings["clinical"]["madrs_missing_assessments"] == 100
    assert study_settings(SIMULATION)["calibrate"] is SIMULATION["calibrate"]
    # a configured study of another size cannot ask for the search (rule simulate_study)
    with pytest.raises(
        SimulationSettingsError, match=r"config.yaml, simulation, column 'calibrate'"
    ):
        study_settings({**SIMULATION, "n_participants": 200, "calibrate": True})


def test_a_large_plain_draw_has_the_configured_glx_difference():
    settings, participants = large(2000)
    spectra, _ = simulate_mrs_study(participants, settings, np.random.default_rng(2))
    # the printed Glx/tNAA of every spectrum, naltrexone - placebo per participant
    means = spectra.pivot_table(
        index="participant_id", columns="condition", values="printed_ratio", aggfunc="mean"
    )
    difference = means["naltrexone"] - means["placebo"]
    se = difference.std() / np.sqrt(len(difference))
    assert abs(difference.mean() - settings["mrs"]["naltrexone_minus_placebo"]) < 4 * se
    assert se < 0.004  # small enough that the check means something (the effect is 0.0155)


def test_a_large_plain_draw_has_the_configured_madrs_difference_and_no_pile_at_the_bounds():
    settings, participants = large(2000)
    settings["clinical"]["scales"] = {
        "MADRS": {"sheet": "madrs.tsv", "timepoints": ["pre", "day1"]}
    }
    madrs = simulate_clinical(participants, settings, np.random.default_rng(3))["madrs.tsv"]
    rated = madrs.dropna(subset=SCALES["MADRS"].item_columns)
    total = rated[SCALES["MADRS"].item_columns].sum(axis=1).astype(float)
    assert ((total == 0) | (total == 60)).mean() < 0.05
    cells = total.set_axis(
        pd.MultiIndex.from_frame(rated[["participant_id", "condition", "timepoint"]])
    )
    cells = cells.unstack(["condition", "timepoint"]).dropna()
    contrast = (cells[("naltrexone", "day1")] - cells[("naltrexone", "pre")]) - (
        cells[("placebo", "day1")] - cells[("placebo", "pre")]
    )
    se = contrast.std() / np.sqrt(len(contrast))
    assert abs(contrast.mean() - settings["clinical"]["madrs_naltrexone_difference"]) < 4 * se
    # the per-participant noise is the configured one at any size: SD of the contrast 2 sigma
    assert contrast.std() == pytest.approx(2 * settings["clinical"]["madrs_within_sd"], rel=0.08)


def site_sd(values: pd.Series, sites: pd.Series) -> float:
    """Method-of-moments SD of a site intercept: variance of the site means less the part the
    participants' own spread explains."""
    groups = values.groupby(sites)
    within = groups.var().mean() / groups.size().mean()
    return float(np.sqrt(max(groups.mean().var() - within, 0.0)))


def test_sites_are_balanced_and_their_intercepts_come_back():
    settings, participants = large(2000, sites=40)
    sites = assign_sites(settings, len(participants), np.random.default_rng(4))
    counts = pd.Series(sites["site"]).value_counts()
    assert len(counts) == 40 and set(counts) == {50}
    assert sorted(counts.index)[:2] == ["site-01", "site-02"]
    site = pd.Series(sites["site"], index=participants["participant_id"])

    spectra, _ = latent_spectra(
        participants, settings, np.random.default_rng(5), site_offsets=sites["glx"]
    )
    per_participant = spectra.groupby("participant_id")["true_ratio"].mean()
    glx_sd = settings["sites"]["glx_tnaa_site_sd"]
    assert site_sd(per_participant, site) == pytest.approx(glx_sd, rel=0.4)

    settings["clinical"]["scales"] = {
        "MADRS": {"sheet": "madrs.tsv", "timepoints": ["pre", "day1"]}
    }
    madrs = simulate_clinical(
        participants, settings, np.random.default_rng(6), site_offsets=sites["madrs"]
    )["madrs.tsv"]
    pre = madrs[madrs["timepoint"] == "pre"]
    total = pre[SCALES["MADRS"].item_columns].sum(axis=1).astype(float)
    per_participant = total.groupby(pre["participant_id"].to_numpy()).mean()
    madrs_sd = settings["sites"]["madrs_site_sd"]
    assert site_sd(per_participant, site) == pytest.approx(madrs_sd, rel=0.4)


def test_the_bulk_writer_gives_write_tables_bytes():
    rng = np.random.default_rng(7)
    n = 40
    conc = np.round(rng.lognormal(0.0, 2.0, (n, len(ROWS))), 3)
    conc[0, 3], conc[1, 5], conc[2] = 0.0, 1500.25, 0.05  # zero, E format above and below
    sds = rng.integers(1, 1200, (n, len(ROWS)))
    misc = {
        "fwhm": np.round(rng.uniform(0.02, 0.2, n), 3),
        "snr": np.round(rng.uniform(3, 40, n)),
        "data_shift_ppm": np.round(rng.normal(0, 0.01, n), 3),
        "phase0_deg": np.round(rng.normal(0, 15, n)),
        "phase1_deg_per_ppm": np.round(rng.normal(0, 3, n), 1),
        "alpha_b": 10 ** rng.uniform(-1.5, -0.3, n),
        "alpha_s": 10 ** rng.uniform(-1, 0, n),
        "spline_knots": rng.integers(24, 33, n),
        "inflections": rng.integers(1, 4, n),
        "extrema": rng.integers(0, 3, n),
    }
    titles = [f"sub-{k:02d} SYNTHETIC" for k in range(n)]
    changes = [(" filbas='x.basis'", f" filtab='sub-{k:02d}.table'", " ltable=7") for k in range(n)]
    bulk = write_tables(ROWS, conc, sds, titles=titles, input_changes=changes, **misc)
    for k in range(n):
        fit = TableFit(
            rows=tuple(
                ConcRow(name, float(conc[k, j]), float(sds[k, j])) for j, name in enumerate(ROWS)
            ),
            fwhm_ppm=float(misc["fwhm"][k]),
            snr=float(misc["snr"][k]),
            data_shift_ppm=float(misc["data_shift_ppm"][k]),
            phase0_deg=float(misc["phase0_deg"][k]),
            phase1_deg_per_ppm=float(misc["phase1_deg_per_ppm"][k]),
            alpha_b=float(misc["alpha_b"][k]),
            alpha_s=float(misc["alpha_s"][k]),
            spline_knots=int(misc["spline_knots"][k]),
            inflections=int(misc["inflections"][k]),
            extrema=int(misc["extrema"][k]),
            title=titles[k],
            input_changes=changes[k],
        )
        assert bulk[k] == write_table(fit), k
