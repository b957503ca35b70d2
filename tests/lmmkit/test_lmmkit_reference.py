"""lmmkit against R for issue 19's new cases: level names that pandas would read as missing
(None), and crossed designs that lme4 fits without a convergence message. References made by
tests/fixtures/lmmkit/make_reference.R (R 4.2.2, lme4 1.1-31, lmerTest 3.1-3, pbkrtest 0.5-2;
reference/versions.tsv), read here exactly as the command line reads the files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lmmkit
from lmmkit.__main__ import main, read_data

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lmmkit"
MODELS = pd.read_csv(FIXTURES / "models.tsv", sep="\t", keep_default_na=False, dtype=str)
SECTIONS = {"anova": "Satterthwaite", "anova_kenward_roger": "Kenward-Roger"}


def reference(name: str) -> pd.DataFrame:
    table = pd.read_csv(
        FIXTURES / "reference" / f"{name}.tsv", sep="\t", keep_default_na=False, na_values=["NA"]
    )
    table["value"] = table["value"].astype(float)
    return table


def r_value(ref: pd.DataFrame, section: str, name: str, quantity: str) -> float:
    row = ref[(ref["section"] == section) & (ref["name"] == name) & (ref["quantity"] == quantity)]
    assert len(row) == 1, (section, name, quantity)
    return float(row["value"].iloc[0])


@pytest.fixture(scope="module")
def fits():
    out = {}
    for row in MODELS.itertuples():
        data = read_data(str(FIXTURES / row.data), [], [])
        out[row.name] = lmmkit.lmer(row.formula, data, data_name=row.data)
    return out


@pytest.mark.parametrize("name", MODELS["name"])
@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_anova_matches_lmertest(fits, name, section):
    ref = reference(name)
    table = fits[name].anova(ddf=SECTIONS[section]).set_index("term")
    terms = ref.loc[ref["section"] == section, "name"].unique().tolist()
    assert table.index.tolist() == terms
    for term in terms:
        row = table.loc[term]
        if np.isnan(r_value(ref, section, term, "F")):  # lmerTest: no estimable hypothesis
            assert row.drop("term", errors="ignore").isna().all()
            continue
        assert row["num_df"] == r_value(ref, section, term, "num_df")
        for quantity in ("sum_sq", "mean_sq", "F"):
            assert row[quantity] == pytest.approx(r_value(ref, section, term, quantity), rel=1e-6)
        # p moves with the df: 1.2e-6 relative on the crossed slope model (df 23)
        assert row["p"] == pytest.approx(r_value(ref, section, term, "p"), rel=1e-5)
        # lmerTest's df of a multi-df test come from numerical derivatives (numDeriv) combined
        # over the eigen-decomposition: observed agreement 1e-5 there, 1e-7 for 1-df tests.
        rel = 1e-6 if row["num_df"] == 1 else 5e-5
        assert row["den_df"] == pytest.approx(r_value(ref, section, term, "den_df"), rel=rel)


@pytest.mark.parametrize("name", MODELS["name"])
def test_fit_and_diagnostics_match_lme4(fits, name):
    ref, fit = reference(name), fits[name]
    assert fit.reml_criterion == pytest.approx(r_value(ref, "fit", "model", "REMLcrit"), rel=1e-9)
    assert fit.nobs == r_value(ref, "fit", "model", "nobs")
    assert fit.n_dropped == r_value(ref, "fit", "model", "n_dropped_missing")
    for group, n in fit.ngrps.items():
        assert n == r_value(ref, "n_groups", group, "n")
    # lme4 with its default settings: no convergence message -> converged here too
    assert r_value(ref, "default_fit", "model", "n_messages") == 0
    assert fit.converged and [m for m in fit.messages if "rank deficient" not in m] == []
    # columns dropped for rank deficiency: as many as lme4's, of the same term and levels
    dropped = ref[ref["section"] == "dropped_columns"]["name"].tolist()
    assert len(fit.dropped_columns) == len(dropped)
    assert [_r_column(name, fit) for name in dropped] == [
        re.sub(r"\[([^\]-]*)-[^\]]*\]|\[([^\]]*)\]", _level, c) for c in fit.dropped_columns
    ]
    if dropped:
        assert fit.messages[0].startswith(
            f"fixed-effect model matrix is rank deficient so dropping {len(dropped)} column"
        )
    assert fit.singular == bool(r_value(ref, "default_fit", "model", "singular"))


def _level(match: re.Match) -> str:
    """lmmkit's column name part `[b2]` (contr.sum) or `[a2-a1]` (two levels) as `(b2)`/`()`."""
    return f"({match.group(2)})" if match.group(2) is not None else "()"


def _r_column(name: str, fit) -> str:
    """R's column name under contr.sum (`a1:b2`: a's first contrast, b's second) written as
    lmmkit's after _level: `a():b(b2)` (a two-level factor has one contrast), `x2` kept."""
    parts = []
    for part in name.split(":"):
        factor = next(
            (v for v in fit.result.levels if part.startswith(v) and part[len(v) :].isdigit()),
            None,
        )
        if factor is None:
            parts.append(part)
            continue
        levels = fit.result.levels[factor]
        index = int(part[len(factor) :]) - 1
        parts.append(f"{factor}()" if len(levels) == 2 else f"{factor}({levels[index]})")
    return ":".join(parts)


def test_none_is_a_level_as_r_reads_it(capsys):
    """D1: None/low/high is a 3-level factor (2 df); empty and NA cells are missing."""
    path = FIXTURES / "dose_levels.tsv"
    assert main(["y ~ dose + (1 | participant)", str(path)]) == 0
    out = capsys.readouterr().out
    header, dose = out.split("\n")[:2]
    assert header.split("\t")[3] == "num_df" and dose.split("\t")[:4][3] == "2"
    assert "rows used\t235 of 240" in out and "rows dropped\t5 " in out
    # what pandas' defaults would have done: None read as missing, a 2-level factor
    assert pd.read_csv(path, sep="\t")["dose"].isna().sum() == 80
    # --na-values makes None missing on request
    assert main(["y ~ dose + (1 | participant)", str(path), "--na-values", "None"]) == 0
    out = capsys.readouterr().out
    assert out.split("\n")[1].split("\t")[3] == "1" and "rows used\t157 of 240" in out


def test_crossed_design_r_fits_without_warning_is_reported_converged(capsys):
    """D2: lme4's scaled-gradient check, not a fixed threshold on the raw gradient."""
    path = FIXTURES / "crossed_slope.tsv"
    assert main(["y ~ x + (1 + x | subject) + (1 | item)", str(path)]) == 0
    out = capsys.readouterr().out
    assert "converged\tyes (lme4's check" in out and "singular\tno" in out


def test_the_convergence_check_can_fail():
    """A point away from the optimum fails lme4's check (the check is not vacuous)."""
    fit = lmmkit.lmer(
        "y ~ x + (1 | subject) + (1 | item)", read_data(str(FIXTURES / "crossed_slope.tsv"), [], [])
    )
    reml = fit._parts["reml"]
    layout = fit._parts["layout"]
    theta = fit._parts["theta"] * 1.3

    def deviance(x):
        return float(reml.evaluate(np.asarray(x), gradient=False)[0])

    check = lmmkit.checks.lme4_convergence(deviance, theta, deviance(theta), layout)
    assert not check["converged"] and "failed to converge" in check["messages"][0]


def test_a_factor_random_slope_has_lme4s_columns(fits):
    """(1 + dose | participant): indicators of the levels after the first, named as lme4 names
    them, with an unstructured covariance (3 variances, 3 correlations)."""
    vc = fits["factor_slope"].varcorr
    assert vc["var1"].tolist()[:3] == ["(Intercept)", "dosed1", "dosed2"]
    assert len(vc) == 7 and vc["var2"].notna().sum() == 3
    assert fits["factor_slope"].ranef["participant"].shape == (40, 3)
