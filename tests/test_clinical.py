"""Clinical sheet parser and tidy tables, on small hand-written sheets in fixtures/clinical."""

import math
from pathlib import Path

import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.ingest.clinical import (
    CLINICAL_ITEMS_COLUMNS,
    CLINICAL_SCORES_COLUMNS,
    read_clinical_sheet,
    tidy_clinical,
)

FIXTURES = Path(__file__).parent / "fixtures" / "clinical"
CONDITIONS = ["placebo", "naltrexone"]
CLINICAL_CONFIG = {
    "scales": {
        "MADRS": {"sheet": "madrs_good.tsv", "timepoints": ["pre", "day1"]},
        "TEPS": {"sheet": "teps_good.tsv", "timepoints": ["pre", "day1"]},
    },
    "madrs_max_missing_items": 2,
}


@pytest.fixture
def participants():
    return pd.read_csv(FIXTURES / "participants.tsv", sep="\t", dtype=str)


def read(name, participants, timepoints=("pre", "day1"), scale="MADRS"):
    return read_clinical_sheet(
        FIXTURES / name if isinstance(name, str) else name,
        scale,
        participants,
        list(timepoints),
        CONDITIONS,
    )


def test_good_sheet_is_read_sorted_with_missing_as_nan(participants):
    sheet = read("madrs_good.tsv", participants)
    assert len(sheet) == 10
    keys = list(zip(sheet["participant_id"], sheet["condition"], sheet["timepoint"]))
    assert keys[4:8] == [
        ("sub-02", "placebo", "pre"),
        ("sub-02", "placebo", "day1"),
        ("sub-02", "naltrexone", "pre"),
        ("sub-02", "naltrexone", "day1"),
    ]
    assert sheet["line"].tolist()[4:8] == [8, 9, 6, 7]  # line numbers as in the file
    blank = sheet.iloc[5]
    assert math.isnan(blank["hours_from_infusion"]) and blank.filter(like="madrs_").isna().all()
    assert sheet.loc[7, "madrs_04"] != sheet.loc[7, "madrs_04"]  # empty cell -> NaN, not 0
    assert sheet.loc[7, "hours_from_infusion"] == 25.1
    assert set(sheet["source_file"]) == {"madrs_good.tsv"}


def test_bom_and_crlf_are_accepted(participants, tmp_path):
    good = (FIXTURES / "madrs_good.tsv").read_bytes()
    variant = tmp_path / "madrs_bom_crlf.tsv"
    variant.write_bytes(b"\xef\xbb\xbf" + good.replace(b"\n", b"\r\n"))
    expected = read("madrs_good.tsv", participants).drop(columns="source_file")
    pd.testing.assert_frame_equal(read(variant, participants).drop(columns="source_file"), expected)
    bom_only = tmp_path / "madrs_bom.tsv"
    bom_only.write_bytes(b"\xef\xbb\xbf" + good)
    assert read(bom_only, participants)["participant_id"].iloc[0] == "sub-01"


@pytest.mark.parametrize(
    ("sheet", "pattern"),
    [
        (
            "madrs_missing_column.tsv",
            r"madrs_missing_column\.tsv, line 1, column 'madrs_07': expected a column",
        ),
        (
            "madrs_out_of_range.tsv",
            r"madrs_out_of_range\.tsv, line 4 \(sub-01, naltrexone, pre\), column 'madrs_03': "
            r"expected a whole number 0-6 or an empty cell \(unrated\), got 7$",
        ),
        (
            "madrs_non_numeric.tsv",
            r"madrs_non_numeric\.tsv, line 5 \(sub-01, naltrexone, day1\), column 'madrs_06': "
            r"expected a number 0-6.*got 'two'",
        ),
        (
            "madrs_duplicate_row.tsv",
            r"madrs_duplicate_row\.tsv, line 5 \(sub-01\): "
            r"expected one row per participant x condition x timepoint "
            r"\(placebo, day1 also on line 3\)",
        ),
        (
            "madrs_unknown_participant.tsv",
            r"madrs_unknown_participant\.tsv, line 3, column 'participant_id': "
            r"expected a participant listed in participants\.tsv, got 'sub-99'",
        ),
        (
            "madrs_unknown_timepoint.tsv",
            r"madrs_unknown_timepoint\.tsv, line 4 \(sub-01\), column 'timepoint': "
            r"expected one of pre, day1 for MADRS, got 'day7'",
        ),
    ],
)
def test_faulty_sheets_raise_one_line_input_errors(participants, sheet, pattern):
    with pytest.raises(InputError, match=pattern) as caught:
        read(sheet, participants)
    assert "\n" not in str(caught.value)


def test_unknown_condition_and_ragged_row(participants, tmp_path):
    text = (FIXTURES / "madrs_good.tsv").read_text()
    renamed = tmp_path / "madrs.tsv"
    renamed.write_text(text.replace("sub-03\tplacebo\tday1", "sub-03\tketamine\tday1"))
    with pytest.raises(
        InputError,
        match=r"line 11 \(sub-03\), column 'condition': expected one of placebo, naltrex",
    ):
        read(renamed, participants)
    renamed.write_text(text.replace("\t0\n", "\n"))
    with pytest.raises(InputError, match=r"line 3: expected 14 tab-separated fields, got 13"):
        read(renamed, participants)
    extra = text.replace("madrs_10", "madrs_10\tmadrs_11").replace("\n", "\t\n")
    renamed.write_text(extra.replace("madrs_11\t\n", "madrs_11\n"))
    with pytest.raises(
        InputError, match=r"line 1, column 'madrs_11': expected only items madrs_01 \.\. madrs_10"
    ):
        read(renamed, participants)


def test_missing_file_is_an_input_error(participants, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read(tmp_path / "absent.tsv", participants)


def tidy(participants):
    sheets = {
        "MADRS": read("madrs_good.tsv", participants),
        "TEPS": read("teps_good.tsv", participants, scale="TEPS"),
    }
    return tidy_clinical(sheets, CLINICAL_CONFIG, CONDITIONS)


def test_tidy_tables_scores_and_order(participants):
    items, scores = tidy(participants)
    assert (
        list(items.columns) == CLINICAL_ITEMS_COLUMNS
        and list(scores.columns) == CLINICAL_SCORES_COLUMNS
    )
    assert len(items) == 10 * 10 + 3 * 18
    assert len(scores) == 10 + 3 * 2
    madrs = scores[scores["outcome"] == "MADRS"].set_index(
        ["participant_id", "condition", "timepoint"]
    )
    assert madrs.loc[("sub-01", "placebo", "pre"), "value"] == 30
    assert madrs.loc[("sub-02", "naltrexone", "day1"), "value"] == pytest.approx(280 / 9)
    assert madrs.loc[("sub-03", "placebo", "day1"), "value"] == pytest.approx(13.75)
    assert math.isnan(madrs.loc[("sub-03", "placebo", "pre"), "value"])
    assert madrs.loc[("sub-02", "placebo", "day1"), "scoring_note"] == "not rated"
    assert madrs.loc[("sub-03", "placebo", "pre"), "n_items_missing"] == 3
    teps = scores[scores["scale"] == "TEPS"]
    assert teps[["outcome", "value", "n_items"]].head(4).values.tolist() == [
        ["TEPS_A", 34.0, 10],
        ["TEPS_C", 32.0, 8],
        ["TEPS_A", 40.0, 10],
        ["TEPS_C", 33.0, 8],
    ]
    # sub-01: placebo before naltrexone, MADRS before TEPS, pre before day1
    first = scores[scores["participant_id"] == "sub-01"][
        ["condition", "scale", "timepoint", "outcome"]
    ]
    assert first.head(6).values.tolist() == [
        ["placebo", "MADRS", "pre", "MADRS"],
        ["placebo", "MADRS", "day1", "MADRS"],
        ["placebo", "TEPS", "pre", "TEPS_A"],
        ["placebo", "TEPS", "pre", "TEPS_C"],
        ["placebo", "TEPS", "day1", "TEPS_A"],
        ["placebo", "TEPS", "day1", "TEPS_C"],
    ]
    row = items[
        (items["participant_id"] == "sub-02")
        & (items["condition"] == "naltrexone")
        & (items["timepoint"] == "day1")
    ]
    assert row["item"].tolist() == list(range(1, 11))
    assert math.isnan(row["score"].iloc[3]) and row["score"].iloc[0] == 4


def test_tables_are_written_deterministically(participants, tmp_path):
    items, scores = tidy(participants)
    write_tsv(scores, tmp_path / "a.tsv")
    write_tsv(tidy(participants)[1], tmp_path / "b.tsv")
    data = (tmp_path / "a.tsv").read_bytes()
    assert data == (tmp_path / "b.tsv").read_bytes()
    lines = data.decode().split("\n")
    assert b"\r" not in data and lines[0].split("\t") == CLINICAL_SCORES_COLUMNS
    prorated = next(
        line for line in lines if line.startswith("sub-02\tnaltrexone\tday1\t25.1\tMADRS")
    )
    assert prorated.split("\t")[6:10] == ["31.11111111", "10", "1", "prorated 1 missing item"]
    not_rated = next(line for line in lines if line.startswith("sub-02\tplacebo\tday1"))
    assert not_rated.split("\t")[3] == "NA" and not_rated.split("\t")[6] == "NA"
