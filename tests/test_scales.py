"""Scoring rules of the rating scales, on hand-computed examples."""

import math

import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.scales import (
    SCALES,
    get_scale,
    max_missing_from_config,
    score_items,
    score_outcomes,
)

NA = np.nan


def items(scale_name, *rows):
    return pd.DataFrame(
        [list(r) for r in rows], columns=SCALES[scale_name].item_columns, dtype=float
    )


def test_registry_layout():
    expected = {
        "MADRS": (10, 0, 6, ["MADRS"]),
        "QIDS_SR16": (16, 0, 3, ["QIDS_SR16"]),
        "M3VAS": (3, 0, 100, ["M3VAS_mood", "M3VAS_pleasure", "M3VAS_suicidality"]),
        "SHAPS": (14, 1, 4, ["SHAPS"]),
        "TEPS": (18, 1, 6, ["TEPS_A", "TEPS_C"]),
        "CADSS": (23, 0, 4, ["CADSS"]),
        "PSI": (48, 0, 3, ["PSI"]),
    }
    assert {
        name: (s.n_items, s.item_min, s.item_max, s.scores) for name, s in SCALES.items()
    } == expected
    assert (
        SCALES["MADRS"].item_columns[0] == "madrs_01" and SCALES["PSI"].item_columns[-1] == "psi_48"
    )
    assert SCALES["QIDS_SR16"].item_columns[-1] == "qids_16"
    for scale in SCALES.values():
        assert scale.rule.__doc__ and any(
            ch.isdigit() for ch in scale.rule.__doc__
        )  # a citation with a year


def test_madrs_sum_proration_and_limit():
    frame = items(
        "MADRS",
        [4, 4, 3, 3, 2, 3, 4, 3, 3, 1],  # 30
        [4, 4, 3, NA, 3, 3, 4, 3, 3, 1],  # 28 over 9 rated -> 28 / 9 * 10
        [2, 2, 1, NA, NA, 1, 2, 2, 1, 0],  # 11 over 8 -> 13.75
        [3, 3, 3, NA, NA, NA, 3, 3, 3, 1],  # 3 missing: too many
        [NA] * 10,
    )
    scored = score_items("MADRS", frame)  # default: at most 2 missing
    assert scored["MADRS"].iloc[0] == 30
    assert scored["MADRS"].iloc[1] == pytest.approx(280 / 9)  # unrounded
    assert scored["MADRS"].iloc[2] == pytest.approx(13.75)
    assert math.isnan(scored["MADRS"].iloc[3]) and math.isnan(scored["MADRS"].iloc[4])
    assert scored["n_items_missing"].tolist() == [0, 1, 2, 3, 10]
    assert scored["scoring_note"].tolist() == [
        "complete",
        "prorated 1 missing item",
        "prorated 2 missing items",
        "too many missing items (3 missing, at most 2 prorated)",
        "not rated",
    ]
    strict = score_items("MADRS", frame, max_missing_items=0)
    assert strict["MADRS"].iloc[0] == 30 and strict["MADRS"].iloc[1:].isna().all()
    from_config = score_items(
        "MADRS", frame, max_missing_items=max_missing_from_config({"madrs_max_missing_items": 3})
    )
    assert from_config["MADRS"].iloc[3] == pytest.approx(19 / 7 * 10)


QIDS_ROW = [1, 3, 0, 2, 2, 0, 1, 2, 0, 1, 2, 0, 3, 2, 1, 3]


def test_qids_domains_and_missing_items():
    # sleep max(1,3,0,2)=3 + item5 2 + appetite max(0,1,2,0)=2 + items 10-14 (1+2+0+3+2=8)
    # + psychomotor max(1,3)=3
    no_item2 = QIDS_ROW.copy()
    no_item2[1] = NA  # sleep falls back to max(1,0,2)=2
    no_sleep = QIDS_ROW.copy()
    no_sleep[0:4] = [NA] * 4
    no_mood = QIDS_ROW.copy()
    no_mood[4] = NA
    scored = score_items("QIDS_SR16", items("QIDS_SR16", QIDS_ROW, no_item2, no_sleep, no_mood))
    assert scored["QIDS_SR16"].iloc[0] == 18
    assert scored["QIDS_SR16"].iloc[1] == 17
    assert scored["QIDS_SR16"].iloc[2:].isna().all()
    assert scored["scoring_note"].tolist() == [
        "complete",
        "domains scored from available items (1 missing item)",
        "no rated item in domain(s): sleep",
        "no rated item in domain(s): sad mood",
    ]


def test_shaps_disagreement_counts_one_point():
    # coding 1 strongly disagree, 2 disagree, 3 agree, 4 strongly agree: 1 and 2 score a point
    row = [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 4, 4]  # six disagreements
    one_missing = row[:-1] + [NA]
    scored = score_items("SHAPS", items("SHAPS", row, [4] * 14, [1] * 14, one_missing))
    assert scored["SHAPS"].iloc[:3].tolist() == [6, 0, 14]
    assert math.isnan(scored["SHAPS"].iloc[3])  # no proration by default
    prorated = score_items("SHAPS", items("SHAPS", one_missing), max_missing_items={"SHAPS": 1})
    assert prorated["SHAPS"].iloc[0] == pytest.approx(6 / 13 * 14)


def test_teps_subscales_and_reverse_item_13():
    row = [(i % 6) + 1 for i in range(1, 19)]  # 2,3,4,5,6,1,2,3,4,5,6,1,2,3,4,5,6,1
    # A: items 1,3,7,11,12,14,15,16,17,18 = 2+4+2+6+1+3+4+5+6+1 = 34
    # C: items 2,4,5,6,8,9,10 = 3+5+6+1+3+4+5 = 27, item 13 raw 2 -> 7-2 = 5, total 32
    all_four = [4] * 18
    all_four[12] = 2  # C = 7*4 + 5 = 33
    no_item3 = row.copy()
    no_item3[2] = NA
    scored = score_items("TEPS", items("TEPS", row, all_four, no_item3))
    assert scored["TEPS_A"].tolist()[:2] == [34, 40]
    assert scored["TEPS_C"].tolist() == [32, 33, 32]
    assert math.isnan(scored["TEPS_A"].iloc[2])
    assert scored["scoring_note"].iloc[2] == (
        "TEPS_A: too many missing items (1 missing, at most 0 prorated); TEPS_C: complete"
    )
    long = score_outcomes("TEPS", items("TEPS", no_item3))
    assert long[["outcome", "n_items", "n_items_missing"]].values.tolist() == [
        ["TEPS_A", 10, 1],
        ["TEPS_C", 8, 0],
    ]


def test_m3vas_items_are_their_own_scores():
    scored = score_items("M3VAS", items("M3VAS", [72.5, 40, 0], [NA, 100, 15]))
    assert scored["M3VAS_mood"].iloc[0] == 72.5 and math.isnan(scored["M3VAS_mood"].iloc[1])
    assert scored["M3VAS_pleasure"].tolist() == [40, 100]
    assert scored["M3VAS_suicidality"].tolist() == [0, 15]
    assert scored["scoring_note"].tolist() == [
        "complete",
        "M3VAS_mood: not rated; M3VAS_pleasure: complete; M3VAS_suicidality: complete",
    ]


def test_cadss_and_psi_totals():
    cadss = [4] * 23
    cadss[0] = 0  # 88
    psi = [1] * 48  # 48
    psi_missing = psi[:-1] + [NA]
    assert score_items("CADSS", items("CADSS", cadss))["CADSS"].iloc[0] == 88
    scored = score_items("PSI", items("PSI", psi, psi_missing, [3] * 48))
    assert (
        scored["PSI"].iloc[0] == 48
        and math.isnan(scored["PSI"].iloc[1])
        and scored["PSI"].iloc[2] == 144
    )


def test_out_of_range_item_is_an_input_error():
    frame = items("MADRS", [4] * 10, [4, 4, 7, 3, 2, 3, 3, 3, 3, 2])
    with pytest.raises(InputError) as caught:
        score_items("MADRS", frame, file="madrs.tsv")
    message = str(caught.value)
    assert message.startswith("madrs.tsv, row 2, column 'madrs_03'")
    assert "0-6" in message and message.endswith("got 7")


def test_non_integer_and_non_numeric_items_are_input_errors():
    with pytest.raises(
        InputError, match=r"row 1, column 'qids_05': expected a whole number 0-3.*got 2\.5"
    ):
        score_items("QIDS_SR16", items("QIDS_SR16", QIDS_ROW[:4] + [2.5] + QIDS_ROW[5:]))
    text = pd.DataFrame([["1"] * 13 + ["x"]], columns=SCALES["SHAPS"].item_columns)
    with pytest.raises(InputError, match=r"line 9, column 'shaps_14'.*got 'x'"):
        score_items("SHAPS", text, where=["line 9"])
    with pytest.raises(InputError, match=r"column 'teps_18'.*no such column"):
        score_items("TEPS", items("TEPS", [1] * 18).drop(columns="teps_18"))
    # a visual analogue scale takes fractions of a mm, but not beyond the line
    with pytest.raises(InputError, match=r"m3vas_02.*0-100"):
        score_items("M3VAS", items("M3VAS", [10, 100.5, 3]))


def test_unknown_scale_names_the_config():
    with pytest.raises(
        InputError, match=r"config\.yaml, clinical\.scales: expected a known scale.*got 'HAMD'"
    ):
        get_scale("HAMD")
