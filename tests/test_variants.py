"""Real tool variants: each gives the tidy table of its base format, or a one-line error naming
the setting that would read it (issue 12)."""

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.ingest.formats import layout
from crossover_fmrs.ingest.formats.common import Measure
from crossover_fmrs.ingest.formats.fsl_mrs import _sum_sd
from crossover_fmrs.ingest.formats.vocabulary import COMBINED, SYNONYMS, canonical_name
from crossover_fmrs.ingest.mrs import read_study_mrs
from crossover_fmrs.ingest.participants import read_participants
from crossover_fmrs.qc.mrs import apply_qc, qc_flags, spectrum_table

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "formats"
CONDITIONS = ["placebo", "naltrexone"]
KEYS = ["participant_id", "condition", "block", "metabolite"]
SAME = [
    "participant_id",
    "condition",
    "block",
    "onset_min",
    "offset_min",
    "metabolite",
    "crlb_undetermined",
]
THRESHOLDS = {
    "max_crlb_percent": 20,
    "max_fwhm_ppm": 0.1,
    "min_snr": 8,
    "max_fwhm_drift_ppm": 0.03,
    "max_snr_drift_fraction": 0.5,
    "exclude_on": ["crlb", "fwhm", "snr", "undetermined"],
}


def read(data_dir, fmt, **options):
    participants = read_participants(Path(data_dir) / "participants.tsv", CONDITIONS)
    return read_study_mrs(
        data_dir, participants, CONDITIONS, fmt, larmor_mhz=123.2, options=options
    )


def copy(name, tmp_path):
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def sort(tidy):
    return tidy.sort_values(KEYS).reset_index(drop=True)


def assert_same_values(
    ours, ref, columns=("concentration", "crlb_percent", "ratio_to_tcr", "fwhm_ppm", "snr")
):
    ours, ref = sort(ours), sort(ref)
    assert ours[SAME].equals(ref[SAME])
    for column in columns:
        assert np.allclose(
            ours[column],
            ref[column],
            rtol=1e-9,
            atol=5e-4 if column == "ratio_to_tcr" else 1e-9,
            equal_nan=True,
        ), column


@pytest.fixture(scope="module")
def reference():
    return read(FIXTURES / "lcmodel_table", "lcmodel_table")


# ---------------------------------------------------------------------------------------------
# One vocabulary


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("Glth", "GSH"),
        ("GSH", "GSH"),
        ("sIns", "Scyllo"),
        ("Scyllo", "Scyllo"),
        ("mI", "Ins"),
        ("mIns", "Ins"),
        ("Cre", "Cr"),
        ("PCho", "PCh"),
        ("Glu_Gln", "Glx"),
        ("Gln+Glu", "Glx"),
        ("NAA_NAAG", "tNAA"),
        ("Cr_PCr", "tCr"),
        ("Cre+PCr", "tCr"),
        ("PCh_GPC", "tCho"),
        ("PCho+GPC", "tCho"),
        ("-CrCH2", "CrCH2"),
        ("CrCH2", "CrCH2"),
        ("MM14+Lip13a", "MM14+Lip13a"),
        ("Lip13a", "Lip13a"),
    ],
)
def test_every_spelling_is_one_metabolite(spelling, canonical):
    assert canonical_name(spelling) == canonical


def test_the_docs_list_the_vocabulary():
    text = (ROOT / "docs" / "data_formats.md").read_text(encoding="utf-8")
    section = text[text.index("## Metabolite names") :]
    for name, spellings in SYNONYMS.items():
        line = next((row for row in section.splitlines() if row.startswith(f"| `{name}` |")), None)
        assert line is not None, name
        for spelling in spellings:
            assert f"`{spelling}`" in line, (name, spelling)
    for name, parts in COMBINED.items():
        assert f"`{name}` = " + " + ".join(f"`{part}`" for part in parts) in section


# ---------------------------------------------------------------------------------------------
# LCModel: upper-case extensions, and any names through the manifest


def test_upper_case_extensions_give_the_same_table(tmp_path, reference):
    study = copy("lcmodel_table", tmp_path)
    for path in study.glob("sub-*/ses-*/mrs/*.table"):
        path.rename(path.with_suffix(".TABLE"))
    tidy = read(study, "lcmodel_table")
    assert_same_values(tidy, reference)
    assert tidy["source_file"].str.endswith(".TABLE").all()
    assert sum(p.endswith(".TABLE") for p in layout.format_inputs(study, "lcmodel_table")) == 8
    csv_study = copy("lcmodel_csv", tmp_path)
    for path in csv_study.glob("sub-*/ses-*/mrs/*.csv"):
        path.rename(path.with_suffix(".CSV"))
    assert_same_values(
        read(csv_study, "lcmodel_csv"), read(FIXTURES / "lcmodel_csv", "lcmodel_csv")
    )


def manifest_study(tmp_path, fmt="lcmodel_table", timed=False):
    """The fixture with every fit output moved to a tool-default name in fits/, listed in
    mrs_files.tsv."""
    study = copy(fmt, tmp_path)
    lines = [
        "participant_id\tcondition\tblock\tpath" + ("\tonset_min\toffset_min" if timed else "")
    ]
    outputs = sorted(
        p for p in study.glob("sub-*/ses-*/mrs/*") if not p.name.endswith("_blocks.tsv")
    )
    (study / "fits").mkdir()
    for path in outputs:
        match = re.match(r"(sub-\d+)_ses-(\w+?)_block-(\d+)", path.name)
        participant, condition, block = match.groups()
        new = (
            study
            / "fits"
            / f"{participant.replace('-', '')}_{condition[:3]}_{block}_LCM_A{path.suffix}"
        )
        path.rename(new)
        times = "\t-8\t0" if block == "01" else "\t0\t6"
        lines.append(
            f"{participant}\t{condition}\t{int(block)}\tfits/{new.name}" + (times if timed else "")
        )
    if timed:
        for sidecar in study.glob("sub-*/ses-*/mrs/*_blocks.tsv"):
            sidecar.unlink()
    (study / "mrs_files.tsv").write_text("\n".join(lines) + "\n")
    return study


@pytest.mark.parametrize("timed", [False, True], ids=["sidecar_timing", "manifest_timing"])
def test_manifest_reads_any_names(tmp_path, reference, timed):
    study = manifest_study(tmp_path, timed=timed)
    tidy = read(study, "lcmodel_table")
    assert_same_values(tidy, reference)
    assert tidy["source_file"].str.match(r"^fits/sub0\d_\w+_LCM_A\.table$").all()
    inputs = layout.format_inputs(study, "lcmodel_table")
    assert str(study / "mrs_files.tsv") in inputs
    assert sum("/fits/" in p for p in inputs) == 8


def test_manifest_errors(tmp_path):
    study = manifest_study(tmp_path)
    manifest = study / "mrs_files.tsv"
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(
        InputError,
        match=r"^mrs_files\.tsv, line 10, column 'block': expected one row per spectrum "
        r"\(also on line 2\)",
    ):
        read(study, "lcmodel_table")
    manifest.write_text("\n".join([lines[0], lines[1].replace("fits/", "fit/"), *lines[2:]]) + "\n")
    with pytest.raises(
        InputError,
        match=r"^mrs_files\.tsv, line 2, column 'path': expected an existing "
        r"lcmodel_table output file, relative to the data folder",
    ):
        read(study, "lcmodel_table")
    osprey = copy("osprey", tmp_path)
    shutil.copyfile(manifest, osprey / "mrs_files.tsv")
    with pytest.raises(
        InputError,
        match=r"^mrs_files\.tsv, column 'mrs.format': expected no manifest with "
        r"mrs.format osprey",
    ):
        read(osprey, "osprey")


def test_manifest_for_a_per_session_format(tmp_path):
    study = copy("fsl_dynmrs", tmp_path)
    lines = ["participant_id\tcondition\tblock\tpath"]
    for folder in sorted(study.glob("sub-*/ses-*/mrs/*_fsl_dynmrs")):
        participant, condition = re.match(r"(sub-\d+)_ses-(\w+?)_fsl_dynmrs", folder.name).groups()
        new = study / f"dyn_{participant}_{condition}"
        folder.rename(new)
        lines += [f"{participant}\t{condition}\t{block}\t{new.name}" for block in (1, 2)]
    (study / "mrs_files.tsv").write_text("\n".join(lines) + "\n")
    assert_same_values(read(study, "fsl_dynmrs"), read(FIXTURES / "fsl_dynmrs", "fsl_dynmrs"))
    inputs = layout.format_inputs(study, "fsl_dynmrs")
    assert sum(p.endswith("mapped_parameters.csv") and "/dyn_sub-" in p for p in inputs) == 4
    assert "dyn_sub-01_naltrexone" in lines[2]
    lines[2] = lines[2].replace("dyn_sub-01_naltrexone", "dyn_sub-01_placebo")
    (study / "mrs_files.tsv").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputError,
        match=r"^mrs_files\.tsv, line 3, column 'path': expected the session's one "
        r"output folder on every row",
    ):
        read(study, "fsl_dynmrs")


# ---------------------------------------------------------------------------------------------
# Osprey


def test_osprey_lcmodel_mode_names_and_crlb_table(reference):
    tidy = read(FIXTURES / "osprey_lcmodel", "osprey")
    assert_same_values(
        tidy,
        reference,
        columns=("concentration", "crlb_percent", "ratio_to_tcr", "fwhm_ppm", "snr"),
    )
    assert {"Glu_Gln", "NAA_NAAG", "Cr_PCr"} <= set(tidy["tool_metabolite"])
    assert not {"Glx", "tNAA", "tCr"} & set(
        tidy["tool_metabolite"]
    )  # Osprey's appended sums: LCModel's kept


def test_osprey_edited_sub_spectrum_is_a_setting(tmp_path):
    study = copy("osprey", tmp_path)
    results = study / "osprey" / "QuantifyResults"
    for path in sorted(results.glob("A_*")):
        path.rename(results / path.name.replace("A_", "diff1_", 1))
        shutil.copyfile(
            results / path.name.replace("A_", "diff1_", 1),
            results / path.name.replace("A_", "sum_", 1),
        )
    with pytest.raises(
        InputError,
        match=r"^osprey/QuantifyResults/, column 'amplMets': expected Osprey's amplMets "
        r"table of the unedited sub-spectrum \(A or off\).*set mrs.osprey_subspectrum "
        r"to one of the sub-spectra found, got \"sub-spectra \['diff1', 'sum'\]\"",
    ):
        read(study, "osprey")
    tidy = read(study, "osprey", osprey_subspectrum="diff1")
    assert_same_values(
        tidy, read(FIXTURES / "osprey", "osprey"), columns=("concentration", "ratio_to_tcr")
    )
    assert (
        tidy["source_file"].iloc[0] == "osprey/QuantifyResults/diff1_amplMets_Voxel_1_Basis_1.tsv"
    )
    assert any("diff1_tCr" in p for p in layout.format_inputs(study, "osprey", "diff1"))
    with pytest.raises(InputError, match=r"of sub-spectrum diff2"):
        read(study, "osprey", osprey_subspectrum="diff2")


# ---------------------------------------------------------------------------------------------
# fsl_dynmrs


def test_dyn_cov_gives_the_crlb_of_sums(reference):
    tidy = read(FIXTURES / "fsl_dynmrs_cov", "fsl_dynmrs")
    assert_same_values(tidy, reference, columns=("concentration", "crlb_percent"))
    sums = tidy[tidy["metabolite"].isin(["Glx", "tNAA", "tCr"]) & ~tidy["crlb_undetermined"]]
    assert len(sums) and sums["crlb_percent"].notna().all()


def test_dyn_cov_with_fsl_dynmrs_names_gives_finite_crlbs_of_glx_and_tnaa():
    """dyn_cov.csv as fsl_dynmrs writes it (conc_<m>_t<k>): finite %CRLB for Glx and tNAA."""
    header = (FIXTURES / "fsl_dynmrs_cov").glob("sub-*/ses-*/mrs/*/dyn_cov.csv")
    assert all("conc_Glu_t1," in path.read_text().splitlines()[0] for path in header)
    tidy = read(FIXTURES / "fsl_dynmrs_cov", "fsl_dynmrs")
    sums = tidy[tidy["metabolite"].isin(["Glx", "tNAA"]) & ~tidy["crlb_undetermined"]]
    assert len(sums) == 15 and np.isfinite(sums["crlb_percent"]).all()


def test_dyn_cov_of_a_fixed_concentration_is_named_without_time_point():
    """A 'fixed' concentration is one free parameter conc_<m> for every time point."""
    covariance = {
        ("conc_Glu", "conc_Glu"): 0.04,
        ("conc_Gln_t1", "conc_Gln_t1"): 0.05,
        ("conc_Glu", "conc_Gln_t1"): 0.01,
        ("conc_Gln_t1", "conc_Glu"): 0.01,
    }
    sd = _sum_sd(covariance, 1)
    parts = [Measure(name, 1.0, 5.0, False, None, "line 3") for name in ("Glu", "Gln")]
    assert sd(parts) == pytest.approx(0.11**0.5)
    assert np.isnan(_sum_sd(covariance, 0)(parts))  # no conc_Gln_t0: not evaluated


def test_per_transient_fits_need_the_aggregation_setting(reference):
    with pytest.raises(
        InputError,
        match=r"mapped_parameters\.csv, line 1, column 'time': expected one time point "
        r"per block \(block 1 has 3: set mrs.dynmrs_aggregate to mean",
    ):
        read(FIXTURES / "fsl_dynmrs_transients", "fsl_dynmrs")
    tidy = read(FIXTURES / "fsl_dynmrs_transients", "fsl_dynmrs", dynmrs_aggregate="mean")
    base = read(FIXTURES / "fsl_dynmrs", "fsl_dynmrs")
    assert_same_values(tidy, base, columns=("concentration", "crlb_percent"))


def test_time_points_in_minutes_map_to_blocks(tmp_path):
    """Per-transient times in minutes (-6, -4, -2 in block 1; 1, 3, 5 in block 2), mrs.dynmrs_time
    minutes."""
    study = copy("fsl_dynmrs_transients", tmp_path)
    minutes = {"0.0": ["-6.0", "-4.0", "-2.0"], "1.0": ["1.0", "3.0", "5.0"]}
    for path in study.glob("sub-*/ses-*/mrs/*/mapped_parameters.csv"):
        lines = path.read_text().splitlines()
        cells, stats = lines[0].split(","), lines[1].split(",")
        seen = {}
        for index in range(1, len(cells)):
            k = seen.setdefault((cells[index], stats[index]), 0)
            seen[(cells[index], stats[index])] += 1
            cells[index] = minutes[cells[index]][k]
        path.write_text("\n".join([",".join(cells), *lines[1:]]) + "\n")
    tidy = read(study, "fsl_dynmrs", dynmrs_time="minutes", dynmrs_aggregate="mean")
    assert_same_values(
        tidy, read(FIXTURES / "fsl_dynmrs", "fsl_dynmrs"), columns=("concentration",)
    )
    with pytest.raises(InputError, match=r"expected 2 distinct time values, one per block .*got 6"):
        read(study, "fsl_dynmrs", dynmrs_aggregate="mean")
    sidecar = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_blocks.tsv"
    sidecar.write_text(sidecar.read_text().replace("2\t0.0\t6.0", "2\t0.0\t4.0"))
    with pytest.raises(
        InputError,
        match=r"column 'time': expected a time in minutes inside a block of "
        r".*blocks\.tsv \(mrs.dynmrs_time minutes\), got 5\.0",
    ):
        read(study, "fsl_dynmrs", dynmrs_time="minutes", dynmrs_aggregate="mean")


def negative_naag(tmp_path):
    """fsl_dynmrs does not bound amplitudes: NAAG of sub-01 placebo block 2 fitted below zero."""
    study = copy("fsl_dynmrs", tmp_path)
    path = study / "sub-01/ses-placebo/mrs/sub-01_ses-placebo_fsl_dynmrs/mapped_parameters.csv"
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("conc_NAAG,"))
    cells = lines[row].split(",")
    naa = float(next(line for line in lines if line.startswith("conc_NAA,")).split(",")[3])
    cells[3] = repr(-(naa - 0.00018))  # tNAA = 0.00018: Glx/tNAA in the thousands
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return study


def test_a_sum_with_a_negative_part_is_undetermined(tmp_path):
    tidy = read(negative_naag(tmp_path), "fsl_dynmrs")
    spectrum = tidy[
        (tidy["participant_id"] == "sub-01")
        & (tidy["condition"] == "placebo")
        & (tidy["block"] == 2)
    ]
    tnaa = spectrum[spectrum["metabolite"] == "tNAA"].iloc[0]
    assert tnaa["concentration"] == pytest.approx(0.00018) and tnaa["crlb_undetermined"]
    spectra = spectrum_table(tidy, "Glx", "tNAA")
    row = spectra[
        (spectra["participant_id"] == "sub-01")
        & (spectra["condition"] == "placebo")
        & (spectra["block"] == 2)
    ].iloc[0]
    assert pd.isna(row["ratio"]) and row["reason"].startswith("tNAA undetermined: part NAAG = -")


def test_an_implausible_denominator_is_flagged_with_its_reason(tmp_path):
    tidy = read(FIXTURES / "tidy_tsv", "tidy_tsv")
    where = (
        (tidy["participant_id"] == "sub-01")
        & (tidy["condition"] == "placebo")
        & (tidy["block"] == 1)
        & (tidy["metabolite"] == "tNAA")
    )
    tidy.loc[where, "concentration"] = 0.05
    spectra = spectrum_table(tidy, "Glx", "tNAA")
    reason = spectra.loc[
        (spectra["participant_id"] == "sub-01")
        & (spectra["condition"] == "placebo")
        & (spectra["block"] == 1),
        "reason",
    ].iloc[0]
    assert re.match(r"^tNAA implausible: 0\.05 is below 10% of the study median \d", reason), reason
    tidy.loc[where, "concentration"] = -1.0
    spectra = spectrum_table(tidy, "Glx", "tNAA")
    assert "tNAA concentration not positive" in spectra["reason"].tolist()


def test_a_spectrum_with_no_quality_criterion_evaluated_is_marked():
    tidy = read(FIXTURES / "fsl_dynmrs", "fsl_dynmrs")
    spectra = spectrum_table(tidy, "Glx", "tNAA").assign(phase="baseline")
    table = apply_qc(spectra, qc_flags(spectra, THRESHOLDS), THRESHOLDS["exclude_on"])
    assert table["quality_not_evaluated"].all() and table["included"].any()
    cov = read(FIXTURES / "fsl_dynmrs_cov", "fsl_dynmrs")
    spectra = spectrum_table(cov, "Glx", "tNAA").assign(phase="baseline")
    table = apply_qc(spectra, qc_flags(spectra, THRESHOLDS), THRESHOLDS["exclude_on"])
    assert not table.loc[
        table["included"], "quality_not_evaluated"
    ].any()  # %CRLB of the sums evaluated


def test_a_ratio_metabolite_no_fit_reports_is_named():
    tidy = read(FIXTURES / "lcmodel_table", "lcmodel_table")
    with pytest.raises(
        InputError,
        match=r"^results/tidy/mrs_long\.tsv, column 'mrs.ratio.denominator': expected a "
        r"metabolite some fit output reports; searched 8 fit outputs in data_dir "
        r"\(sub-01/ses-naltrexone/mrs/.*, \.\.\.\), which report .*NAAG.*, got 'tCho'",
    ):
        spectrum_table(tidy, "Glx", "tCho")
