import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.qc.mrs import apply_qc, mark_phase, qc_flags, spectrum_table

THRESHOLDS = {
    "max_crlb_percent": 20,
    "max_fwhm_ppm": 0.10,
    "min_snr": 8,
    "max_fwhm_drift_ppm": 0.03,
    "max_snr_drift_fraction": 0.5,
}


def long_rows(block, glx, glx_sd, tnaa, tnaa_sd, fwhm, snr, undetermined=False):
    base = {
        "participant_id": "sub-01",
        "condition": "placebo",
        "block": block,
        "onset_min": (block - 2) * 6.0,
        "offset_min": (block - 1) * 6.0,
        "fwhm_ppm": fwhm,
        "snr": snr,
        "source_file": f"b{block}.table",
    }
    return [
        {
            **base,
            "metabolite": "Glx",
            "concentration": glx,
            "crlb_percent": glx_sd,
            "crlb_undetermined": undetermined,
        },
        {
            **base,
            "metabolite": "tNAA",
            "concentration": tnaa,
            "crlb_percent": tnaa_sd,
            "crlb_undetermined": False,
        },
        {
            **base,
            "metabolite": "GABA",
            "concentration": 0.0,
            "crlb_percent": np.nan,
            "crlb_undetermined": True,
        },
    ]


@pytest.fixture
def session():
    rows = (
        long_rows(1, 13.0, 6, 10.0, 3, 0.05, 30)  # clean
        + long_rows(2, 13.5, 25, 10.0, 3, 0.05, 30)  # Glx %SD 25 > 20
        + long_rows(3, 13.0, 6, 10.0, 3, 0.12, 30)  # FWHM 0.12 > 0.10, drift 0.07 > 0.03
        + long_rows(4, 13.0, 6, 10.0, 3, 0.05, 7)  # S/N 7 < 8, drop 77% > 50%
        + long_rows(5, 0.0, np.nan, 10.0, 3, 0.05, 30, undetermined=True)
    )
    return spectrum_table(pd.DataFrame(rows), "Glx", "tNAA")


def test_ratio_is_numerator_over_denominator(session):
    assert session.loc[0, "ratio"] == pytest.approx(1.3)
    assert np.isnan(session.loc[4, "ratio"])  # undetermined numerator: NaN, not 0


def test_each_criterion_flags_with_value_and_threshold(session):
    flags = qc_flags(session, THRESHOLDS).set_index(["block", "criterion"])
    assert flags.loc[(2, "crlb"), "flagged"] and flags.loc[(2, "crlb"), "value"] == 25
    assert flags.loc[(3, "fwhm"), "flagged"] and flags.loc[(3, "fwhm"), "threshold"] == 0.10
    assert flags.loc[(3, "fwhm_drift"), "flagged"]
    assert flags.loc[(4, "snr"), "flagged"] and flags.loc[(4, "snr_drift"), "flagged"]
    assert flags.loc[(5, "undetermined"), "flagged"]
    assert not flags.loc[1, "flagged"].any()


def test_only_configured_criteria_exclude(session):
    flags = qc_flags(session, THRESHOLDS)
    table = apply_qc(session, flags, ["crlb", "fwhm", "snr", "undetermined"]).set_index("block")
    assert table["included"].tolist() == [True, False, False, False, False]
    assert table.loc[3, "flags"] == "fwhm;fwhm_drift" and table.loc[3, "excluded_by"] == "fwhm"
    only_crlb = apply_qc(session, flags, ["crlb"]).set_index("block")
    # Block 5 stays out: it has no ratio to analyse, whatever the criteria.
    assert only_crlb["included"].tolist() == [True, False, True, True, False]


def test_unknown_criterion_is_refused(session):
    with pytest.raises(ValueError, match="unknown criteria"):
        apply_qc(session, qc_flags(session, THRESHOLDS), ["linewidth"])


def test_drift_is_measured_from_the_first_passing_block():
    rows = (
        long_rows(1, 13.0, 6, 10.0, 3, 0.15, 30)  # fails FWHM: not the drift reference
        + long_rows(2, 13.0, 6, 10.0, 3, 0.05, 30)
        + long_rows(3, 13.0, 6, 10.0, 3, 0.06, 30)
    )
    spectra = spectrum_table(pd.DataFrame(rows), "Glx", "tNAA")
    flags = qc_flags(spectra, THRESHOLDS).set_index(["block", "criterion"])
    assert flags.loc[(3, "fwhm_drift"), "value"] == pytest.approx(0.01)
    assert not flags.loc[(3, "fwhm_drift"), "flagged"]
    assert flags.loc[(1, "fwhm_drift"), "value"] == pytest.approx(0.10)


def test_a_measure_the_tool_does_not_provide_is_not_evaluated_rather_than_passed():
    rows = long_rows(1, 13.0, np.nan, 10.0, np.nan, np.nan, 30) + long_rows(
        2, 13.0, 6, 10.0, 3, 0.05, 30
    )
    spectra = spectrum_table(pd.DataFrame(rows), "Glx", "tNAA")
    flags = qc_flags(spectra, THRESHOLDS)
    first = flags[flags["block"] == 1].set_index("criterion")
    assert not first.loc["crlb", "available"] and not first.loc["crlb", "flagged"]
    assert not first.loc["fwhm", "available"] and first.loc["snr", "available"]
    table = apply_qc(spectra, flags, ["crlb", "fwhm", "snr"]).set_index("block")
    assert table.loc[1, "not_evaluated"] == "crlb;fwhm;fwhm_drift"
    assert table.loc[2, "not_evaluated"] == ""


def test_phase_follows_the_configured_baseline_blocks_and_the_timing(session):
    marked = mark_phase(session, [1])
    assert marked.set_index("block")["phase"].to_dict() == {
        1: "baseline",
        2: "infusion",
        3: "infusion",
        4: "infusion",
        5: "infusion",
    }
    with pytest.raises(
        InputError,
        match=r"mrs.baseline_blocks.*block 2 is listed as baseline.*0 to 6 min in b2.table",
    ):
        mark_phase(session, [1, 2])
    with pytest.raises(InputError, match=r"block 1 is not listed as baseline"):
        mark_phase(session, [5])
