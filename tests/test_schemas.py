"""The schemas of the tables the stages hand to each other (common/schemas.py): a good table
passes with its columns converted to their kinds; each kind of fault is one line naming the file,
the line and participant, the column and what was expected; a step fed a broken table exits 1
and leaves no output (the contract of step.run_step, as tests/test_bad_input.py checks it for the
raw files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crossover_fmrs.common import schemas
from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.schemas import read_checked, validate
from crossover_fmrs.common.tables import write_parquet, write_tsv

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
CONDITIONS = ["placebo", "naltrexone"]
SCALES = {"MADRS": {"timepoints": ["pre", "day1"]}, "CADSS": {"timepoints": ["pre", "post"]}}
BLOCKS = {1: (-8.0, 0.0), 2: (0.0, 6.0)}
CONCENTRATIONS = {"Glx": 12.0, "tNAA": 9.0, "tCr": 7.0}


def mrs_long() -> pd.DataFrame:
    rows = [
        {
            "participant_id": pid,
            "condition": condition,
            "block": block,
            "onset_min": onset,
            "offset_min": offset,
            "metabolite": metabolite,
            "tool_metabolite": metabolite,
            "concentration": value + 0.1 * block + (condition == "placebo"),
            "crlb_percent": 5.0,
            "crlb_undetermined": False,
            "ratio_to_tcr": value / 7.0,
            "fwhm_ppm": 0.05,
            "snr": 20.0,
            "snr_definition": "test",
            "source_tool": "test",
            "source_file": f"{pid}_{condition}_{block}.table",
        }
        for pid in ("sub-01", "sub-02")
        for condition in CONDITIONS
        for block, (onset, offset) in BLOCKS.items()
        for metabolite, value in CONCENTRATIONS.items()
    ]
    return pd.DataFrame(rows)


def spectra() -> pd.DataFrame:
    rows = [
        {
            "participant_id": pid,
            "condition": condition,
            "block": block,
            "onset_min": onset,
            "offset_min": offset,
            "numerator": "Glx",
            "denominator": "tNAA",
            "ratio": 1.3 if pid != "sub-02" or block != 2 else np.nan,
            "fwhm_ppm": 0.05,
            "snr": 20.0,
            "numerator_crlb_percent": 5.0,
            "denominator_crlb_percent": 3.0,
            "phase": "baseline" if offset <= 0 else "infusion",
            "flags": "",
            "excluded_by": "",
            "included": True,
        }
        for pid in ("sub-01", "sub-02")
        for condition in CONDITIONS
        for block, (onset, offset) in BLOCKS.items()
    ]
    return pd.DataFrame(rows)


def scores() -> pd.DataFrame:
    rows = [
        {
            "participant_id": pid,
            "condition": condition,
            "timepoint": timepoint,
            "hours_from_infusion": np.nan,
            "scale": scale,
            "outcome": scale,
            "value": 20.0 if timepoint == "pre" else np.nan,
        }
        for pid in ("sub-01", "sub-02")
        for condition in CONDITIONS
        for scale, spec in SCALES.items()
        for timepoint in spec["timepoints"]
    ]
    return pd.DataFrame(rows)


def participants() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02"],
            "sex": ["M", "F"],
            "age": [30, 41],
            "order": ["placebo-naltrexone", "naltrexone-placebo"],
            "hamd17_screening": [22, 24],
        }
    )


def written(tmp_path, frame: pd.DataFrame, name: str) -> Path:
    path = tmp_path / name
    (write_parquet if name.endswith(".parquet") else write_tsv)(frame, path)
    return path


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """One cell of a TSV, by its line number in the file."""
    lines = path.read_text().split("\n")
    fields = lines[line - 1].split("\t")
    fields[lines[0].split("\t").index(column)] = value
    lines[line - 1] = "\t".join(fields)
    path.write_text("\n".join(lines))


def message_of(path: Path, schema) -> str:
    with pytest.raises(InputError) as caught:
        read_checked(path, schema)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------
# Good tables


@pytest.mark.parametrize(
    "make, schema, name",
    [
        (mrs_long, schemas.mrs_long_schema(CONDITIONS), "mrs_long.tsv"),
        (mrs_long, schemas.mrs_long_schema(), "mrs_long.parquet"),
        (spectra, schemas.spectra_schema(CONDITIONS), "mrs_spectra.tsv"),
        (spectra, schemas.spectra_schema(CONDITIONS), "mrs_spectra.parquet"),
        (scores, schemas.clinical_scores_schema(CONDITIONS, SCALES), "clinical_scores.tsv"),
        (participants, schemas.participants_schema(CONDITIONS), "participants.tsv"),
    ],
)
def test_a_good_table_passes_with_its_columns_of_their_kinds(tmp_path, make, schema, name):
    path = written(tmp_path, make(), name)
    table = read_checked(path, schema)
    assert table.attrs["source"] == str(path)
    for column, spec in schema.columns.items():
        if column in table and spec.dtype is not None:
            assert str(table[column].dtype) in (str(spec.dtype), "str"), column
    assert table["participant_id"].tolist() == make()["participant_id"].tolist()
    if "hamd17_screening" in table:  # a column the schema does not name passes as it is
        assert table["hamd17_screening"].tolist() == [22, 24]


def test_missing_values_stay_missing(tmp_path):
    table = read_checked(written(tmp_path, scores(), "s.tsv"), schemas.clinical_scores_schema())
    assert table["value"].isna().sum() == scores()["value"].isna().sum() > 0


def test_the_pipelines_own_qc_tables_pass(tmp_path):
    """The QC stage's spectra and flags of a small study are what their schemas describe."""
    from crossover_fmrs.qc.mrs import apply_qc, mark_phase, qc_flags, spectrum_table

    thresholds = CONFIG["qc"]["mrs"]
    table = spectrum_table(mrs_long(), "Glx", "tNAA")
    table = mark_phase(table, [1])
    flags = qc_flags(table, thresholds)
    table = apply_qc(table, flags, thresholds["exclude_on"])
    read_checked(written(tmp_path, table, "mrs_spectra.tsv"), schemas.spectra_schema(CONDITIONS))
    read_checked(written(tmp_path, flags, "mrs_qc_flags.tsv"), schemas.qc_flags_schema(CONDITIONS))


# ---------------------------------------------------------------------------------------------
# Each fault, one line naming file, row, column and what was expected


def test_a_boolean_is_true_or_false_in_any_case(tmp_path):
    path = written(tmp_path, spectra(), "mrs_spectra.tsv")
    set_cell(path, 2, "included", "true")
    set_cell(path, 3, "included", "FALSE")
    table = read_checked(path, schemas.spectra_schema(CONDITIONS))
    assert table["included"].dtype == bool and table["included"].tolist()[:2] == [True, False]
    set_cell(path, 5, "included", "maybe")
    message = message_of(path, schemas.spectra_schema(CONDITIONS))
    assert "line 5 (sub-01), column 'included': expected True or False, got 'maybe'" in message


BAD_CELLS = [  # (table, file, schema, line, column, value written, what the message says)
    (
        spectra,
        "mrs_spectra.tsv",
        schemas.spectra_schema(CONDITIONS),
        4,
        "block",
        "two",
        "line 4 (sub-01), column 'block': expected a whole number, got 'two'",
    ),
    # a fraction is refused, not truncated
    (
        spectra,
        "mrs_spectra.tsv",
        schemas.spectra_schema(CONDITIONS),
        3,
        "block",
        "2.5",
        "line 3 (sub-01), column 'block': expected a whole number, got '2.5'",
    ),
    (
        spectra,
        "mrs_spectra.tsv",
        schemas.spectra_schema(CONDITIONS),
        3,
        "onset_min",
        "NA",
        "line 3 (sub-01), column 'onset_min': expected a number (not missing), got 'NA'",
    ),
    (
        mrs_long,
        "mrs_long.tsv",
        schemas.mrs_long_schema(CONDITIONS),
        8,
        "condition",
        "ketamine",
        "line 8 (sub-01), column 'condition': expected one of placebo, naltrexone "
        "(the configured conditions), got 'ketamine'",
    ),
    (
        scores,
        "clinical_scores.tsv",
        schemas.clinical_scores_schema(CONDITIONS, SCALES),
        6,
        "timepoint",
        "NA",
        "line 6 (sub-01), column 'timepoint': expected text (not missing), got 'NA'",
    ),
]


@pytest.mark.parametrize("make, name, schema, line, column, value, expected", BAD_CELLS)
def test_a_bad_cell_is_named_by_file_line_participant_and_column(
    tmp_path, make, name, schema, line, column, value, expected
):
    path = written(tmp_path, make(), name)
    set_cell(path, line, column, value)
    assert message_of(path, schema) == f"{path}, {expected}"


def test_a_missing_column_is_named(tmp_path):
    path = written(tmp_path, spectra().drop(columns="ratio"), "mrs_spectra.tsv")
    message = message_of(path, schemas.spectra_schema(CONDITIONS))
    assert (
        f"{path}, line 1, column 'ratio': expected a column of this name in the header" in message
    )


def test_a_duplicate_key_names_both_lines(tmp_path):
    frame = spectra()
    frame.loc[5, ["condition", "block"]] = ["placebo", 2]  # sub-02's naltrexone row -> placebo
    frame.loc[5, "participant_id"] = "sub-01"
    path = written(tmp_path, frame, "mrs_spectra.tsv")
    message = message_of(path, schemas.spectra_schema(CONDITIONS))
    assert message == (
        f"{path}, line 7 (sub-01), column 'participant_id, condition, block': expected one row "
        "per participant_id x condition x block (also on line 3), got 'sub-01, placebo, 2'"
    )


def test_a_time_point_of_another_scale_is_named(tmp_path):
    path = written(tmp_path, scores(), "clinical_scores.tsv")
    set_cell(path, 4, "timepoint", "day1")  # CADSS has pre and post
    message = message_of(path, schemas.clinical_scores_schema(CONDITIONS, SCALES))
    assert message.startswith(f"{path}, line 4 (sub-01), column 'timepoint': expected a time point")
    assert "CADSS: pre, post" in message and message.endswith("got 'day1'")


def test_a_parquet_table_names_the_row(tmp_path):
    frame = mrs_long()
    frame.loc[2, "condition"] = "ketamine"
    path = written(tmp_path, frame, "mrs_long.parquet")
    message = message_of(path, schemas.mrs_long_schema(CONDITIONS))
    assert message.startswith(f"{path}, row 3 (sub-01), column 'condition'")


def test_a_tsv_with_a_short_line_is_refused_before_parsing(tmp_path):
    path = written(tmp_path, spectra(), "mrs_spectra.tsv")
    lines = path.read_text().split("\n")
    lines[4] = lines[4].rsplit("\t", 1)[0]
    path.write_text("\n".join(lines))
    message = message_of(path, schemas.spectra_schema(CONDITIONS))
    assert message == f"{path}, line 5: expected 16 tab-separated fields, got 15"


def test_a_frame_in_memory_names_rows(tmp_path):
    frame = participants()
    frame.loc[1, "sex"] = "X"
    with pytest.raises(InputError) as caught:
        validate(frame, schemas.participants_schema(CONDITIONS), "participants")
    assert str(caught.value) == (
        "participants, row 2 (sub-02), column 'sex': expected one of M, F, got 'X'"
    )


def test_validation_is_linear_and_vectorised():
    """No per-row Python: ten times the rows cost far less than a hundred times the time."""
    import time

    base = mrs_long()
    schema = schemas.mrs_long_schema(CONDITIONS)

    def timed(copies: int) -> float:
        frame = pd.concat(
            [base.assign(participant_id=base["participant_id"] + f"x{k}") for k in range(copies)],
            ignore_index=True,
        )
        start = time.perf_counter()
        validate(frame, schema)
        return time.perf_counter() - start

    timed(10)  # warm up
    assert timed(2_000) < 20 * timed(200) + 1.0


# ---------------------------------------------------------------------------------------------
# A step fed a broken table


def run(script: str, inputs: dict, outputs: dict, params: dict):
    command = [sys.executable, str(ROOT / "scripts" / script)]
    for name, path in inputs.items():
        command += ["--input", f"{name}={path}"]
    for name, path in outputs.items():
        command += ["--output", f"{name}={path}"]
    command += ["--params", json.dumps(params)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def assert_failed_in_one_line(result, out: Path, *needles: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


QC_PARAMS = {
    "ratio": {"numerator": "Glx", "denominator": "tNAA"},
    "baseline_blocks": [1],
    "thresholds": CONFIG["qc"]["mrs"],
}


def test_qc_step_runs_on_a_good_table_and_fails_on_a_duplicate_key(tmp_path):
    out = tmp_path / "out"
    outputs = {"spectra": out / "mrs_spectra.parquet", "flags": out / "mrs_qc_flags.parquet"}
    good = written(tmp_path, mrs_long(), "mrs_long.parquet")
    result = run("qc_mrs.py", {"mrs": good}, outputs, QC_PARAMS)
    assert result.returncode == 0, result.stderr
    for path in outputs.values():
        path.unlink()
    frame = mrs_long()
    broken = written(tmp_path, pd.concat([frame, frame.iloc[[3]]], ignore_index=True), "b.tsv")
    result = run("qc_mrs.py", {"mrs": broken}, outputs, QC_PARAMS)
    assert_failed_in_one_line(
        result,
        out,
        "b.tsv, line 26 (sub-01)",
        "column 'participant_id, condition, block, metabolite'",
        "also on line 5",
    )


def test_figure_step_fed_an_unknown_condition_fails_without_output(tmp_path):
    out = tmp_path / "out"
    frame = spectra()
    frame.loc[3, "condition"] = "ketamine"
    path = written(tmp_path, frame, "mrs_spectra.parquet")
    figures = CONFIG["figures"]
    params = {
        "conditions": CONDITIONS,
        "infusion_window_min": figures["infusion_window_min"],
        "labels": figures["labels"],
        "synthetic": True,
        "dpi": 20,
        "max_side_px": figures["max_side_px"],
    }
    outputs = {kind: out / f"glx_timecourse.{kind}" for kind in ("png", "svg", "tsv")}
    outputs["page"] = out / "glx_timecourse.html"
    result = run("figure_glx_timecourse.py", {"spectra": path}, outputs, params)
    assert_failed_in_one_line(
        result, out, "mrs_spectra.parquet, row 4 (sub-01), column 'condition'", "'ketamine'"
    )
