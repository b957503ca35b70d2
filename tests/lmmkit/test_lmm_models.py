"""The sparse engine's model types against R (lme4 + lmerTest + pbkrtest; values stored by
tests/fixtures/stats/make_lmm_reference.R, models in lmm_models.tsv): random slopes
(correlated and not), nested `/`, crossed, missing main effects, a singular slope covariance,
2,600 participants. Plus the coding of missing main effects, refusals, both backends agreeing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_lmm import model_spec
from test_lmm import reference as r_reference

from lmmkit import LmmInputError, fit_lmm, parse_formula
from lmmkit import reml as reml_module
from lmmkit.design import build_design
from lmmkit.type3 import general_basis, simple_basis

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stats"
MODELS = pd.read_csv(
    FIXTURES / "lmm_models.tsv", sep="\t", keep_default_na=False, dtype=str
).set_index("name")
RTOL = 1e-5  # observed agreement ~1e-7 or better (R fitted with tight optimiser tolerances)
# lme4 names the inner grouping of `g/h` first ("h:g"); this engine writes "g:h" as in the formula
R_NAMES = {"condition:participant_id": "participant_id:condition"}


def spec(name: str):
    return model_spec(name, MODELS.reset_index())


def reference(name: str) -> pd.Series:
    return r_reference(name, R_NAMES)


def close(ours, theirs, rtol=RTOL, atol=0.0):
    return np.isclose(float(ours), float(theirs), rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def fits():
    out = {}
    for name in MODELS.index:
        data, formula, levels = spec(name)
        out[name, "Satterthwaite"] = fit_lmm(data, formula, levels=levels)
        if MODELS.loc[name, "kr"] == "1":
            out[name, "Kenward-Roger"] = fit_lmm(data, formula, levels=levels, ddf="Kenward-Roger")
    return out


CASES = [
    (name, ddf)
    for name in MODELS.index
    for ddf in (
        ("Satterthwaite", "Kenward-Roger") if MODELS.loc[name, "kr"] == "1" else ("Satterthwaite",)
    )
]


@pytest.mark.parametrize("name, ddf", CASES)
def test_anova_and_fixed_effects_match_r(fits, name, ddf):
    result, ref = fits[name, ddf], reference(name)
    section = "anova" if ddf == "Satterthwaite" else "anova_kenward_roger"
    assert list(result.anova["term"]) == [t for (s, t, q) in ref.index if s == section and q == "F"]
    for row in result.anova.itertuples():
        assert row.df_num == int(float(ref[section, row.term, "NumDF"])), row.term
        assert close(row.F, ref[section, row.term, "F"]), (row.term, row.F)
        assert close(row.df_den, ref[section, row.term, "DenDF"]), (row.term, row.df_den)
        assert close(row.p, ref[section, row.term, "p"], atol=1e-12), (row.term, row.p)
    fixed_section = "fixed" if ddf == "Satterthwaite" else "fixed_kenward_roger"
    expected = ref[fixed_section].unstack("quantity")
    expected = expected.loc[
        [n for (s, n, q) in ref.index if s == fixed_section and q == "estimate"]
    ]
    assert len(expected) == len(
        result.fixed
    )  # same columns in the same order (R names them differently)
    scale = float(expected["se"].iloc[0])
    for ours, (_, theirs) in zip(result.fixed.itertuples(), expected.iterrows()):
        assert close(ours.estimate, theirs["estimate"], atol=1e-6 * scale), ours.column
        assert close(ours.se, theirs["se"]), ours.column
        assert close(ours.df, theirs["df"]), ours.column
        assert close(ours.p, theirs["p"], rtol=1e-4, atol=1e-12), ours.column


@pytest.mark.parametrize("name", list(MODELS.index))
def test_fit_and_variance_components_match_r(fits, name):
    result, ref = fits[name, "Satterthwaite"], reference(name)
    assert result.converged, result.optimizer_message
    assert result.n_observations == int(float(ref["fit", "model", "nobs"]))
    assert result.n_dropped_missing == int(float(ref["fit", "model", "n_dropped_missing"]))
    assert result.singular == bool(int(float(ref["fit", "model", "singular"])))
    r_crit = float(ref["fit", "model", "REMLcrit"])
    assert result.reml_criterion == pytest.approx(r_crit, abs=1e-6 * max(1.0, abs(r_crit)))
    assert result.reml_criterion <= r_crit + 1e-6
    assert result.n_groups == {g: int(float(v)) for (s, g, q), v in ref.items() if s == "n_groups"}
    vc = result.variance_components.set_index("name")
    # same components (lme4 orders the terms by number of levels, this engine as in the formula)
    assert sorted(vc.index) == sorted(
        n for (s, n, q) in ref.index if s == "varcomp" and q == "variance"
    )
    assert vc.index[-1] == "Residual"
    for component in vc.index:
        # singular fits: a variance at the boundary is 0 here and ~1e-10 in lme4
        assert close(
            vc.loc[component, "variance"],
            ref["varcomp", component, "variance"],
            rtol=1e-4,
            atol=1e-9,
        )
        assert close(vc.loc[component, "sd"], ref["varcomp", component, "sd"], rtol=1e-4, atol=1e-6)


def test_missing_main_effect_is_coded_as_r_codes_it(fits):
    """condition:minutes without minutes: condition gets indicator coding (a slope per level),
    so the interaction has 2 df (R's model.matrix), not 1."""
    result = fits["missing_main_numeric", "Satterthwaite"]
    assert result.column_names == (
        "(Intercept)",
        "condition[naltrexone-placebo]",
        "condition[placebo]:minutes",
        "condition[naltrexone]:minutes",
    )
    assert result.anova.set_index("term").loc["condition:minutes", "df_num"] == 2
    factor = fits["missing_main_factor", "Satterthwaite"]
    assert (
        len(factor.term_columns["condition:block"]) == 10
    )  # 2 condition indicators x 5 block contrasts
    # mean_weights follows the term's own coding: the cell mean is the fitted value of that cell
    w = factor.mean_weights({"condition": "placebo", "block": "3"})
    assert w[factor.column_names.index("condition[placebo]:block[3]")] == 1.0
    assert w[factor.column_names.index("condition[naltrexone]:block[3]")] == 0.0


def test_general_type3_basis_equals_simple_one_for_hierarchical_models():
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv", dtype={"block": str})
    formula = parse_formula("ratio ~ condition * block + (1 | participant_id)")
    design = build_design(data, formula, {"condition": ["placebo", "naltrexone"]}, "x")
    general = general_basis(list(formula.terms), design)
    for term in formula.terms:
        label = ":".join(term)
        simple = np.zeros_like(general[label])
        simple[:, design.term_columns[label]] = simple_basis(
            term, design.term_codings[label], design.variables
        )
        # lmerTest rounds its estimable functions to 7 digits (zapsmall), e.g. 1/6: ~1e-7 residues
        np.testing.assert_allclose(general[label], simple, atol=1e-6)


def test_sparse_backend_agrees_with_block_backend(monkeypatch):
    """The general (qdldl, finite-difference) path on a nested model gives the block path's
    tests."""
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv", dtype={"block": str})
    formula = "ratio ~ condition * minutes + (1 + minutes | participant_id)"
    block = fit_lmm(data, formula)
    monkeypatch.setattr(reml_module.BlockReml, "applies", classmethod(lambda cls, design: False))
    sparse = fit_lmm(data, formula)
    np.testing.assert_allclose(
        sparse.anova[["F", "df_den"]], block.anova[["F", "df_den"]], rtol=1e-5
    )
    np.testing.assert_allclose(
        sparse.variance_components["variance"], block.variance_components["variance"], rtol=1e-5
    )


def test_crossed_uses_sparse_backend_and_nested_uses_blocks():
    crossed = pd.read_csv(FIXTURES / "crossed.csv")
    design = build_design(
        crossed, parse_formula("rt ~ condition + (1 | subject) + (1 | item)"), None, "x"
    )
    assert not reml_module.BlockReml.applies(design)
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv")
    design = build_design(
        data, parse_formula("ratio ~ condition + (1 | participant_id/condition)"), None, "x"
    )
    assert reml_module.BlockReml.applies(design)


@pytest.mark.parametrize(
    "formula, column, fragment",
    [
        (  # a factor slope with a level per group: more random effects than rows
            "ratio ~ condition + (1 + participant_id | participant_id)",
            "participant_id",
            "fewer random effects than observations",
        ),
        ("ratio ~ condition + (1 | nobody)", "nobody", "column named in the formula"),
        ("ratio ~ condition * block + (1 | participant_id)", None, "full-rank"),
    ],
)
def test_unfittable_models_are_refused_naming_the_term(formula, column, fragment):
    data = pd.read_csv(FIXTURES / "slopes_2x6.csv", dtype={"block": str})
    if column is None:  # an empty cell: condition x block 6 never observed under naltrexone
        data = data[~((data["condition"] == "naltrexone") & (data["block"] == "6"))]
    with pytest.raises(LmmInputError, match=fragment) as err:
        fit_lmm(data, formula, source="slopes.csv", rank_deficient="stop")
    message = str(err.value)
    assert "\n" not in message and "slopes.csv" in message
    if column:
        assert f"'{column}'" in message


def test_nested_and_uncorrelated_shorthands_expand_as_lme4():
    f = parse_formula("y ~ a + (1 | g/h) + (1 + x || k)")
    assert [(t.group, t.intercept, t.slopes) for t in f.random] == [
        (("g",), True, ()),
        (("g", "h"), True, ()),
        (("k",), True, ()),
        (("k",), False, ("x",)),
    ]
    g = parse_formula("y ~ a + (x | g) + (0 + z | g)")
    assert [(t.intercept, t.slopes) for t in g.random] == [(True, ("x",)), (False, ("z",))]
