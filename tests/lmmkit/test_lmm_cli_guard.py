"""Command line (`python -m lmmkit FORMULA DATA.tsv`), the size guard, Kenward-Roger on request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def test_cli_prints_anova_then_diagnostics_then_variance_components(capsys, slopes_tsv):
    code, out, err = run(
        capsys,
        "ratio ~ condition * minutes + (1 + minutes | participant_id)",
        slopes_tsv,
        "--levels",
        "condition:placebo,naltrexone",
    )
    assert code == 0 and err == ""
    anova, diagnostics, varcomp = out.rstrip("\n").split("\n\n")
    lines = anova.split("\n")
    assert lines[0] == "term\tsum_sq\tmean_sq\tnum_df\tden_df\tF\tp"
    assert [line.split("\t")[0] for line in lines[1:]] == [
        "condition",
        "minutes",
        "condition:minutes",
    ]
    assert all(len(line.split("\t")) == 7 for line in lines)
    keys = [line.split("\t")[0] for line in diagnostics.split("\n")]
    assert keys == [
        "rows used",
        "rows dropped",
        "groups",
        "converged",
        "singular",
        "fixed-effect columns dropped (rank deficiency)",
    ]
    assert "rows used\t442 of 480" in diagnostics and "rows dropped\t38 (a missing" in diagnostics
    vc = varcomp.split("\n")
    assert vc[0] == "grp\tvar1\tvar2\tvcov\tsdcor"
    assert [tuple(line.split("\t")[:3]) for line in vc[1:]] == [
        ("participant_id", "(Intercept)", "NA"),
        ("participant_id", "minutes", "NA"),
        ("participant_id", "(Intercept)", "minutes"),
        ("Residual", "NA", "NA"),
    ]
    # same numbers as the engine, printed %.10g
    result = fit_lmm(
        pd.read_csv(slopes_tsv, sep="\t"),
        "ratio ~ condition * minutes + (1 + minutes | participant_id)",
        levels={"condition": ["placebo", "naltrexone"]},
    )
    assert lines[1].split("\t")[5] == f"{result.anova['F'].iloc[0]:.10g}"


def test_cli_kenward_roger_factors_and_out(capsys, slopes_tsv, tmp_path):
    table = tmp_path / "table.tsv"
    code, out, _ = run(
        capsys,
        "ratio ~ condition * block + (1 | participant_id)",
        slopes_tsv,
        "--factors",
        "block",
        "--ddf",
        "kenward-roger",
        "--out",
        table,
    )
    assert code == 0
    rows = [line.split("\t") for line in out.split("\n\n")[0].split("\n")[1:]]
    assert [(r[0], r[3]) for r in rows] == [
        ("condition", "1"),
        ("block", "5"),
        ("condition:block", "5"),
    ]
    assert table.read_text() == out.split("\n\n")[0] + "\n"
    written = pd.read_csv(table, sep="\t")
    assert list(written.columns) == ["term", "sum_sq", "mean_sq", "num_df", "den_df", "F", "p"]


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("ratio ~ condition * visit + (1 | participant_id)", "column 'visit'"),  # unknown column
        (
            "ratio ~ condition + (1 + participant_id | participant_id)",
            "random term (1 + participant_id | participant_id)",
        ),
        (
            "ratio ~ condition + (1 | participant_id) + (1 | participant_id)",
            "each random coefficient once",
        ),
        ("ratio ~ condition +", "a term between each '+'"),
    ],
)
def test_cli_bad_input_is_one_error_line_and_exit_1(capsys, slopes_tsv, formula, fragment):
    code, out, err = run(capsys, formula, slopes_tsv)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err


def test_cli_missing_file_and_unwritable_out(capsys, slopes_tsv, tmp_path):
    code, out, err = run(capsys, "y ~ a + (1 | g)", tmp_path / "none.tsv")
    assert code == 1 and out == "" and "none.tsv" in err and err.count("\n") == 1
    formula = "ratio ~ condition + (1 | participant_id)"
    code, out, err = run(capsys, formula, slopes_tsv, "--out", tmp_path / "no" / "t.tsv")
    assert code == 1 and out == "" and "--out" in err and err.count("\n") == 1


def test_cli_factor_with_one_level(capsys, tmp_path):
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv")
    path = tmp_path / "one.tsv"
    data[data["condition"] == "placebo"].to_csv(path, sep="\t", index=False)
    code, _, err = run(capsys, "ratio ~ condition + (1 | participant_id)", path)
    assert (
        code == 1
        and "column 'condition'" in err
        and "at least 2 levels" in err
        and err.count("\n") == 1
    )


def test_cli_runs_as_module(slopes_tsv):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    ok = subprocess.run(
        [sys.executable, "-m", "lmmkit", "ratio ~ condition + (1 | participant_id)", slopes_tsv],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0
    assert ok.stdout.startswith("term\tsum_sq\tmean_sq\tnum_df\tden_df\tF\tp\ncondition\t")
    bad = subprocess.run(
        [sys.executable, "-m", "lmmkit", "ratio ~ nothing + (1 | participant_id)", slopes_tsv],
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


def test_cli_reader_closing_early_gives_no_traceback(slopes_tsv):
    """`python -m lmmkit ... | head -1`: the pipe is closed before the table is written."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "lmmkit", "ratio ~ condition + (1 | participant_id)"]
    process = subprocess.Popen(
        [*command, str(slopes_tsv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    process.stdout.close()  # the reader is gone before the fit ends
    err = process.stderr.read().decode()
    assert process.wait() == 141 and err == ""


def test_cli_reports_columns_dropped_for_rank_deficiency(capsys):
    path = Path(__file__).parents[1] / "fixtures" / "lmmkit" / "empty_cell.tsv"
    code, out, err = run(capsys, "y ~ a * b + (1 | participant)", path)
    assert code == 0 and err == ""
    assert "fixed-effect columns dropped (rank deficiency)\ta[a2-a1]:b[b2]" in out
    rows = [line.split("\t") for line in out.split("\n")[1:4]]
    assert [(row[0], row[3]) for row in rows] == [("a", "1"), ("b", "2"), ("a:b", "1")]


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
    # 200 kB: the fit fits, Kenward-Roger's q x q matrices (50 random effects) do not
    monkeypatch.setattr(guard, "MEMORY_LIMIT", 2e5)
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


def exact_data(noise_free_random_effect: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "id": np.repeat([f"s{i}" for i in range(12)], 4),
            "condition": np.tile(["placebo", "placebo", "drug", "drug"], 12),
            "block": np.tile(["1", "2"], 24),
        }
    )
    y = 1.0 + 0.1 * (data["condition"] == "drug") + 0.05 * (data["block"] == "2")
    if noise_free_random_effect:
        y = y + np.repeat(rng.normal(size=12), 4)
    data["y"] = y
    return data


@pytest.mark.parametrize("random_effect", [True, False])
def test_a_response_explained_exactly_is_refused_not_an_f_of_1e14(random_effect):
    with pytest.raises(LmmInputError, match="residual variance") as err:
        fit_lmm(exact_data(random_effect), "y ~ condition * block + (1 | id)", source="exact.tsv")
    message = str(err.value)
    assert message.startswith("exact.tsv, column 'y': expected a response the model does not")
    assert "\n" not in message


def test_a_small_but_real_residual_is_fitted():
    # Residual sd 1e-2 against a participant sd of ~0.7 (theta ~ 92). Not 1e-3 (theta ~ 922):
    # there the criterion's curvature (~4e-5) is below the rounding noise of lme4's finite
    # differences (step 1e-4), and its Hessian check says yes or no by chance, in lme4 as here.
    data = exact_data(True)
    data["y"] += np.random.default_rng(1).normal(scale=1e-2, size=len(data))
    result = fit_lmm(data, "y ~ condition * block + (1 | id)")
    # lmerTest 3.1-3 (R 4.2.2, lme4 1.1-31) on these rows written with %.17g: no convergence
    # message, theta 92.17842, condition F = 1988.093 (Satterthwaite, 1 and 33 df)
    assert result.converged
    assert result.anova["F"].iloc[0] == pytest.approx(1988.093, rel=1e-6)
    assert result.anova["df_den"].iloc[0] == pytest.approx(33.0)


def test_a_tiny_residual_above_the_collapse_guard_is_fitted_not_refused():
    data = exact_data(True)
    data["y"] += np.random.default_rng(1).normal(scale=1e-4, size=len(data))
    result = fit_lmm(data, "y ~ condition * block + (1 | id)")
    assert result.anova["F"].iloc[0] > 1e6


def test_cli_refuses_an_exact_fit_with_one_line(capsys, tmp_path):
    path = tmp_path / "exact.tsv"
    exact_data(True).to_csv(path, sep="\t", index=False)
    code, out, err = run(capsys, "y ~ condition * block + (1 | id)", path)
    assert code == 1 and out == "" and err.count("\n") == 1 and "residual variance" in err


def test_kenward_roger_for_crossed_groupings_needs_no_n_by_n_matrix(monkeypatch):
    """4,000 rows crossed (40 subjects x 100 items): one n x n matrix would take 128 MB, the
    q x q algebra (q = 140) a few; with 50 MB the Kenward-Roger table is computed (on this
    balanced design its F is Satterthwaite's: the adjustment leaves the condition contrast's
    variance as it is)."""
    rng = np.random.default_rng(11)
    subject, item = np.meshgrid(np.arange(40), np.arange(100), indexing="ij")
    subject, item = subject.ravel(), item.ravel()
    condition = np.where((subject + item) % 2 == 0, "a", "b")
    rt = (
        rng.normal(0, 30, 40)[subject]
        + rng.normal(0, 20, 100)[item]
        + 10 * (condition == "b")
        + rng.normal(0, 50, subject.size)
    )
    data = pd.DataFrame({"subject": subject, "item": item, "condition": condition, "rt": rt})
    data["subject"] = "s" + data["subject"].astype(str)
    data["item"] = "i" + data["item"].astype(str)
    monkeypatch.setattr(guard, "MEMORY_LIMIT", 50e6)
    formula = "rt ~ condition + (1 | subject) + (1 | item)"
    kr = fit_lmm(data, formula, ddf="Kenward-Roger").anova.iloc[0]
    sat = fit_lmm(data, formula).anova.iloc[0]
    assert kr["F"] == pytest.approx(sat["F"], rel=1e-6)
    assert np.isfinite(kr["df_den"]) and kr["df_den"] > 1
