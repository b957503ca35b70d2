"""The bad-input catalogue: each kind of malformed raw file, run through its ingest script.

Every case copies the embedded synthetic study to tmp_path, corrupts one thing, runs the
script as a user would (subprocess, command-line inputs/outputs) and checks the contract of
step.run_step: exit status 1, one line `error: <file>, <place>, column '<col>': expected ...`
on stderr, no output left behind, raw files untouched. Harmless variants (BOM, CRLF, trailing
blanks) must give byte-identical tidy tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from crossover_fmrs.ingest.clinical import scale_specs

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "data" / "synthetic"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
CONDITIONS = CONFIG["study"]["conditions"]
SCALES = scale_specs(CONFIG["clinical"]["scales"])

# Files corrupted below; their names are the study's own (BIDS-like) names.
TABLE = "sub-03/ses-placebo/mrs/sub-03_ses-placebo_block-02.table"
SIDECAR = "sub-03/ses-placebo/mrs/sub-03_ses-placebo_blocks.tsv"
MADRS = "clinical/madrs.tsv"


# ---------------------------------------------------------------------------------------------
# Running a script


def outputs(script: str, out: Path) -> dict[str, Path]:
    if script == "participants":
        return {
            "participants": out / "participants.tsv",
            "columns": out / "participant_columns.tsv",
        }
    if script == "mrs":
        return {"mrs": out / "mrs_long.tsv"}
    return {"item_scores": out / "clinical_items.tsv", "scores": out / "clinical_scores.tsv"}


def params(script: str, study: Path) -> dict:
    if script == "participants":
        return {"conditions": CONDITIONS}
    if script == "mrs":
        return {
            "data_dir": str(study),
            "conditions": CONDITIONS,
            "format": CONFIG["mrs"]["format"],
            "larmor_mhz": CONFIG["mrs"]["larmor_mhz"],
        }
    return {
        "clinical_dir": str(study / "clinical"),
        "scales": SCALES,
        "conditions": CONDITIONS,
        "madrs_max_missing_items": CONFIG["clinical"]["madrs_max_missing_items"],
    }


def run_script(script: str, study: Path, out: Path) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        str(ROOT / "scripts" / f"ingest_{script}.py"),
        "--input",
        f"participants={study / 'participants.tsv'}",
    ]
    for name, path in outputs(script, out).items():
        command += ["--output", f"{name}={path}"]
    command += ["--params", json.dumps(params(script, study))]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def tree_hash(folder: Path) -> str:
    """One digest of every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(
            path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return digest.hexdigest()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One snapshot of the synthetic study per run, so every case starts from the same bytes."""
    target = tmp_path_factory.mktemp("pristine") / "study"
    shutil.copytree(STUDY, target)
    return target


@pytest.fixture
def study(pristine, tmp_path):
    target = tmp_path / "study"
    shutil.copytree(pristine, target)
    return target


# ---------------------------------------------------------------------------------------------
# Editing helpers: each asserts that it changed what it meant to, so no case passes vacuously.


def read(study: Path, name: str) -> str:
    return (study / name).read_text(encoding="utf-8")


def write(study: Path, name: str, text: str) -> None:
    (study / name).write_bytes(text.encode("utf-8"))


def replace_once(study: Path, name: str, old: str, new: str) -> None:
    text = read(study, name)
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
    write(study, name, text.replace(old, new))


def line_of(study: Path, name: str, pattern: str) -> int:
    """1-based number of the only line matching a regular expression."""
    hits = [
        n
        for n, line in enumerate(read(study, name).splitlines(), start=1)
        if re.search(pattern, line)
    ]
    assert len(hits) == 1, f"{pattern!r} matches lines {hits} of {name}"
    return hits[0]


def edit_line(study: Path, name: str, number: int, edit) -> None:
    lines = read(study, name).split("\n")
    new = edit(lines[number - 1])
    assert new != lines[number - 1]
    lines[number - 1] = new
    write(study, name, "\n".join(lines))


def set_cell(study: Path, name: str, number: int, column: str, value: str) -> str:
    """Set one cell of a TSV (line number as in the file); returns the old value."""
    lines = read(study, name).split("\n")
    position = lines[0].split("\t").index(column)
    fields = lines[number - 1].split("\t")
    old, fields[position] = fields[position], value
    assert old != value
    lines[number - 1] = "\t".join(fields)
    write(study, name, "\n".join(lines))
    return old


def drop_column(study: Path, name: str, column: str) -> None:
    lines = read(study, name).split("\n")
    position = lines[0].split("\t").index(column)
    kept = [
        "\t".join(f for i, f in enumerate(line.split("\t")) if i != position) if line else line
        for line in lines
    ]
    write(study, name, "\n".join(kept))


def copy_session(
    study: Path, participant: str, condition: str, new_participant: str, new_condition: str
) -> None:
    """A session folder with its files renamed consistently (so only the new ID/condition is
    wrong)."""
    source = study / participant / f"ses-{condition}" / "mrs"
    target = study / new_participant / f"ses-{new_condition}" / "mrs"
    target.mkdir(parents=True)
    old, new = f"{participant}_ses-{condition}", f"{new_participant}_ses-{new_condition}"
    for path in sorted(source.iterdir()):
        shutil.copyfile(path, target / path.name.replace(old, new))


def madrs_row(study: Path, index: int) -> dict:
    """Line number and keys of the index-th data row of the MADRS sheet (0 = line 2)."""
    lines = read(study, MADRS).split("\n")
    header = lines[0].split("\t")
    fields = dict(zip(header, lines[index + 1].split("\t")))
    return {
        "line": index + 2,
        "pid": fields["participant_id"],
        "condition": fields["condition"],
        "timepoint": fields["timepoint"],
    }


# ---------------------------------------------------------------------------------------------
# The catalogue. Each corrupt(study) edits the copy and returns values for the expected
# substrings (line numbers are looked up, not hard-coded, so a regenerated dataset still works).


def truncated_table(study):
    text = read(study, TABLE)
    conc = line_of(study, TABLE, r"^\$\$CONC")
    n_rows = int(re.search(r"\$\$CONC\s*(\d+)", text).group(1)) - 1
    lines = text.split("\n")
    # cut in the middle of the 11th concentration row, as a copy that stopped short would
    write(study, TABLE, "\n".join(lines[: conc + 11]) + "\n" + lines[conc + 11][:12])
    return {"line": conc, "n_rows": n_rows}


def table_without_conc(study):
    conc = line_of(study, TABLE, r"^\$\$CONC")
    edit_line(study, TABLE, conc, lambda line: "")
    return {}


def table_non_numeric_sd(study):
    number = line_of(study, TABLE, r"\sGlu\s*$")
    edit_line(study, TABLE, number, lambda line: re.sub(r"\s\d+%", " n/a%", line, count=1))
    return {"line": number}


def table_without_fwhm(study):
    number = line_of(study, TABLE, r"FWHM")
    lines = read(study, TABLE).split("\n")
    del lines[number - 1]
    write(study, TABLE, "\n".join(lines))
    return {}


def empty_table(study):
    write(study, TABLE, "")
    return {}


def table_non_numeric_conc(study):
    number = line_of(study, TABLE, r"\sNAA\+NAAG\s*$")
    edit_line(study, TABLE, number, lambda line: line.replace(line.split()[0], "8.6.2", 1))
    return {"line": number}


def table_snr_overflow(study):
    number = line_of(study, TABLE, r"S/N")
    # Fortran prints asterisks when a value overflows its I4 field
    edit_line(study, TABLE, number, lambda line: re.sub(r"S/N =\s*\d+", "S/N =****", line))
    return {"line": number}


def table_without_sidecar_row(study):
    lines = read(study, SIDECAR).split("\n")
    kept = [line for line in lines if not line.startswith("2\t")]
    assert len(kept) == len(lines) - 1
    write(study, SIDECAR, "\n".join(kept))
    return {}


def sidecar_non_numeric_onset(study):
    number = line_of(study, SIDECAR, r"^3\t")
    set_cell(study, SIDECAR, number, "onset_min", "six")
    return {"line": number}


def sidecar_missing_column(study):
    drop_column(study, SIDECAR, "phase")
    return {}


def sidecar_missing(study):
    (study / SIDECAR).unlink()
    return {}


def sidecar_row_without_table(study):
    (study / TABLE).unlink()
    return {"line": line_of(study, SIDECAR, r"^2\t")}


def unknown_participant_folder(study):
    copy_session(study, "sub-01", "placebo", "sub-99", "placebo")
    return {}


def unknown_condition_folder(study):
    copy_session(study, "sub-02", "placebo", "sub-02", "ketamine")
    return {}


def participants_unknown_sex(study):
    number = line_of(study, "participants.tsv", r"^sub-05\t")
    set_cell(study, "participants.tsv", number, "sex", "X")
    return {"line": number}


def participants_duplicate(study):
    first = line_of(study, "participants.tsv", r"^sub-05\t")
    number = line_of(study, "participants.tsv", r"^sub-06\t")
    set_cell(study, "participants.tsv", number, "participant_id", "sub-05")
    return {"line": number, "first": first}


def participants_non_numeric_age(study):
    number = line_of(study, "participants.tsv", r"^sub-07\t")
    set_cell(study, "participants.tsv", number, "age", "thirty")
    return {"line": number}


def participants_bad_order(study):
    number = line_of(study, "participants.tsv", r"^sub-08\t")
    set_cell(study, "participants.tsv", number, "order", f"{CONDITIONS[0]}-ketamine")
    return {"line": number}


def participants_repeated_column(study):
    replace_once(study, "participants.tsv", "\thamd17_screening\t", "\tage\t")
    return {}


def participants_missing_column(study):
    drop_column(study, "participants.tsv", "order")
    return {}


def participants_comma(study):
    write(study, "participants.tsv", read(study, "participants.tsv").replace("\t", ","))
    return {}


def participants_empty(study):
    write(study, "participants.tsv", "")
    return {}


def participants_missing(study):
    (study / "participants.tsv").unlink()
    return {}


def participants_latin1(study):
    number = line_of(study, "participants.tsv", r"^sub-09\t")
    lines = read(study, "participants.tsv").split("\n")
    lines[0] += "\tcomment"
    lines = [line + "\t" if 1 < n and line else line for n, line in enumerate(lines, start=1)]
    lines[number - 1] += "d\xe9clin"  # an accented word, saved by a spreadsheet as Latin-1
    (study / "participants.tsv").write_bytes("\n".join(lines).encode("latin-1"))
    return {"line": number}


def madrs_out_of_range(study):
    row = madrs_row(study, 10)
    set_cell(study, MADRS, row["line"], "madrs_03", "7")
    return row


def madrs_non_numeric(study):
    row = madrs_row(study, 13)
    set_cell(study, MADRS, row["line"], "madrs_05", "three")
    return row


def madrs_not_whole(study):
    row = madrs_row(study, 37)
    set_cell(study, MADRS, row["line"], "madrs_02", "2.5")
    return row


def madrs_nan_text(study):
    row = madrs_row(study, 40)
    set_cell(study, MADRS, row["line"], "madrs_08", "nan")
    return row


def madrs_duplicate_row(study):
    row = madrs_row(study, 43)
    lines = read(study, MADRS).rstrip("\n").split("\n")
    lines.append(lines[row["line"] - 1])
    write(study, MADRS, "\n".join(lines) + "\n")
    return {**row, "first": row["line"], "line": len(lines)}


def madrs_unknown_participant(study):
    row = madrs_row(study, 47)
    set_cell(study, MADRS, row["line"], "participant_id", "sub-27")
    return row


def madrs_unknown_timepoint(study):
    row = madrs_row(study, 51)
    set_cell(study, MADRS, row["line"], "timepoint", "day7")
    return row


def madrs_missing_item_column(study):
    drop_column(study, MADRS, "madrs_10")
    return {}


def madrs_ragged_row(study):
    row = madrs_row(study, 55)
    edit_line(study, MADRS, row["line"], lambda line: line.rsplit("\t", 1)[0])
    return row


def madrs_comma(study):
    write(study, MADRS, read(study, MADRS).replace("\t", ","))
    return {}


def sheet_missing(study):
    (study / "clinical" / SCALES["SHAPS"]["sheet"]).unlink()
    return {"sheet": SCALES["SHAPS"]["sheet"]}


def madrs_latin1(study):
    row = madrs_row(study, 60)
    lines = read(study, MADRS).split("\n")
    lines[0] += "\tcomment"
    lines = [line + "\t" if 1 < n and line else line for n, line in enumerate(lines, start=1)]
    lines[row["line"] - 1] += "agit\xe9"
    (study / MADRS).write_bytes("\n".join(lines).encode("latin-1"))
    return row


def table_junk_lines(study):
    """Lines of another file pasted after the $$INPU section: refused, never read in part."""
    text = read(study, TABLE)
    write(study, TABLE, text.rstrip("\n") + "\n" + "junk junk junk\n" * 1000)
    return {"line": len(text.rstrip("\n").split("\n")) + 1}


def table_long_preamble(study):
    write(study, TABLE, "junk\n" * 20 + read(study, TABLE))
    return {}


def participants_trailing_tab(study):
    text = read(study, "participants.tsv")
    write(
        study,
        "participants.tsv",
        "\n".join(line + "\t" if line else line for line in text.split("\n")),
    )
    return {"n": len(text.split("\n")[0].split("\t")) + 1}


def madrs_trailing_tab(study):
    text = read(study, MADRS)
    write(study, MADRS, "\n".join(line + "\t" if line else line for line in text.split("\n")))
    return {}


def sheet_header_only(study, scale="PSI"):
    name = "clinical/" + SCALES[scale]["sheet"]
    write(study, name, read(study, name).split("\n")[0] + "\n")
    return {"sheet": name, "scale": scale}


def manifest_unknown_path(study):
    write(
        study,
        "mrs_files.tsv",
        "participant_id\tcondition\tblock\tpath\nsub-01\tplacebo\t1\tfits/a.table\n",
    )
    return {}


def condition_absent_from_mrs(study):
    """Every ses-naltrexone folder gone: study.conditions names a condition no session has."""
    for folder in sorted(study.glob("sub-*/ses-naltrexone")):
        shutil.rmtree(folder)
    return {}


def condition_absent_from_clinical(study):
    for name in every(study, "clinical/*.tsv"):
        lines = read(study, name).split("\n")
        kept = [line for line in lines if "\tnaltrexone\t" not in line]
        assert len(kept) < len(lines), name
        write(study, name, "\n".join(kept))
    return {"n": len(every(study, "clinical/*.tsv"))}


# (id, script, corrupt, expected substrings of the error line, formatted with corrupt's values)
CASES = [
    (
        "table_truncated",
        "mrs",
        truncated_table,
        [
            TABLE,
            "line {line}",
            "column '$$CONC'",
            "expected {n_rows} concentration rows",
            "end of the file",
        ],
    ),
    (
        "table_without_conc",
        "mrs",
        table_without_conc,
        [TABLE, "lines 1-", "column '$$CONC'", "expected a line '$$CONC"],
    ),
    (
        "table_non_numeric_sd",
        "mrs",
        table_non_numeric_sd,
        [TABLE, "line {line}", "column '%SD'", "expected an integer followed by '%'", "n/a%"],
    ),
    (
        "table_without_fwhm_line",
        "mrs",
        table_without_fwhm,
        [TABLE, "lines ", "column 'FWHM'", "expected a line 'FWHM = x ppm    S/N = y'"],
    ),
    (
        "table_empty",
        "mrs",
        empty_table,
        [TABLE, "line 1", "expected an LCModel .table file", "empty file"],
    ),
    (
        "table_non_numeric_conc",
        "mrs",
        table_non_numeric_conc,
        [TABLE, "line {line}", "column 'Conc.'", "expected a number", "8.6.2"],
    ),
    (
        "table_snr_overflow",
        "mrs",
        table_snr_overflow,
        [TABLE, "line {line}", "column 'S/N'", "expected a number", "'****'"],
    ),
    (
        "table_without_sidecar_row",
        "mrs",
        table_without_sidecar_row,
        [TABLE, "block 2", "column 'block'", f"expected a row for block 2 in {SIDECAR}"],
    ),
    (
        "sidecar_non_numeric_onset",
        "mrs",
        sidecar_non_numeric_onset,
        [
            SIDECAR,
            "line {line}",
            "column 'onset_min'",
            "expected minutes from the start of the infusion",
            "six",
        ],
    ),
    (
        "sidecar_missing_column",
        "mrs",
        sidecar_missing_column,
        [SIDECAR, "line 1", "column 'phase'", "expected a column of this name in the header"],
    ),
    (
        "sidecar_missing",
        "mrs",
        sidecar_missing,
        [
            "sub-03/ses-placebo/mrs/sub-03_ses-placebo_block-01.table",
            "column 'block timing'",
            "expected a sidecar sub-03_ses-placebo_blocks.tsv",
        ],
    ),
    (
        "sidecar_row_without_table",
        "mrs",
        sidecar_row_without_table,
        [
            SIDECAR,
            "line {line}",
            "column 'block'",
            "expected a fit output sub-03_ses-placebo_block-02.table",
        ],
    ),
    (
        "unknown_participant_folder",
        "mrs",
        unknown_participant_folder,
        [
            "sub-99/ses-placebo/mrs/sub-99_ses-placebo_block-01.table",
            "column 'participant_id'",
            "expected a participant listed in participants.tsv",
            "'sub-99'",
        ],
    ),
    (
        "unknown_condition_folder",
        "mrs",
        unknown_condition_folder,
        [
            "sub-02/ses-ketamine/mrs/sub-02_ses-ketamine_block-01.table",
            "column 'condition'",
            "expected one of the configured conditions",
            "'ketamine'",
        ],
    ),
    (
        "participants_unknown_sex",
        "participants",
        participants_unknown_sex,
        ["participants.tsv", "line {line} (sub-05)", "column 'sex'", "expected one of M, F", "'X'"],
    ),
    (
        "participants_duplicate",
        "participants",
        participants_duplicate,
        [
            "participants.tsv",
            "line {line}",
            "column 'participant_id'",
            "expected each participant once",
            "also on line {first}",
            "'sub-05'",
        ],
    ),
    (
        "participants_non_numeric_age",
        "participants",
        participants_non_numeric_age,
        [
            "participants.tsv",
            "line {line} (sub-07)",
            "column 'age'",
            "expected a number of years",
            "'thirty'",
        ],
    ),
    (
        "participants_bad_order",
        "participants",
        participants_bad_order,
        [
            "participants.tsv",
            "line {line} (sub-08)",
            "column 'order'",
            "expected the configured conditions",
            "-ketamine'",
        ],
    ),
    (
        "participants_repeated_column",
        "participants",
        participants_repeated_column,
        ["participants.tsv", "line 1", "column 'age'", "expected each column name once"],
    ),
    (
        "participants_missing_column",
        "participants",
        participants_missing_column,
        [
            "participants.tsv",
            "line 1",
            "column 'order'",
            "expected a column of this name in the header",
        ],
    ),
    (
        "participants_comma_delimited",
        "participants",
        participants_comma,
        ["participants.tsv", "line 1", "expected tab-separated columns", "separated by commas"],
    ),
    (
        "participants_empty",
        "participants",
        participants_empty,
        ["participants.tsv", "line 1", "expected a tab-separated header row", "empty file"],
    ),
    (
        "participants_missing",
        "participants",
        participants_missing,
        ["participants.tsv", "expected a tab-separated file at this path", "no such file"],
    ),
    (
        "participants_latin1",
        "participants",
        participants_latin1,
        ["participants.tsv", "line {line}", "column 'comment'", "expected UTF-8 text", "0xe9"],
    ),
    (
        "participants_bad_in_other_script",
        "clinical",
        participants_unknown_sex,
        ["participants.tsv", "line {line} (sub-05)", "column 'sex'", "expected one of M, F"],
    ),
    (
        "madrs_item_out_of_range",
        "clinical",
        madrs_out_of_range,
        [
            MADRS,
            "line {line} ({pid}, {condition}, {timepoint})",
            "column 'madrs_03'",
            "expected a whole number 0-6 or an empty cell",
            "got 7",
        ],
    ),
    (
        "madrs_item_non_numeric",
        "clinical",
        madrs_non_numeric,
        [
            MADRS,
            "line {line} ({pid}, {condition}, {timepoint})",
            "column 'madrs_05'",
            "expected a number 0-6",
            "'three'",
        ],
    ),
    (
        "madrs_item_not_whole",
        "clinical",
        madrs_not_whole,
        [MADRS, "line {line} ({pid}", "column 'madrs_02'", "expected a whole number 0-6", "2.5"],
    ),
    (
        "madrs_item_nan_text",
        "clinical",
        madrs_nan_text,
        [MADRS, "line {line} ({pid}", "column 'madrs_08'", "or an empty cell (unrated)", "'nan'"],
    ),
    (
        "madrs_duplicate_row",
        "clinical",
        madrs_duplicate_row,
        [
            MADRS,
            "line {line} ({pid})",
            "expected one row per participant x condition x timepoint",
            "({condition}, {timepoint} also on line {first})",
        ],
    ),
    (
        "madrs_unknown_participant",
        "clinical",
        madrs_unknown_participant,
        [
            MADRS,
            "line {line}",
            "column 'participant_id'",
            "expected a participant listed in participants.tsv",
            "'sub-27'",
        ],
    ),
    (
        "madrs_unknown_timepoint",
        "clinical",
        madrs_unknown_timepoint,
        [MADRS, "line {line} ({pid})", "column 'timepoint'", "expected one of pre, day1", "'day7'"],
    ),
    (
        "madrs_missing_item_column",
        "clinical",
        madrs_missing_item_column,
        [MADRS, "line 1", "column 'madrs_10'", "expected a column of this name"],
    ),
    (
        "madrs_ragged_row",
        "clinical",
        madrs_ragged_row,
        [MADRS, "line {line}", "expected 14 tab-separated fields", "13"],
    ),
    (
        "madrs_comma_delimited",
        "clinical",
        madrs_comma,
        [MADRS, "line 1", "expected tab-separated columns", "separated by commas"],
    ),
    (
        "clinical_sheet_missing",
        "clinical",
        sheet_missing,
        ["clinical/{sheet}", "expected a clinical sheet", "no such file"],
    ),
    (
        "madrs_latin1",
        "clinical",
        madrs_latin1,
        [MADRS, "line {line}", "column 'comment'", "expected UTF-8 text", "0xe9"],
    ),
    (
        "table_junk_lines",
        "mrs",
        table_junk_lines,
        [
            TABLE,
            "line {line}",
            "expected only the lines each $$ section header counts",
            "'junk junk junk'",
        ],
    ),
    (
        "table_long_preamble",
        "mrs",
        table_long_preamble,
        [
            TABLE,
            "line 11",
            "expected at most 10 lines (version and title) before $$CONC",
            "'22 lines'",
        ],
    ),
    (
        "participants_trailing_tab",
        "participants",
        participants_trailing_tab,
        [
            "participants.tsv",
            "line 1",
            "expected a name for every column (a trailing tab",
            "column {n} without a name",
        ],
    ),
    (
        "madrs_trailing_tab",
        "clinical",
        madrs_trailing_tab,
        [MADRS, "line 1", "expected a name for every column (a trailing tab"],
    ),
    (
        "psi_sheet_header_only",
        "clinical",
        sheet_header_only,
        [
            "{sheet}",
            "line 2",
            "expected one row per participant x condition x timepoint (PSI is configured in "
            "clinical.scales",
            "'no rows'",
        ],
    ),
    (
        "madrs_sheet_header_only",
        "clinical",
        lambda study: sheet_header_only(study, "MADRS"),
        ["{sheet}", "line 2", "(MADRS is configured in clinical.scales", "'no rows'"],
    ),
    (
        "condition_absent_from_every_fmrs_session",
        "mrs",
        condition_absent_from_mrs,
        [
            "sub-*/ses-naltrexone/mrs/",
            "column 'condition'",
            "expected fMRS sessions of every condition in study.conditions",
            "'no session of naltrexone'",
        ],
    ),
    (
        "condition_absent_from_every_clinical_sheet",
        "clinical",
        condition_absent_from_clinical,
        [
            "clinical/madrs.tsv",
            "column 'condition'",
            "expected rows of every condition in study.conditions",
            "'no row of naltrexone in any of the {n} sheets of clinical.scales'",
        ],
    ),
    (
        "manifest_unknown_path",
        "mrs",
        manifest_unknown_path,
        [
            "mrs_files.tsv",
            "line 2",
            "column 'path'",
            "expected an existing lcmodel_table output file",
            "'fits/a.table'",
        ],
    ),
]


@pytest.mark.parametrize(
    "script, corrupt, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_fails_with_one_line(study, tmp_path, script, corrupt, expected):
    values = corrupt(study)
    before = tree_hash(study)
    out = tmp_path / "out"
    result = run_script(script, study, out)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for text in expected:
        assert text.format(**values) in lines[0], f"{text.format(**values)!r} not in {lines[0]!r}"
    # nothing written, not even a temporary file, and the raw study untouched
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    assert tree_hash(study) == before


def test_catalogue_size():
    assert len(CASES) >= 25
    assert len({case[0] for case in CASES}) == len(CASES)


# ---------------------------------------------------------------------------------------------
# Harmless variants: the same tidy output, byte for byte.


@pytest.fixture(scope="module")
def reference(pristine, tmp_path_factory):
    """Outputs of the three scripts on the untouched study."""
    out = tmp_path_factory.mktemp("reference")
    for script in ("participants", "mrs", "clinical"):
        result = run_script(script, pristine, out)
        assert result.returncode == 0, result.stderr
    return {
        name: path.read_bytes()
        for script in ("participants", "mrs", "clinical")
        for name, path in outputs(script, out).items()
    }


def every(study: Path, pattern: str) -> list[str]:
    names = sorted(path.relative_to(study).as_posix() for path in study.glob(pattern))
    assert names
    return names


def add_bom(study, names):
    for name in names:
        (study / name).write_bytes(b"\xef\xbb\xbf" + (study / name).read_bytes())


def to_crlf(study, names):
    for name in names:
        data = (study / name).read_bytes()
        assert b"\r" not in data
        (study / name).write_bytes(data.replace(b"\n", b"\r\n"))


def trailing_blanks(study, names):
    for name in names:
        text = read(study, name)
        write(study, name, "\n".join(line + "   " if line else line for line in text.split("\n")))


HARMLESS = [
    ("participants_bom", "participants", add_bom, "participants.tsv"),
    ("participants_crlf", "participants", to_crlf, "participants.tsv"),
    ("clinical_bom", "clinical", add_bom, "clinical/*.tsv"),
    ("clinical_crlf", "clinical", to_crlf, "clinical/*.tsv"),
    ("table_bom", "mrs", add_bom, "sub-*/ses-*/mrs/*.table"),
    ("table_crlf", "mrs", to_crlf, "sub-*/ses-*/mrs/*.table"),
    ("table_trailing_blanks", "mrs", trailing_blanks, "sub-*/ses-*/mrs/*.table"),
    (
        "sidecar_bom_crlf",
        "mrs",
        lambda s, n: (add_bom(s, n), to_crlf(s, n)),
        "sub-*/ses-*/mrs/*_blocks.tsv",
    ),
]


@pytest.mark.parametrize(
    "script, change, pattern", [case[1:] for case in HARMLESS], ids=[case[0] for case in HARMLESS]
)
def test_harmless_variant_gives_identical_output(
    study, tmp_path, reference, script, change, pattern
):
    change(study, every(study, pattern))
    out = tmp_path / "out"
    result = run_script(script, study, out)
    assert result.returncode == 0, result.stderr
    for name, path in outputs(script, out).items():
        assert path.read_bytes() == reference[name], name


# ---------------------------------------------------------------------------------------------
# A setting of the wrong type fails schema validation before any rule runs.


def dry_run_with(tmp_path: Path, change, *targets: str) -> subprocess.CompletedProcess:
    """A dry run of the workflow (its default target, or targets) with config.yaml changed by
    change(config)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    change(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    snakemake = Path(sys.executable).with_name("snakemake")
    if not snakemake.exists():
        snakemake = shutil.which("snakemake")
    return subprocess.run(
        [str(snakemake), *targets, "--cores", "1", "-n", "--nolock", "--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_power_grid_cells_are_what_they_say(tmp_path):
    """Effects that differ get their own cells (0.5 and 0.5000001, and 1e-7); the same number
    twice, or text, is refused in one line."""

    def grid(effects):
        return lambda config: config["power"].update(
            effects=effects, planning_effect=effects[0], n_participants=[12], session_sd=[]
        )

    result = dry_run_with(tmp_path, grid([0.5, 0.5000001, 1e-7]), "power")
    assert result.returncode == 0, result.stderr[-2000:]
    cells = set(re.findall(r"chunks/(n12_effect[^_]+)_session", result.stdout))
    assert cells == {"n12_effect0.5", "n12_effect0.5000001", "n12_effect1e-07"}
    result = dry_run_with(tmp_path, grid([0.5, 1, 1.0]), "power")
    assert result.returncode == 1
    expected = "error: config, column 'power.effects': expected each value once, got [1, 1.0]"
    assert expected in result.stderr.splitlines(), result.stderr
    result = dry_run_with(tmp_path, grid([0.5, "x"]), "power")  # the schema's check
    assert result.returncode != 0 and "'x' is not of type 'number'" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_config_threshold_of_wrong_type_fails_validation(tmp_path):
    result = dry_run_with(tmp_path, lambda config: config["qc"]["mrs"].update(max_fwhm_ppm="0.1"))
    text = result.stdout + result.stderr
    assert result.returncode != 0, text
    assert "max_fwhm_ppm" in text, text
    assert "'0.1' is not of type 'number'" in text, text


# ---------------------------------------------------------------------------------------------
# Where the error line goes, and how it names files (issue 12).


def test_error_stands_on_its_own_console_line_with_working_directory_paths(pristine, tmp_path):
    """Under Snakemake stderr is the log: the console line starts on a new line (not glued to the
    progress text), and fMRS files are named like every other file, from the working directory."""
    work = tmp_path / "work"
    shutil.copytree(pristine, work / "study")
    truncated_table(work / "study")
    log = tmp_path / "ingest_mrs.log"
    command = [
        sys.executable,
        str(ROOT / "scripts" / "ingest_mrs.py"),
        "--input",
        f"participants={work / 'study' / 'participants.tsv'}",
        "--output",
        f"mrs={tmp_path / 'out' / 'mrs_long.tsv'}",
        "--log",
        str(log),
        "--params",
        json.dumps({**params("mrs", Path("study")), "data_dir": "study"}),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("\nerror: study/" + TABLE + ", line "), result.stderr
    assert log.read_text().splitlines()[-1] == result.stderr.strip()
    # a file given with an absolute path is named from the working directory too
    (work / "study" / "participants.tsv").write_text("")
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert result.stderr.startswith("\nerror: study/participants.tsv, line 1"), result.stderr


def test_a_described_column_that_is_dropped_is_a_warning_in_the_log_and_a_record(
    study, tmp_path, reference
):
    drop_column(study, "participants.tsv", "hamd17_screening")
    log = tmp_path / "participants.log"
    out = tmp_path / "out"
    command = [
        sys.executable,
        str(ROOT / "scripts" / "ingest_participants.py"),
        "--input",
        f"participants={study / 'participants.tsv'}",
        "--output",
        f"participants={out / 'participants.tsv'}",
        "--output",
        f"columns={out / 'participant_columns.tsv'}",
        "--log",
        str(log),
        "--params",
        json.dumps(params("participants", study)),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "warning: participants.json describes column 'hamd17_screening', "
        "which participants.tsv lacks: "
        "Table 1 (baseline_characteristics.tsv) has no row for it"
    ]
    record = pd.read_csv(
        out / "participant_columns.tsv", sep="\t", keep_default_na=False
    ).set_index("column")
    assert record.loc["hamd17_screening", "note"] == (
        "described in participants.json but absent from participants.tsv: Table 1 has no row for it"
    )
    assert not record.loc["hamd17_screening", "in_table"] and record.loc["age", "in_table"]


def test_reference_condition_outside_the_conditions_fails_validation(tmp_path):
    result = dry_run_with(
        tmp_path, lambda config: config["study"].update(reference_condition="ketamine")
    )
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).splitlines()
    assert (
        "error: config, column 'study.reference_condition': expected one of study.conditions "
        "['placebo', 'naltrexone'], got 'ketamine'" in lines
    )
    assert "Traceback" not in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# Study-level cases past ingest: the sex models of a tiny study, a spectrum without Glu+Gln.

RULE_PARAMS = {
    "qc_mrs": {
        "ratio": CONFIG["mrs"]["ratio"],
        "baseline_blocks": CONFIG["mrs"]["baseline_blocks"],
        "thresholds": CONFIG["qc"]["mrs"],
    },
    "stats_sex": {
        "ddf": CONFIG["stats"]["ddf"],
        "glx_formula": CONFIG["stats"]["glx_formula"],
        "clinical_formula": CONFIG["stats"]["clinical_formula"],
        "glx_sex_formula": CONFIG["stats"]["glx_sex_formula"],
        "clinical_sex_formula": CONFIG["stats"]["clinical_sex_formula"],
        "primary_outcome": CONFIG["stats"]["primary_outcome"],
        "timepoints": {spec["name"]: spec["timepoints"] for spec in CONFIG["clinical"]["scales"]},
        "conditions": CONDITIONS,
        "reference": CONFIG["study"]["reference_condition"],
        "outcome": "{numerator}/{denominator}".format(**CONFIG["mrs"]["ratio"]),
    },
}


def run_rule_script(name: str, inputs: dict, outputs: dict) -> subprocess.CompletedProcess:
    """A QC or statistics script on the tidy tables, with the params its rule gives it."""
    command = [sys.executable, str(ROOT / "scripts" / f"{name}.py")]
    for key, path in inputs.items():
        command += ["--input", f"{key}={path}"]
    for key, path in outputs.items():
        command += ["--output", f"{key}={path}"]
    command += ["--params", json.dumps(RULE_PARAMS[name])]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def ingest_and_qc(study: Path, out: Path) -> dict[str, Path]:
    tidy = {}
    for script in ("participants", "mrs", "clinical"):
        result = run_script(script, study, out)
        assert result.returncode == 0, result.stderr
        tidy.update(outputs(script, out))
    qc = {"spectra": out / "mrs_spectra.tsv", "flags": out / "mrs_qc_flags.tsv"}
    result = run_rule_script("qc_mrs", {"mrs": tidy["mrs"]}, qc)
    assert result.returncode == 0, result.stderr
    return {**tidy, **qc}


def keep_participants(study: Path, kept: list[str]) -> None:
    for folder in sorted(study.glob("sub-*")):
        if folder.name not in kept:
            shutil.rmtree(folder)
    for name in ["participants.tsv", *every(study, "clinical/*.tsv")]:
        lines = read(study, name).split("\n")
        write(
            study,
            name,
            "\n".join(
                line for line in lines if not line.startswith("sub-") or line.split("\t")[0] in kept
            ),
        )


def test_a_study_too_small_for_the_sex_models_names_the_setting_before_any_fit(study, tmp_path):
    keep_participants(study, ["sub-01", "sub-02", "sub-03"])  # M, F, M
    tables = ingest_and_qc(study, tmp_path / "tidy")
    before = tree_hash(study)
    out = tmp_path / "stats"
    result = run_rule_script(
        "stats_sex",
        {name: tables[name] for name in ("participants", "spectra", "scores")},
        {name: out / f"sex_{name}.tsv" for name in ("stratified", "interaction", "models")},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(
        f"error: {tables['participants']}, 1 female participant(s) in the "
        "sex_stratified model of Glx/tNAA, column 'sex': expected enough "
        "participants of each sex to estimate ratio ~ condition * block"
    )
    assert "or stats.sex_analyses: false to skip the sex analyses" in lines[0]
    assert not out.exists() or not any(out.iterdir())
    assert tree_hash(study) == before


def test_a_spectrum_without_its_glu_gln_row_is_reported_in_the_qc_table(study, tmp_path):
    conc = line_of(study, TABLE, r"^\$\$CONC")
    glx = line_of(study, TABLE, r"^\s*\S+\s+\S+\s+\S+ Glu\+Gln\s*$")
    lines = read(study, TABLE).split("\n")
    count = int(re.search(r"\$\$CONC\s*(\d+)", lines[conc - 1]).group(1))
    lines[conc - 1] = lines[conc - 1].replace(f"$$CONC {count} ", f"$$CONC {count - 1} ")
    del lines[glx - 1]
    write(study, TABLE, "\n".join(lines))
    tables = ingest_and_qc(study, tmp_path / "tidy")
    spectra = pd.read_csv(tables["spectra"], sep="\t", keep_default_na=False)
    row = spectra[
        (spectra["participant_id"] == "sub-03")
        & (spectra["condition"] == "placebo")
        & (spectra["block"] == 2)
    ].iloc[0]
    assert row["reason"] == "numerator Glx not in the fit output"
    assert row["ratio"] == "NA" and not row["included"]
    assert row["flags"] == "undetermined" and row["excluded_by"] == "undetermined"
    assert spectra["reason"].str.contains("not in the fit output").sum() == 1
