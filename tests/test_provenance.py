"""Provenance: the SYNTHETIC / CALIBRATED labels come from the data's dataset_description.json,
a results folder knows its study, and every table's JSON sidecar says where it came from.
(The workflow runs of these are in tests/test_workflow.py.)"""

import hashlib
import json
import os
import shutil
from pathlib import Path

import jinja2
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.common.provenance import (
    DESCRIPTION,
    LISTING_CACHE,
    check_study,
    json_bytes,
    listing_sha256,
    study_labels,
    study_record,
    write_sidecars,
)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.ingest.formats.layout import format_inputs, study_inputs

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "data" / "synthetic"
SHEETS = ["madrs.tsv", "cadss.tsv"]


def describe(folder: Path, **labels) -> None:
    (folder / DESCRIPTION).write_text(json.dumps({"Name": "a study", **labels}))


def test_the_embedded_study_says_it_is_synthetic_and_calibrated():
    assert study_labels(STUDY) == {"synthetic": True, "calibrated": True}
    # config synthetic: false removes no label the data carry
    assert study_labels(STUDY, config_synthetic=False) == {"synthetic": True, "calibrated": True}


def test_labels_come_from_the_data_and_config_only_adds_synthetic(tmp_path):
    assert study_labels(tmp_path) == {"synthetic": False, "calibrated": False}
    assert study_labels(tmp_path, True) == {"synthetic": True, "calibrated": False}
    describe(tmp_path, Synthetic=True, Calibrated=False)
    assert study_labels(tmp_path, False) == {"synthetic": True, "calibrated": False}
    describe(tmp_path, Synthetic=False, Calibrated=True)  # calibrated only with synthetic
    assert study_labels(tmp_path, False) == {"synthetic": False, "calibrated": False}


def test_a_description_with_a_label_not_true_or_false_is_refused_in_one_line(tmp_path):
    describe(tmp_path, Synthetic="yes")
    with pytest.raises(InputError, match=r"column 'Synthetic': expected true or false, got 'yes'"):
        study_labels(tmp_path)
    (tmp_path / DESCRIPTION).write_text("{not json")
    with pytest.raises(InputError, match=r"dataset_description.json: expected a JSON object"):
        study_labels(tmp_path)


def inputs(data: Path) -> list[Path]:
    return study_inputs(data, format_inputs(data, "lcmodel_table"), SHEETS)


def record_into(results: Path, data: Path) -> list[Path]:
    files = inputs(data)
    labels = study_labels(data)
    record = study_record(str(data), files, labels)
    results.mkdir(parents=True, exist_ok=True)
    (results / "study.json").write_text(json_bytes(record))
    (results / LISTING_CACHE).write_text(listing_sha256(data, files) + "\n")
    return files


def test_a_results_folder_knows_its_study(tmp_path):
    data = tmp_path / "study"
    shutil.copytree(STUDY, data)
    results = tmp_path / "results"
    files = inputs(data)
    assert check_study(results, data, files, listing_sha256(data, files)) is None  # new folder
    files = record_into(results, data)
    assert check_study(results, data, files, listing_sha256(data, files)) is None
    # the same bytes with other modification times (a copy, a checkout): the same study, and
    # the record says nothing of the times
    record = (results / "study.json").read_bytes()
    for path in files:
        os.utime(path, ns=(0, 0))
    assert check_study(results, data, files, listing_sha256(data, files)) is None
    assert json_bytes(study_record(str(data), files, study_labels(data))).encode() == record
    # no listing cache: the bytes decide
    (results / LISTING_CACHE).unlink()
    assert check_study(results, data, files, listing_sha256(data, files)) is None
    # a file the pipeline does not read is not part of the study
    (data / "notes.txt").write_text("a note\n")
    assert inputs(data) == files
    # other bytes in a raw file: another study
    madrs = data / "clinical" / "madrs.tsv"
    madrs.write_bytes(madrs.read_bytes().replace(b"\t", b"\t ", 1))
    problem = check_study(results, data, files, listing_sha256(data, files))
    assert problem == (
        f"{results.as_posix()}/ holds the results of another study (other raw files, study.json);"
        " run this study into its own folder with --config results_dir=<folder> (or remove "
        f"{results.as_posix()}/)"
    )
    # another data folder
    other = tmp_path / "other"
    shutil.copytree(data, other)
    problem = check_study(results, other, files, listing_sha256(data, files))
    assert f"(data_dir {data}, study.json)" in problem and "--config results_dir=" in problem


def test_a_record_that_is_not_one_stops_with_the_folder_named(tmp_path):
    (tmp_path / "study.json").write_text("[]")
    problem = check_study(tmp_path, STUDY, [], "")
    assert problem.startswith(f"{tmp_path.as_posix()}/study.json: expected the record of the study")


class Job:
    """The parts of Snakemake's `snakemake` object that run_step reads."""

    def __init__(self, inputs, outputs, params):
        self.input, self.output, self.params, self.log = inputs, outputs, params, []


def run_table_step(tmp_path, fail=False):
    results = tmp_path / "results"
    record_into(results, STUDY)
    outputs = {
        "table": str(results / "stats" / "demo.tsv"),
        "columnar": str(results / "stats" / "demo.parquet"),
        "notes": str(results / "stats" / "demo_notes.tsv"),
        "table_sidecar": str(results / "stats" / "demo.json"),
        "notes_sidecar": str(results / "stats" / "demo_notes.json"),
    }

    def main(io):
        frame = pd.DataFrame({"term": ["condition"], "p": [0.029]})
        write_tsv(frame, io.output["table"])
        frame.to_parquet(io.output["columnar"])
        write_tsv(frame, io.output["notes"])
        if fail:
            raise ValueError("a step that fails after writing its tables")

    job = Job({"study": str(results / "study.json")}, outputs, {"formula": "ratio ~ condition"})
    return outputs, lambda: run_step(main, job)


def test_each_table_gets_one_sidecar_with_its_provenance_and_same_bytes_twice(tmp_path):
    outputs, run = run_table_step(tmp_path)
    run()
    sidecar = json.loads(Path(outputs["table_sidecar"]).read_text())
    assert set(sidecar) == {
        "synthetic",
        "calibrated",
        "data_dir",
        "raw_inputs_sha256",
        "config_sha256",
        "software",
        "tables",
    }
    assert sidecar["synthetic"] is True and sidecar["calibrated"] is True
    assert sidecar["data_dir"] == str(STUDY)
    record = json.loads((tmp_path / "results" / "study.json").read_text())
    assert sidecar["raw_inputs_sha256"] == record["raw_inputs_sha256"]
    settings = json.dumps({"formula": "ratio ~ condition"}, sort_keys=True).encode()
    assert sidecar["config_sha256"] == hashlib.sha256(settings).hexdigest()
    assert {"python", "crossover_fmrs", "lmmkit", "numpy", "pandas", "scipy", "snakemake"} <= set(
        sidecar["software"]
    )
    # one sidecar for the table written as TSV and Parquet, with the hash of each
    assert sidecar["tables"] == {
        name: hashlib.sha256(Path(outputs[key]).read_bytes()).hexdigest()
        for key, name in (("table", "demo.tsv"), ("columnar", "demo.parquet"))
    }
    notes = json.loads(Path(outputs["notes_sidecar"]).read_text())
    assert list(notes["tables"]) == ["demo_notes.tsv"]
    first = Path(outputs["table_sidecar"]).read_bytes()
    assert first == json_bytes(sidecar).encode()  # sorted keys, no timestamp
    run()
    assert Path(outputs["table_sidecar"]).read_bytes() == first


def test_a_failed_step_leaves_neither_table_nor_sidecar(tmp_path):
    outputs, run = run_table_step(tmp_path, fail=True)
    with pytest.raises(SystemExit):
        run()
    assert [name for name, path in outputs.items() if Path(path).exists()] == []


def test_a_sidecar_without_a_table_of_its_stem_is_a_programming_error(tmp_path):
    record_into(tmp_path, STUDY)
    with pytest.raises(ValueError, match="no table output of the same stem"):
        write_sidecars({"x_sidecar": str(tmp_path / "x.json")}, tmp_path / "study.json", {})


@pytest.mark.parametrize(
    "labels, present, absent",
    [
        ({"synthetic": True, "calibrated": True}, ["SYNTHETIC DATA", "calibrated"], []),
        ({"synthetic": True, "calibrated": False}, ["SYNTHETIC DATA"], ["*calibrated*"]),
        ({"synthetic": False, "calibrated": False}, [], ["SYNTHETIC", "calibrated"]),
    ],
)
def test_the_report_text_says_what_the_labels_say(labels, present, absent):
    class Snakemake:
        config = {
            "data_dir": "elsewhere",
            "results_dir": "results",
            "_study_labels": labels,
            "stats": {"sex_analyses": True, "paper_comparison": True},
        }

    text = jinja2.Template((ROOT / "report" / "workflow.rst").read_text()).render(
        snakemake=Snakemake
    )
    assert all(word in text for word in present), text
    assert not any(word in text for word in absent), text
