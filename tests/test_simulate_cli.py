"""The simulator's command line (python -m crossover_fmrs.simulate): arguments, one-line refusals
with a non-zero exit, a small multi-site study, dataset_description.json, same seed -> same
bytes."""

import json
from pathlib import Path

import pandas as pd
import pytest

from crossover_fmrs import __version__
from crossover_fmrs.simulate.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "study"
    assert main(["--out", str(out), "--participants", "7", "--sites", "2", "--seed", "5"]) == 0
    return out


def test_a_two_site_study_has_a_balanced_site_column(two_sites):
    participants = pd.read_csv(two_sites / "participants.tsv", sep="\t")
    assert len(participants) == 7
    assert sorted(participants["site"].value_counts().tolist()) == [3, 4]
    assert set(participants["site"]) == {"site-01", "site-02"}
    tables = list(two_sites.glob("sub-*/ses-*/mrs/*.table"))
    assert len(tables) == 7 * 2 * 6
    assert len(list((two_sites / "clinical").glob("*.tsv"))) == 7
    dictionary = json.loads((two_sites / "participants.json").read_text())
    assert "site" in dictionary


def test_dataset_description_says_what_wrote_the_study(two_sites):
    text = (two_sites / "dataset_description.json").read_text()
    description = json.loads(text)
    assert description == {
        "Name": description["Name"],
        "DatasetType": "raw",
        "GeneratedBy": [
            {
                "Name": "crossover_fmrs.simulate",
                "Version": __version__,
                "Description": description["GeneratedBy"][0]["Description"],
            }
        ],
        "Synthetic": True,
        "Calibrated": False,  # another size than the published 26: a plain draw
        "Seed": 5,
        "NumberOfParticipants": 7,
        "NumberOfSites": 2,
    }
    assert text == json.dumps(description, indent=2, sort_keys=True) + "\n"


def test_same_seed_same_bytes_and_a_simulated_study_may_be_rewritten(two_sites, tmp_path):
    before = files_of(two_sites)
    assert (
        main(["--out", str(two_sites), "--participants", "7", "--sites", "2", "--seed", "5"]) == 0
    )
    assert files_of(two_sites) == before
    other = tmp_path / "other"
    assert main(["--out", str(other), "--participants", "7", "--sites", "2", "--seed", "6"]) == 0
    assert files_of(other)["participants.tsv"] != before["participants.tsv"]


def test_one_site_writes_no_site_column(tmp_path):
    assert main(["--out", str(tmp_path / "one"), "--participants", "4", "--no-calibrate"]) == 0
    header = (tmp_path / "one" / "participants.tsv").read_text().splitlines()[0]
    assert "site" not in header.split("\t")
    assert (
        json.loads((tmp_path / "one" / "dataset_description.json").read_text())["NumberOfSites"]
        == 1
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--participants", "1"], "--participants: expected at least 2 participants, got 1"),
        (["--participants", "4", "--sites", "0"], "--sites: expected at least 1 site, got 0"),
        (["--participants", "3", "--sites", "4"], "--sites: expected at most one site per"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(tmp_path, capsys, arguments, message):
    assert main(["--out", str(tmp_path / "study"), *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "study").exists()


def test_an_existing_folder_that_is_not_a_simulated_study_is_refused(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["--out", str(tmp_path / "mine"), "--participants", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a simulated study" in err[0]
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_help_says_calibration_is_off_at_another_size(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "with any other N the study is a plain draw (calibration off)" in text


@pytest.mark.parametrize("arguments", [["--participants", "4"], ["--out", "x", "--sites", "two"]])
def test_usage_errors_are_one_line_too(capsys, arguments):
    with pytest.raises(SystemExit) as exit_:
        main(arguments)  # --out missing; a count that is not a number
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
