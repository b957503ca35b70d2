"""Readers of the common fMRS fitting tools: same study in every format -> same tidy table."""

import importlib.util
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest import formats, mrs
from crossover_fmrs.ingest.formats import layout
from crossover_fmrs.ingest.formats.common import MRS_COLUMNS
from crossover_fmrs.ingest.mrs import read_study_mrs
from crossover_fmrs.ingest.participants import read_participants
from crossover_fmrs.qc.mrs import ratio_table

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
CONDITIONS = ["placebo", "naltrexone"]
LARMOR = 123.2
KEYS = ["participant_id", "condition", "block", "metabolite"]
ALL = list(mrs.FORMATS)
SUMS = {"Glx", "tNAA", "tCr"}


def read(data_dir, fmt, larmor_mhz=LARMOR):
    participants = read_participants(Path(data_dir) / "participants.tsv", CONDITIONS)
    return read_study_mrs(data_dir, participants, CONDITIONS, fmt, larmor_mhz=larmor_mhz)


def copy(fmt, tmp_path):
    target = tmp_path / fmt
    shutil.copytree(FIXTURES / fmt, target)
    return target


def value(tidy, participant, condition, block, metabolite, column="concentration"):
    rows = tidy[
        (tidy["participant_id"] == participant)
        & (tidy["condition"] == condition)
        & (tidy["block"] == block)
        & (tidy["metabolite"] == metabolite)
    ]
    assert len(rows) == 1
    return rows[column].iloc[0]


@pytest.fixture(scope="module")
def tables():
    return {fmt: read(FIXTURES / fmt, fmt) for fmt in ALL}


def test_one_list_of_formats():
    """layout.FORMAT_NAMES is the one list of mrs.format names: the reader dispatch, the schema's
    enum and the format tables of the docs name the same formats in the same order."""
    names = list(layout.FORMAT_NAMES)
    root = Path(__file__).parents[1]
    schema = yaml.safe_load((root / "schemas" / "config.schema.yaml").read_text())
    docs = (root / "docs" / "data_formats.md").read_text().split("## fMRS input formats")[1]
    assert list(mrs.FORMATS) == names
    assert schema["properties"]["mrs"]["properties"]["format"]["enum"] == names
    assert re.findall(r"^    (\w+)  ", formats.__doc__, re.MULTILINE) == names
    assert re.findall(r"^\| `(\w+)` \|", docs.split("\n## ")[0], re.MULTILINE) == names
    with pytest.raises(
        InputError,
        match=r"column 'format': expected one of \['lcmodel_table', .*'tidy_tsv'\], "
        r"got 'jmrui'",
    ):
        read(FIXTURES / "tidy_tsv", "jmrui")


@pytest.mark.parametrize("fmt", ALL)
def test_every_format_gives_the_lcmodel_table(tables, fmt):
    """Same values in every layout; a format differs only where it cannot provide a column."""
    tidy = tables[fmt]
    assert list(tidy.columns) == MRS_COLUMNS and len(tidy) == 80
    spectra = (
        tidy[["participant_id", "condition", "block"]]
        .drop_duplicates()
        .apply(tuple, axis=1)
        .tolist()
    )
    assert spectra == [(p, c, b) for p in ("sub-01", "sub-02") for c in CONDITIONS for b in (1, 2)]
    ours = tidy.sort_values(KEYS).reset_index(drop=True)
    ref = tables["lcmodel_table"].sort_values(KEYS).reset_index(drop=True)
    assert ours[KEYS].equals(ref[KEYS])
    for column in ("onset_min", "offset_min"):
        assert ours[column].tolist() == ref[column].tolist()
    assert ours["crlb_undetermined"].tolist() == ref["crlb_undetermined"].tolist()
    assert np.allclose(ours["concentration"], ref["concentration"], rtol=0, atol=1e-9)
    # LCModel prints ratios to 3 decimals; other tools keep full precision
    assert np.allclose(ours["ratio_to_tcr"], ref["ratio_to_tcr"], rtol=0, atol=5e-4, equal_nan=True)
    missing = mrs.FORMATS[fmt].not_provided
    for column in ("fwhm_ppm", "snr"):
        if column in missing:
            assert ours[column].isna().all()
        else:  # FSL-MRS and Osprey 2 write Hz: converted with larmor_mhz
            assert np.allclose(ours[column], ref[column], rtol=1e-12, atol=0)
    crlb = ours["crlb_percent"]
    if "crlb_percent" in missing:
        assert crlb.isna().all()
    elif "crlb_percent of summed metabolites" in missing:
        is_sum = ours["metabolite"].isin(SUMS)
        assert crlb[is_sum].isna().all()
        assert np.allclose(
            crlb[~is_sum], ref["crlb_percent"][~is_sum], equal_nan=True, rtol=1e-12, atol=0
        )
    else:
        assert np.allclose(crlb, ref["crlb_percent"], equal_nan=True, rtol=1e-12, atol=0)


@pytest.mark.parametrize("fmt", ALL)
def test_every_format_gives_the_same_outcome_ratio(tables, fmt):
    ratios = ratio_table(tables[fmt])
    assert ratios["ratio"].round(6).tolist()[:7] == [1.3, 1.35, 1.4, 1.3, 1.1, 1.2, 1.15]
    assert math.isnan(ratios["ratio"].iloc[7])
    assert ratios["reason"].iloc[7] == "Glx %SD undetermined (999)"


def test_what_each_tool_names_and_reports(tables):
    assert (
        value(tables["lcmodel_csv"], "sub-01", "placebo", 2, "Glx", "tool_metabolite") == "Glu+Gln"
    )
    assert value(tables["lcmodel_csv"], "sub-01", "placebo", 2, "Glx", "ratio_to_tcr") == 1.8
    assert value(tables["fsl_mrs"], "sub-02", "placebo", 1, "tCr", "fwhm_ppm") == pytest.approx(
        0.061, abs=1e-15
    )
    assert (
        value(tables["fsl_mrs"], "sub-02", "placebo", 1, "Cr", "snr") == 22.0
    )  # NAA's SNR in qc.csv
    assert value(
        tables["fsl_mrs"], "sub-01", "naltrexone", 2, "Glx", "ratio_to_tcr"
    ) == pytest.approx(12.87 / 7.5)
    assert value(tables["fsl_dynmrs"], "sub-01", "naltrexone", 2, "Glx") == pytest.approx(12.87)
    assert (
        value(tables["fsl_dynmrs"], "sub-01", "naltrexone", 2, "Glx", "tool_metabolite")
        == "Glu+Gln"
    )
    assert value(
        tables["fsl_dynmrs"], "sub-01", "naltrexone", 2, "Gln", "crlb_percent"
    ) == pytest.approx(16.0)
    assert value(
        tables["osprey"], "sub-02", "naltrexone", 2, "Glx", "crlb_undetermined"
    )  # amplitude 0
    assert not value(tables["osprey"], "sub-02", "naltrexone", 1, "Glx", "crlb_undetermined")
    assert value(tables["osprey"], "sub-01", "placebo", 1, "tNAA", "tool_metabolite") == "tNAA"
    assert value(
        tables["tidy_tsv"], "sub-02", "placebo", 2, "GABA", "crlb_undetermined"
    )  # written as 999
    firsts = {fmt: tables[fmt].iloc[0] for fmt in ALL}
    assert {fmt: row["source_tool"] for fmt, row in firsts.items()} == {
        "lcmodel_table": "LCModel",
        "lcmodel_csv": "LCModel",
        "fsl_mrs": "FSL-MRS",
        "fsl_dynmrs": "FSL-MRS",
        "osprey": "Osprey",
        "tidy_tsv": "mrs.tsv",
    }
    assert (
        firsts["fsl_mrs"]["source_file"]
        == "sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-01_fsl_mrs/concentrations.csv"
    )
    assert (
        firsts["osprey"]["source_file"] == "osprey/QuantifyResults/A_amplMets_Voxel_1_Basis_1.tsv"
    )
    assert firsts["lcmodel_csv"]["snr_definition"].startswith("not reported")
    assert firsts["osprey"]["snr_definition"].startswith("Osprey QM Cr_SNR")
    assert firsts["tidy_tsv"]["snr_definition"] == "not stated in mrs.tsv"


def test_fixtures_are_what_the_generator_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert (
        len(written) == 111
    )  # 79 of the six formats, 32 of the variants (osprey_lcmodel, fsl_dynmrs_*)
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (FIXTURES / relative).read_bytes(), relative


@pytest.mark.parametrize(
    "fmt, expected",
    [
        ("lcmodel_table", 12),
        ("lcmodel_csv", 12),
        ("fsl_mrs", 28),
        ("fsl_dynmrs", 8),
        ("osprey", 8),
        ("tidy_tsv", 5),
        ("fsl_dynmrs_cov", 12),
        ("osprey_lcmodel", 9),
    ],
)
def test_raw_inputs_list_the_files_read(fmt, expected):
    paths = layout.format_inputs(
        FIXTURES / fmt,
        fmt.split("_")[0]
        if fmt == "osprey_lcmodel"
        else "fsl_dynmrs"
        if fmt.startswith("fsl_dynmrs")
        else fmt,
    )
    assert len(paths) == expected and paths == sorted(paths)
    assert all(Path(p).is_file() for p in paths)
    assert not any(p.endswith(("participants.tsv", "README.md")) for p in paths)


# ---------------------------------------------------------------------------------------------
# Format mismatches


MISMATCHES = [
    (
        "lcmodel_csv",
        "lcmodel_table",
        (
            r"^sub-01/ses-naltrexone/mrs, column 'mrs.format': "
            r"expected outputs of mrs.format lcmodel_table .*"
            r"got 'lcmodel_csv output "
        ),
    ),
    (
        "lcmodel_table",
        "fsl_mrs",
        (
            r"^sub-01/ses-naltrexone/mrs, column 'mrs.format': .* "
            r"fsl_mrs \(e\.g\. sub-01_ses-placebo_block-01_fsl_mrs/\), "
            r"got 'lcmodel_table output "
        ),
    ),
    (
        "fsl_mrs",
        "fsl_dynmrs",
        r"got 'fsl_mrs output sub-01/ses-naltrexone/mrs/sub-01_ses-naltrexone_block-01_fsl_mrs'",
    ),
    (
        "lcmodel_table",
        "osprey",
        r"column 'mrs.format': expected outputs of mrs.format osprey \(osprey_datasets.tsv",
    ),
    (
        "tidy_tsv",
        "lcmodel_table",
        r"column 'mrs.format': .*got 'mrs.tsv, the study table of mrs.format tidy_tsv'",
    ),
    (
        "osprey",
        "tidy_tsv",
        (
            r"^mrs.tsv, column 'mrs.format': expected the mrs.tsv of mrs.format tidy_tsv, "
            r"got 'osprey_datasets.tsv, the study table of mrs.format osprey'"
        ),
    ),
]


@pytest.mark.parametrize("data, fmt, message", MISMATCHES)
def test_format_mismatch_is_an_error(data, fmt, message):
    with pytest.raises(InputError, match=message):
        read(FIXTURES / data, fmt)


def test_lcmodel_csv_beside_tables_is_ignored(tmp_path):
    study = copy("lcmodel_table", tmp_path)
    for table in (FIXTURES / "lcmodel_csv").glob("sub-*/ses-*/mrs/*.csv"):
        shutil.copy(table, study / table.relative_to(FIXTURES / "lcmodel_csv"))
    assert len(read(study, "lcmodel_table")) == 80
    assert len(read(study, "lcmodel_csv")) == 80


# ---------------------------------------------------------------------------------------------
# LCModel -csv


def test_lcmodel_csv_layout_errors(tmp_path):
    study = copy("lcmodel_csv", tmp_path)
    path = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-02.csv"
    text = path.read_text()
    path.write_text(text + text.splitlines()[1] + "\n")
    with pytest.raises(
        InputError, match=r"block-02\.csv: expected one voxel line after the header .*got '2 voxel"
    ):
        read(study, "lcmodel_csv")
    path.write_text(text.replace("    4,", " four,", 1))
    with pytest.raises(
        InputError, match=r"block-02\.csv, line 2, column 'Glu\+Gln %SD': expected an integer %SD"
    ):
        read(study, "lcmodel_csv")
    path.write_text(text.replace("Glu %SD", "Glu SD"))
    with pytest.raises(
        InputError, match=r"line 1, column 'Glu': expected the three columns 'Glu, Glu %SD"
    ):
        read(study, "lcmodel_csv")
    path.write_text(text.replace("10.800", "10,800", 1))
    with pytest.raises(
        InputError, match=r"line 2: expected 32 comma-separated fields like the header, got 33"
    ):
        read(study, "lcmodel_csv")


# ---------------------------------------------------------------------------------------------
# FSL-MRS


def test_fsl_mrs_needs_qc_and_larmor(tmp_path):
    study = copy("fsl_mrs", tmp_path)
    with pytest.raises(
        InputError, match=r"^config, mrs, column 'larmor_mhz': expected the spectrometer frequency"
    ):
        read(study, "fsl_mrs", larmor_mhz=None)
    folder = study / "sub-02/ses-placebo/mrs/sub-02_ses-placebo_block-02_fsl_mrs"
    (folder / "qc.csv").unlink()
    with pytest.raises(
        InputError,
        match=r"^sub-02/ses-placebo/mrs/sub-02_ses-placebo_block-02_fsl_mrs/, column "
        r"'qc.csv': expected an fsl_mrs output folder with concentrations.csv and qc.csv",
    ):
        read(study, "fsl_mrs")


def test_fsl_mrs_crlb_from_std_without_summary(tmp_path, tables):
    study = copy("fsl_mrs", tmp_path)
    for summary in study.glob("sub-*/ses-*/mrs/*_fsl_mrs/summary.csv"):
        summary.unlink()
    tidy = read(study, "fsl_mrs")
    assert np.allclose(
        tidy["crlb_percent"], tables["fsl_mrs"]["crlb_percent"], equal_nan=True, rtol=1e-12, atol=0
    )
    assert tidy["crlb_undetermined"].sum() == 4


def test_fsl_mrs_qc_row_and_numbers(tmp_path):
    study = copy("fsl_mrs", tmp_path)
    folder = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-01_fsl_mrs"
    qc = (folder / "qc.csv").read_text()
    (folder / "qc.csv").write_text(qc.replace("NAA,27.0,6.4064", "NAA,0.0,0.0"))
    tidy = read(study, "fsl_mrs")  # FSL-MRS writes 0 where it could not compute: missing, not 0
    assert math.isnan(value(tidy, "sub-01", "placebo", 1, "Glx", "fwhm_ppm"))
    assert math.isnan(value(tidy, "sub-01", "placebo", 1, "Glx", "snr"))
    (folder / "qc.csv").write_text(
        "\n".join(line for line in qc.splitlines() if not line.startswith("NAA,")) + "\n"
    )
    with pytest.raises(
        InputError, match=r"block-01_fsl_mrs/qc\.csv, column 'Metab': expected a row for NAA"
    ):
        read(study, "fsl_mrs")
    (folder / "qc.csv").write_text(qc)
    conc = (folder / "concentrations.csv").read_text()
    (folder / "concentrations.csv").write_text(conc.replace("Glu,10.4,", "Glu,ten,"))
    with pytest.raises(
        InputError,
        match=r"concentrations\.csv, line 6, column 'mean/raw': expected a number, got 'ten'",
    ):
        read(study, "fsl_mrs")
    (folder / "concentrations.csv").write_text(
        "\n".join(conc.splitlines()[::2]) + "\n"
    )  # one header row
    with pytest.raises(
        InputError, match=r"concentrations\.csv, line 1: expected fsl_mrs' two header rows"
    ):
        read(study, "fsl_mrs")


def test_fsl_mrs_block_folder_without_sidecar_row(tmp_path):
    study = copy("fsl_mrs", tmp_path)
    sidecar = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_blocks.tsv"
    sidecar.write_text("block\tonset_min\toffset_min\tphase\n1\t-8.0\t0.0\tbaseline\n")
    with pytest.raises(
        InputError, match=r"block-02_fsl_mrs, column 'block': expected a row for block 2 in "
    ):
        read(study, "fsl_mrs")
    shutil.rmtree(study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_block-02_fsl_mrs")
    shutil.rmtree(study / "sub-02/ses-naltrexone")  # a missing session is absent, not an error
    tidy = read(study, "fsl_mrs")
    assert len(tidy) == 50


def test_fsl_dynmrs_time_points_match_blocks_in_time_order(tmp_path):
    study = copy("fsl_dynmrs", tmp_path)
    path = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_fsl_dynmrs/mapped_parameters.csv"
    lines = [line.split(",") for line in path.read_text().splitlines()]
    swapped = [[cells[0], *cells[3:5], *cells[1:3]] for cells in lines]  # time 3.0 columns first
    path.write_text("\n".join(",".join(cells) for cells in swapped) + "\n")
    tidy = read(study, "fsl_dynmrs")
    assert value(tidy, "sub-01", "placebo", 2, "Glx") == pytest.approx(13.5)
    assert value(tidy, "sub-01", "placebo", 1, "Glx") == pytest.approx(13.0)
    sidecar = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_blocks.tsv"
    sidecar.write_text(sidecar.read_text() + "3\t6.0\t12.0\tinfusion\n")
    with pytest.raises(
        InputError,
        match=r"mapped_parameters\.csv, line 1, column 'time': expected 3 distinct time "
        r"values, one per block in .*blocks\.tsv \(mrs\.dynmrs_time order.*got 2",
    ):
        read(study, "fsl_dynmrs")
    path.write_text(
        "\n".join(",".join(cells[:4]) for cells in lines) + "\n"
    )  # time 3.0 without its std
    with pytest.raises(InputError, match=r"expected as many 'mean' as 'std' columns for time 3"):
        read(study, "fsl_dynmrs")


# ---------------------------------------------------------------------------------------------
# Osprey


def test_osprey_rows_follow_the_mapping(tmp_path, tables):
    study = copy("osprey", tmp_path)
    mapping = study / "osprey_datasets.tsv"
    lines = mapping.read_text().splitlines()
    mapping.write_text(
        "\n".join([lines[0], lines[2], lines[1], *lines[3:]]) + "\n"
    )  # wrong order: values move
    tidy = read(study, "osprey")
    assert value(tidy, "sub-02", "placebo", 1, "GABA") == 0.0
    assert value(tables["osprey"], "sub-02", "placebo", 1, "GABA") == 1.6
    mapping.write_text("\n".join(lines) + "\n")
    amplitudes = study / "osprey/QuantifyResults/A_amplMets_Voxel_1_Basis_1.tsv"
    amplitudes.write_text(
        "\n".join(amplitudes.read_text().splitlines()[:-1]) + "\n"
    )  # excluded in Osprey
    with pytest.raises(
        InputError,
        match=r"A_amplMets_Voxel_1_Basis_1\.tsv: expected one row per dataset of "
        r"osprey_datasets\.tsv \(8; do not exclude datasets in Osprey.*got '7 rows'",
    ):
        read(study, "osprey")
    mapping.write_text("\n".join([*lines[:-1], lines[1]]) + "\n")
    with pytest.raises(
        InputError,
        match=r"osprey_datasets\.tsv, line 9, column 'block': expected one dataset per "
        r"spectrum \(also on line 2\)",
    ):
        read(study, "osprey")


def test_osprey_1_tables(tmp_path, tables):
    """Osprey 1 names (off_*_Voxel_1.csv) and QM columns NAA_SNR, NAA_FWHM in Hz (FID-A op_getLW,
    as every Osprey version writes it), converted with larmor_mhz; a value that looks like ppm is
    refused."""
    study = copy("osprey", tmp_path)
    results = study / "osprey" / "QuantifyResults"
    for quant in ("amplMets", "tCr"):
        tsv = results / f"A_{quant}_Voxel_1_Basis_1.tsv"
        (results / f"off_{quant}_Voxel_1.csv").write_text(tsv.read_text().replace("\t", ","))
        tsv.unlink()
    qm = study / "osprey" / "QM_processed_spectra.tsv"
    rows = [line.split("\t") for line in qm.read_text().splitlines()[1:]]
    text = "NAA_SNR,NAA_FWHM,residual_water_ampl,freqShift\n" + "".join(
        ",".join(row) + "\n" for row in rows
    )
    (study / "osprey" / "QM_processed_spectra.csv").write_text(text)
    qm.unlink()
    tidy = read(study, "osprey")
    assert np.allclose(tidy["fwhm_ppm"], tables["osprey"]["fwhm_ppm"], rtol=0, atol=1e-9)
    assert tidy["snr_definition"].iloc[0].startswith("Osprey 1 QM NAA_SNR")
    assert tidy["source_file"].iloc[0] == "osprey/QuantifyResults/off_amplMets_Voxel_1.csv"
    with pytest.raises(
        InputError,
        match=r"^config, mrs, column 'larmor_mhz': expected the spectrometer frequency "
        r"in MHz \(osprey/QM_processed_spectra\.csv gives NAA_FWHM in Hz\)",
    ):
        read(study, "osprey", larmor_mhz=None)
    ppm = f"{float(rows[0][1]) / LARMOR:.6g}"
    (study / "osprey" / "QM_processed_spectra.csv").write_text(text.replace(rows[0][1], ppm, 1))
    with pytest.raises(
        InputError,
        match=r"QM_processed_spectra\.csv, line 2, column 'NAA_FWHM': expected a "
        r"linewidth in Hz as Osprey writes it \(>= 1 Hz; a smaller value looks like ppm",
    ):
        read(study, "osprey")


def test_osprey_missing_tables_and_timing(tmp_path):
    study = copy("osprey", tmp_path)
    (study / "osprey/QuantifyResults/A_tCr_Voxel_1_Basis_1.tsv").unlink()
    with pytest.raises(
        InputError, match=r"^osprey/QuantifyResults/, column 'tCr': expected Osprey's tCr table"
    ):
        read(study, "osprey")
    study = copy("osprey", tmp_path / "again")
    mapping = study / "osprey_datasets.tsv"
    lines = mapping.read_text().splitlines()
    times = {"1": "-8.0\t0.0", "2": "0.0\t6.0"}
    mapping.write_text(
        "\n".join(
            [lines[0] + "\tonset_min\toffset_min"]
            + [f"{line}\t{times[line[-1]]}" for line in lines[1:]]
        )
        + "\n"
    )
    with pytest.raises(
        InputError,
        match=r"column 'onset_min': expected block timing in one place: onset_min/"
        r"offset_min here or the sidecar .*, not both",
    ):
        read(study, "osprey")
    for sidecar in study.glob("sub-*/ses-*/mrs/*_blocks.tsv"):
        sidecar.unlink()
    tidy = read(study, "osprey")
    assert value(tidy, "sub-02", "naltrexone", 2, "tNAA", "onset_min") == 0.0
    assert value(tidy, "sub-02", "naltrexone", 1, "tNAA", "offset_min") == 0.0


# ---------------------------------------------------------------------------------------------
# tidy_tsv


def test_tidy_tsv_missing_values_and_own_timing(tmp_path):
    study = copy("tidy_tsv", tmp_path)
    for sidecar in study.glob("sub-*/ses-*/mrs/*_blocks.tsv"):
        sidecar.unlink()
    path = study / "mrs.tsv"
    header, *rows = path.read_text().splitlines()
    times = {"1": ("-8", "0"), "2": ("0", "6")}
    out = [header + "\tonset_min\toffset_min\tsnr_definition"]
    for row in rows:
        cells = row.split("\t")
        if cells[:4] == ["sub-01", "placebo", "1", "GABA"]:
            cells[5] = "NA"
        if cells[:2] == ["sub-02", "placebo"]:
            cells[6:8] = ["n/a", "n/a"]
        out.append("\t".join(cells + [*times[cells[2]], "peak height / 2 SD noise"]))
    path.write_text("\n".join(out) + "\n")
    tidy = read(study, "tidy_tsv")
    assert math.isnan(value(tidy, "sub-01", "placebo", 1, "GABA", "crlb_percent"))
    assert not value(tidy, "sub-01", "placebo", 1, "GABA", "crlb_undetermined")
    assert value(tidy, "sub-02", "placebo", 2, "GABA", "crlb_undetermined")
    assert math.isnan(value(tidy, "sub-02", "placebo", 2, "Glx", "fwhm_ppm"))
    assert value(tidy, "sub-01", "naltrexone", 2, "Glx", "onset_min") == 0.0
    assert (
        value(tidy, "sub-01", "naltrexone", 2, "Glx", "snr_definition")
        == "peak height / 2 SD noise"
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda cells: cells[:6] + ["0.07"] + cells[7:] if cells[3] == "GABA" else cells,
            r"mrs\.tsv, line 4, column 'fwhm_ppm': "
            r"expected the same value on every row of the spectrum \(as on line 2\)",
        ),
        (
            lambda cells: ["sub-03"] + cells[1:] if cells[3] == "NAAG" else cells,
            r"mrs\.tsv, line 8, column 'participant_id': "
            r"expected a participant listed in participants\.tsv",
        ),
        (
            lambda cells: cells[:3] + ["Glx"] + cells[4:] if cells[3] == "Glu" else cells,
            r"mrs\.tsv, line 11, column 'metabolite': "
            r"expected one entry per metabolite \(Glu\+Gln and Glx are both Glx\)",
        ),
        (
            lambda cells: cells[:5] + ["-3"] + cells[6:] if cells[3] == "Cr" else cells,
            r"mrs\.tsv, line 2, column 'crlb_percent': expected a %CRLB >= 0, got -3",
        ),
    ],
)
def test_tidy_tsv_errors(tmp_path, edit, message):
    study = copy("tidy_tsv", tmp_path)
    path = study / "mrs.tsv"
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header] + ["\t".join(edit(row.split("\t"))) for row in rows]) + "\n")
    with pytest.raises(InputError, match=message):
        read(study, "tidy_tsv")


def test_tidy_tsv_needs_its_columns(tmp_path):
    study = copy("tidy_tsv", tmp_path)
    path = study / "mrs.tsv"
    path.write_text(path.read_text().replace("crlb_percent", "crlb", 1))
    with pytest.raises(
        InputError,
        match=r"^mrs\.tsv, line 1, column 'crlb_percent': expected a column of this name",
    ):
        read(study, "tidy_tsv")


def test_study_level_formats_written_back_read_the_same(tmp_path, tables):
    """The pipeline's own tidy output, reduced to the tidy_tsv columns, reads back unchanged."""
    tidy = tables["fsl_mrs"]
    study = copy("tidy_tsv", tmp_path)
    columns = [
        "participant_id",
        "condition",
        "block",
        "metabolite",
        "concentration",
        "crlb_percent",
        "fwhm_ppm",
        "snr",
        "ratio_to_tcr",
    ]
    frame = tidy[columns].copy()
    frame["crlb_percent"] = frame["crlb_percent"].where(~tidy["crlb_undetermined"], 999)
    frame["metabolite"] = tidy["tool_metabolite"]
    (study / "mrs.tsv").write_text(
        frame.to_csv(sep="\t", index=False, na_rep="NA", lineterminator="\n")
    )
    again = read(study, "tidy_tsv")
    for column in ("concentration", "crlb_percent", "fwhm_ppm", "snr", "ratio_to_tcr"):
        assert np.allclose(again[column], tidy[column], equal_nan=True, rtol=1e-12, atol=0), column
    assert again["crlb_undetermined"].tolist() == tidy["crlb_undetermined"].tolist()
    assert pd.Series(again["metabolite"]).equals(tidy["metabolite"])


@pytest.fixture(scope="module")
def through_the_workflow_scripts(tmp_path_factory):
    """Each format's fixture through the ingest_mrs and qc_mrs scripts, as Snakemake runs them."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config.yaml").read_text())
    out = {}
    for fmt in ALL:
        work = tmp_path_factory.mktemp(fmt)
        tidy, spectra, flags = work / "mrs_long.tsv", work / "mrs_spectra.tsv", work / "flags.tsv"
        steps = [
            (
                "ingest_mrs.py",
                [
                    "--input",
                    f"participants={FIXTURES / fmt / 'participants.tsv'}",
                    "--output",
                    f"mrs={tidy}",
                ],
                {
                    "data_dir": str(FIXTURES / fmt),
                    "conditions": CONDITIONS,
                    "format": fmt,
                    "larmor_mhz": LARMOR,
                },
            ),
            (
                "qc_mrs.py",
                [
                    "--input",
                    f"mrs={tidy}",
                    "--output",
                    f"spectra={spectra}",
                    "--output",
                    f"flags={flags}",
                ],
                {
                    "ratio": config["mrs"]["ratio"],
                    "baseline_blocks": [1],
                    "thresholds": config["qc"]["mrs"],
                },
            ),
        ]
        for script, args, params in steps:
            result = subprocess.run(
                [
                    sys.executable,
                    str(root / "scripts" / script),
                    *args,
                    "--params",
                    json.dumps(params),
                ],
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, result.stderr
        out[fmt] = (tidy, spectra)
    return out


@pytest.mark.parametrize("fmt", ALL)
def test_every_format_end_to_end_gives_the_same_tidy_and_qc_tables(
    tables, through_the_workflow_scripts, fmt
):
    from crossover_fmrs.common.tables import read_table, write_tsv

    tidy_path, spectra_path = through_the_workflow_scripts[fmt]
    expected = tidy_path.with_name("expected.tsv")
    write_tsv(tables[fmt], expected)
    assert (
        tidy_path.read_bytes() == expected.read_bytes()
    )  # the script writes what the reader returns
    ours = read_table(spectra_path)
    ref = read_table(through_the_workflow_scripts["lcmodel_table"][1])
    assert ours[["participant_id", "condition", "block", "phase", "reason"]].equals(
        ref[["participant_id", "condition", "block", "phase", "reason"]]
    )
    assert np.allclose(ours["ratio"], ref["ratio"], rtol=0, atol=1e-9, equal_nan=True)
    not_provided = mrs.FORMATS[fmt].not_provided
    if "fwhm_ppm" in not_provided:  # QC says it could not judge linewidth, never that it passed
        assert ours["not_evaluated"].str.contains("fwhm").all()
    else:
        assert ours["included"].tolist() == ref["included"].tolist()
