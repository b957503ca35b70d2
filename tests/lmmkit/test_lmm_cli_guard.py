"""Command line (`python -m lmmkit`), the size guard, Kenward-Roger on request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lmmkit import LmmInputError, fit_lmm, guard
from lmmkit.__main__ import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stats"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture()
def slopes_tsv(tmp_path):
    path = tmp_path / "slopes.tsv"
    pd.read_csv(FIXTURES / "slopes_2x6.csv").to_csv(path, sep="\t", index=False)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_type3_table_then_variance_components(capsys, slopes_tsv):
    code, out, err = run(
        capsys,
        "--data",
        slopes_tsv,
        "--formula",
        "ratio ~ condition * minutes + (1 + minutes | participant_id)",
        "--levels",
        "condition:placebo,naltrexone",
    )
    assert code == 0 and err == ""
    anova, varcomp = out.rstrip("\n").split("\n\n")
    lines = anova.split("\n")
    assert lines[0] == "term\tF\tdf_num\tdf_den\tp"
    assert [line.split("\t")[0] for line in lines[1:]] == [
        "condition",
        "minutes",
        "condition:minutes",
    ]
    assert all(len(line.split("\t")) == 5 for line in lines)
    vc = varcomp.split("\n")
    assert vc[0] == "name\tvariance\tsd"
    assert [line.split("\t")[0] for line in vc[1:]] == [
        "participant_id (Intercept)",
        "participant_id minutes",
        "participant_id cor((Intercept),minutes)",
        "Residual",
    ]
    # same numbers as the API, printed %.10g
    result = fit_lmm(
        pd.read_csv(slopes_tsv, sep="\t"),
        "ratio ~ condition * minutes + (1 + minutes | participant_id)",
        levels={"condition": ["placebo", "naltrexone"]},
    )
    assert lines[1].split("\t")[1] == f"{result.anova['F'].iloc[0]:.10g}"


def test_cli_kenward_roger_and_factors(capsys, slopes_tsv):
    code, out, _ = run(
        capsys,
        "--data",
        slopes_tsv,
        "--formula",
        "ratio ~ condition * block + (1 | participant_id)",
        "--factors",
        "block",
        "--ddf",
        "Kenward-Roger",
    )
    assert code == 0
    rows = [line.split("\t") for line in out.split("\n\n")[0].split("\n")[1:]]
    assert [(r[0], r[2]) for r in rows] == [
        ("condition", "1"),
        ("block", "5"),
        ("condition:block", "5"),
    ]


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("ratio ~ condition * visit + (1 | participant_id)", "column 'visit'"),  # unknown column
        (
            "ratio ~ condition + (1 + condition | participant_id)",
            "random term (1 + condition | participant_id)",
        ),
        (
            "ratio ~ condition + (1 | participant_id) + (1 | participant_id)",
            "each random coefficient once",
        ),
        ("ratio ~ condition +", "a term between each '+'"),
    ],
)
def test_cli_bad_input_is_one_error_line_and_exit_1(capsys, slopes_tsv, formula, fragment):
    code, out, err = run(capsys, "--data", slopes_tsv, "--formula", formula)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err


def test_cli_factor_with_one_level(capsys, tmp_path):
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv")
    path = tmp_path / "one.tsv"
    data[data["condition"] == "placebo"].to_csv(path, sep="\t", index=False)
    code, _, err = run(
        capsys, "--data", path, "--formula", "ratio ~ condition + (1 | participant_id)"
    )
    assert (
        code == 1
        and "column 'condition'" in err
        and "at least 2 levels" in err
        and err.count("\n") == 1
    )


def test_cli_runs_as_module(slopes_tsv):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "lmmkit",
            "--data",
            str(slopes_tsv),
            "--formula",
            "ratio ~ condition + (1 | participant_id)",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("term\tF\tdf_num\tdf_den\tp\ncondition\t")
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "lmmkit",
            "--data",
            str(slopes_tsv),
            "--formula",
            "ratio ~ nothing + (1 | participant_id)",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (
        bad.returncode == 1
        and bad.stdout == ""
        and bad.stderr.count("\n") == 1
        and "'nothing'" in bad.stderr
    )


def test_size_guard_refuses_before_allocating(monkeypatch):
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv")
    monkeypatch.setattr(guard, "MEMORY_LIMIT", 50_000.0)  # a machine of 50 kB
    with pytest.raises(LmmInputError, match=r"size guard.*GiB usable memory.*estimated") as err:
        fit_lmm(
            data, "ratio ~ condition * minutes + (1 + minutes | participant_id)", source="big.tsv"
        )
    assert "\n" not in str(err.value) and "big.tsv" in str(err.value)


def test_kenward_roger_for_crossed_groupings_is_guarded(monkeypatch):
    data = pd.read_csv(FIXTURES / "crossed.csv")
    formula = "rt ~ condition + (1 | subject) + (1 | item)"
    monkeypatch.setattr(
        guard, "MEMORY_LIMIT", 5e6
    )  # the fit fits, the n x n Kenward-Roger matrices do not
    result = fit_lmm(data, formula)
    assert result.anova["df_den"].notna().all()
    with pytest.raises(LmmInputError, match="Kenward-Roger") as err:
        fit_lmm(data, formula, ddf="Kenward-Roger")
    assert "\n" not in str(err.value) and "GiB" in str(err.value)


def test_kenward_roger_is_computed_only_when_asked():
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv")
    result = fit_lmm(
        data,
        "ratio ~ condition * minutes + (1 + minutes | participant_id)",
        levels={"condition": ["placebo", "naltrexone"]},
    )
    assert "kr" not in result._cache
    kr = result.contrast({"condition[naltrexone-placebo]": 1.0}, ddf="Kenward-Roger")
    assert "kr" in result._cache and kr["se"] >= result.fixed["se"].iloc[1]
