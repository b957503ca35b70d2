import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.ingest.formats.common import MRS_COLUMNS, read_blocks_sidecar
from crossover_fmrs.ingest.formats.lcmodel_table import SNR_DEFINITION
from crossover_fmrs.ingest.mrs import read_study_mrs
from crossover_fmrs.ingest.participants import read_participants
from crossover_fmrs.qc.mrs import ratio_table

STUDY = Path(__file__).parent / "fixtures" / "mrs" / "study"
CONDITIONS = ["placebo", "naltrexone"]
SIDECAR_HEADER = "block\tonset_min\toffset_min\tphase\n"


@pytest.fixture
def study(tmp_path):
    """A writable copy of the 2 participants x 2 conditions x 2 blocks fixture."""
    target = tmp_path / "study"
    shutil.copytree(STUDY, target)
    return target


def read(data_dir):
    participants = read_participants(Path(data_dir) / "participants.tsv", CONDITIONS)
    return read_study_mrs(data_dir, participants, CONDITIONS)


def value(tidy, participant, condition, block, metabolite, column="concentration"):
    rows = tidy[
        (tidy["participant_id"] == participant)
        & (tidy["condition"] == condition)
        & (tidy["block"] == block)
        & (tidy["metabolite"] == metabolite)
    ]
    assert len(rows) == 1
    return rows[column].iloc[0]


def test_reads_tiny_study_into_tidy_columns():
    tidy = read(STUDY)
    assert list(tidy.columns) == MRS_COLUMNS
    assert len(tidy) == 2 * 2 * 2 * 10
    spectra = tidy[["participant_id", "condition", "block"]].drop_duplicates()
    assert spectra.apply(tuple, axis=1).tolist() == [
        ("sub-01", "placebo", 1),
        ("sub-01", "placebo", 2),
        ("sub-01", "naltrexone", 1),
        ("sub-01", "naltrexone", 2),
        ("sub-02", "placebo", 1),
        ("sub-02", "placebo", 2),
        ("sub-02", "naltrexone", 1),
        ("sub-02", "naltrexone", 2),
    ]
    assert value(tidy, "sub-01", "placebo", 2, "Glx") == 13.5
    assert value(tidy, "sub-01", "placebo", 2, "Glx", "tool_metabolite") == "Glu+Gln"
    assert value(tidy, "sub-01", "placebo", 2, "Glx", "ratio_to_tcr") == 1.8
    assert value(tidy, "sub-01", "naltrexone", 1, "tNAA", "onset_min") == -8.0
    assert value(tidy, "sub-02", "placebo", 1, "tCr", "fwhm_ppm") == 0.061  # CRLF file
    assert value(tidy, "sub-02", "naltrexone", 1, "tCr", "snr") == 24.0  # file with a BOM
    first = tidy.iloc[0]
    assert (first["source_tool"], first["snr_definition"]) == ("LCModel", SNR_DEFINITION)
    assert first["source_file"] == "sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-01.table"


def test_undetermined_sd_keeps_the_tools_zero():
    tidy = read(STUDY)
    assert value(tidy, "sub-02", "placebo", 2, "GABA") == 0.0
    assert math.isnan(value(tidy, "sub-02", "placebo", 2, "GABA", "crlb_percent"))
    assert value(tidy, "sub-02", "placebo", 2, "GABA", "crlb_undetermined")
    assert not value(tidy, "sub-02", "placebo", 1, "GABA", "crlb_undetermined")


def test_ratio_table_with_reasons():
    ratios = ratio_table(read(STUDY))
    assert ratios["ratio"].round(6).tolist()[:7] == [1.3, 1.35, 1.4, 1.3, 1.1, 1.2, 1.15]
    assert math.isnan(ratios["ratio"].iloc[7])
    assert ratios["reason"].tolist() == [""] * 7 + ["Glx %SD undetermined (999)"]


def test_ratio_table_missing_metabolite(tmp_path):
    tidy = read(STUDY)
    tidy = tidy[~((tidy["block"] == 1) & (tidy["metabolite"] == "tNAA"))]
    ratios = ratio_table(tidy)
    assert ratios.loc[ratios["block"] == 1, "reason"].unique().tolist() == [
        "denominator tNAA not in the fit output"
    ]
    assert ratios.loc[ratios["block"] == 1, "ratio"].isna().all()


def test_missing_session_is_absent_not_an_error(study):
    shutil.rmtree(study / "sub-02" / "ses-naltrexone")
    tidy = read(study)
    assert len(tidy) == 60
    blocks = tidy.groupby(["participant_id", "condition"])["block"].nunique()
    assert blocks.to_dict() == {
        ("sub-01", "naltrexone"): 2,
        ("sub-01", "placebo"): 2,
        ("sub-02", "placebo"): 2,
    }


def test_block_file_without_sidecar_row(study):
    sidecar = study / "sub-01" / "ses-placebo" / "mrs" / "sub-01_ses-placebo_blocks.tsv"
    sidecar.write_text(SIDECAR_HEADER + "1\t-8.0\t0.0\tbaseline\n")
    with pytest.raises(
        InputError,
        match=r"^sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-02\.table, "
        r"column 'block': expected a row for block 2 in .*blocks\.tsv",
    ):
        read(study)


def test_sidecar_row_without_block_file(study):
    (study / "sub-01" / "ses-naltrexone" / "mrs" / "sub-01_ses-naltrexone_block-02.table").unlink()
    with pytest.raises(
        InputError,
        match=r"^sub-01/ses-naltrexone/mrs/sub-01_ses-naltrexone_blocks\.tsv, line 3, "
        r"column 'block': expected a fit output sub-01_ses-naltrexone_block-02\.table",
    ):
        read(study)


def test_session_without_sidecar(study):
    (study / "sub-02" / "ses-placebo" / "mrs" / "sub-02_ses-placebo_blocks.tsv").unlink()
    with pytest.raises(
        InputError, match=r"sub-02_ses-placebo_block-01\.table, column 'block timing'"
    ):
        read(study)


def test_unknown_participant_and_condition(study):
    folder = study / "sub-03" / "ses-placebo" / "mrs"
    folder.mkdir(parents=True)
    (folder / "sub-03_ses-placebo_blocks.tsv").write_text(SIDECAR_HEADER)
    with pytest.raises(
        InputError,
        match=r"column 'participant_id': expected a participant listed in "
        r"participants\.tsv, got 'sub-03'",
    ):
        read(study)
    shutil.rmtree(study / "sub-03")
    folder = study / "sub-01" / "ses-ketamine" / "mrs"
    folder.mkdir(parents=True)
    (folder / "sub-01_ses-ketamine_block-01.table").write_text("")
    with pytest.raises(InputError, match=r"column 'condition': .*got 'ketamine'"):
        read(study)


def test_misnamed_and_misplaced_files(study):
    folder = study / "sub-01" / "ses-placebo" / "mrs"
    (folder / "sub-01_placebo_block-03.table").write_text("")
    with pytest.raises(
        InputError, match=r"column 'file name': expected a name like sub-01_ses-placebo_block-01"
    ):
        read(study)
    (folder / "sub-01_placebo_block-03.table").unlink()
    shutil.copy(
        folder / "sub-01_ses-placebo_block-01.table", folder / "sub-02_ses-placebo_block-03.table"
    )
    with pytest.raises(
        InputError,
        match=r"expected the participant and session of its folder \(sub-01/ses-placebo\)",
    ):
        read(study)


def test_other_lcmodel_outputs_are_ignored(study):
    (study / "sub-01" / "ses-placebo" / "mrs" / "sub-01_ses-placebo_block-01.coord").write_text(
        "not read"
    )
    assert len(read(study)) == 80


def test_bad_table_inside_study_is_named_relative_to_data_dir(study):
    path = study / "sub-02" / "ses-placebo" / "mrs" / "sub-02_ses-placebo_block-02.table"
    path.write_text(path.read_text().replace("    9.600   6%", "    9.600  six%"))
    with pytest.raises(
        InputError,
        match=r"^sub-02/ses-placebo/mrs/sub-02_ses-placebo_block-02\.table, line 10, "
        r"column '%SD'",
    ):
        read(study)


@pytest.mark.parametrize(
    "rows, match",
    [
        (
            "1\t-8\t0\tbaseline\n2\t5\t11\tinfusion\n3\t10\t16\tinfusion\n",
            r"line 4, column 'onset_min': expected no overlap",
        ),
        (
            "2\t0\t6\tinfusion\n1\t-8\t0\tbaseline\n",
            r"line 3, column 'block': expected blocks in increasing order",
        ),
        (
            "1\t-8\t2\tbaseline\n",
            r"line 2, column 'offset_min': expected a baseline block ending at or before 0",
        ),
        (
            "1\t-8\t0\tbaseline\n2\t-1\t6\tinfusion\n",
            r"line 3, column 'onset_min': expected an infusion block",
        ),
        ("1\t6\t0\tinfusion\n", r"line 2, column 'offset_min': expected a time after onset_min"),
        ("1\t-8\tNA\tbaseline\n", r"line 2, column 'offset_min': expected minutes .*got 'NA'"),
        ("0\t-8\t0\tbaseline\n", r"line 2, column 'block': expected a block number"),
        ("1\t-8\t0\tpre\n", r"line 2, column 'phase': expected one of baseline, infusion"),
    ],
    ids=[
        "overlap",
        "unsorted",
        "baseline_after_start",
        "infusion_before_start",
        "reversed",
        "missing_time",
        "block_zero",
        "phase",
    ],
)
def test_bad_sidecars(tmp_path, rows, match):
    path = tmp_path / "sub-01_ses-placebo_blocks.tsv"
    path.write_text(SIDECAR_HEADER + rows)
    with pytest.raises(InputError, match=match):
        read_blocks_sidecar(path)


def test_tsv_is_deterministic_and_round_trips(tmp_path):
    tidy = read(STUDY)
    path, again = tmp_path / "mrs_long.tsv", tmp_path / "again.tsv"
    write_tsv(tidy, path)
    write_tsv(read(STUDY), again)
    text = path.read_text()
    assert text == again.read_text()
    line = next(line for line in text.split("\n") if "\tGABA\tGABA\t0\t" in line)
    assert "\tNA\tTrue\t0\t0.063\t21\t" in line
    glx = ["sub-01", "placebo", "1", "-8", "0", "Glx", "Glu+Gln", "13", "4", "False", "1.733"]
    assert "\n" + "\t".join(glx) in text
    back = read_table(path)
    assert back["crlb_undetermined"].dtype == bool
    pd.testing.assert_frame_equal(back[tidy.columns], tidy, check_dtype=False)


def test_empty_study_gives_empty_table(tmp_path):
    shutil.copy(STUDY / "participants.tsv", tmp_path / "participants.tsv")
    tidy = read(tmp_path)
    assert list(tidy.columns) == MRS_COLUMNS and tidy.empty


def test_unknown_format_is_refused():
    participants = read_participants(STUDY / "participants.tsv", CONDITIONS)
    with pytest.raises(
        InputError,
        match=r"column 'format': expected one of \['lcmodel_table', 'lcmodel_csv', "
        r"'fsl_mrs', 'fsl_dynmrs', 'osprey', 'tidy_tsv'\], got 'jmrui'",
    ):
        read_study_mrs(STUDY, participants, CONDITIONS, fmt="jmrui")
