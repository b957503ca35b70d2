"""lmmkit against R (lme4 1.1-31 + lmerTest 3.1-3), values stored in
tests/fixtures/stats/reference by make_reference.R (see the README there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lmmkit import LmmInputError, fit_lmm, parse_formula
from lmmkit.design import build_design
from lmmkit.params import Layout
from lmmkit.reml import BlockReml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stats"
MODELS = pd.read_csv(FIXTURES / "models.tsv", sep="\t", keep_default_na=False, dtype=str)
RTOL = 1e-5  # brief: 4 significant digits or better; the fits agree to ~1e-6


def model_spec(name: str, models: pd.DataFrame = MODELS):
    """(data, formula, levels) of a model of a models table (models.tsv or lmm_models.tsv)."""
    row = models.set_index("name").loc[name]
    factors = [f for f in row["factors"].split(",") if f]
    levels = {
        spec.split(":")[0]: spec.split(":")[1].split(",")
        for spec in row["levels"].split(";")
        if spec
    }
    data = pd.read_csv(FIXTURES / row["data"], dtype={c: str for c in factors + list(levels)})
    return data, row["formula"], levels or None


def reference(name: str, renamed: dict | None = None) -> pd.Series:
    """R's values for a model, indexed by section, name, quantity; `renamed` maps R's names to the
    engine's."""
    ref = pd.read_csv(
        FIXTURES / "reference" / f"lmer_{name}.tsv", sep="\t", keep_default_na=False, dtype=str
    )
    if renamed:
        ref["name"] = ref["name"].replace(renamed)
    return ref.set_index(["section", "name", "quantity"])["value"]


def fitted(name: str):
    data, formula, levels = model_spec(name)
    return fit_lmm(data, formula, levels=levels, source=f"{name}.csv")


@pytest.fixture(scope="module")
def fits():
    return {name: fitted(name) for name in MODELS["name"]}


def close(ours, theirs, rtol=RTOL, atol=0.0):
    return np.isclose(float(ours), float(theirs), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(MODELS["name"]))
def test_anova_matches_lmertest(fits, name):
    result, ref = fits[name], reference(name)
    expected_terms = [term for (section, term, q) in ref.index if section == "anova" and q == "F"]
    assert list(result.anova["term"]) == expected_terms
    for row in result.anova.itertuples():
        assert row.df_num == int(float(ref["anova", row.term, "NumDF"]))
        assert close(row.F, ref["anova", row.term, "F"]), (row.term, row.F)
        assert close(row.df_den, ref["anova", row.term, "DenDF"]), (row.term, row.df_den)
        assert close(row.p, ref["anova", row.term, "p"], atol=1e-12), (row.term, row.p)


@pytest.mark.parametrize("name", list(MODELS["name"]))
def test_fixed_effects_match_lmertest(fits, name):
    result, ref = fits[name], reference(name)
    expected = [col for (section, col, q) in ref.index if section == "fixed" and q == "estimate"]
    assert list(result.fixed["column"]) == expected  # same coding, same names, same order
    for row in result.fixed.itertuples():
        scale = float(ref["fixed", "(Intercept)", "se"])
        assert close(row.estimate, ref["fixed", row.column, "estimate"], atol=1e-6 * scale), (
            row.column
        )
        assert close(row.se, ref["fixed", row.column, "se"]), row.column
        assert close(row.df, ref["fixed", row.column, "df"]), row.column
        assert close(row.p, ref["fixed", row.column, "p"], rtol=1e-4, atol=1e-12), row.column


@pytest.mark.parametrize("name", list(MODELS["name"]))
def test_fit_summary_matches_lme4(fits, name):
    result, ref = fits[name], reference(name)
    assert result.converged, result.optimizer_message
    assert result.n_observations == int(float(ref["fit", "model", "nobs"]))
    assert result.n_dropped_missing == int(float(ref["fit", "model", "n_dropped_missing"]))
    assert result.singular == bool(int(float(ref["fit", "model", "singular"])))
    # same coding as R's second fit, so the REML criterion is comparable; ours is never worse
    assert result.reml_criterion == pytest.approx(float(ref["fit", "model", "REMLcrit"]), abs=1e-6)
    assert result.reml_criterion <= float(ref["fit", "model", "REMLcrit"]) + 1e-9
    groups = {g: int(float(v)) for (section, g, q), v in ref.items() if section == "n_groups"}
    assert result.n_groups == groups
    vc = result.variance_components.set_index("name")
    assert list(vc.index)[-1] == "Residual"
    assert set(vc.index) == {g for (section, g, q) in ref.index if section == "varcomp"}
    for group in vc.index:
        assert close(vc.loc[group, "variance"], ref["varcomp", group, "variance"], atol=1e-10), (
            group
        )
        assert close(vc.loc[group, "sd"], ref["varcomp", group, "sd"], atol=1e-8), group


@pytest.fixture(scope="module")
def kr_fits():
    out = {}
    for name in MODELS["name"]:
        data, formula, levels = model_spec(name)
        out[name] = fit_lmm(data, formula, levels=levels, ddf="Kenward-Roger")
    return out


@pytest.mark.parametrize("name", list(MODELS["name"]))
def test_kenward_roger_matches_pbkrtest(kr_fits, name):
    result, ref = kr_fits[name], reference(name)
    assert result.ddf_method == "Kenward-Roger"
    for row in result.anova.itertuples():
        assert close(row.F, ref["anova_kenward_roger", row.term, "F"]), (row.term, row.F)
        assert close(row.df_den, ref["anova_kenward_roger", row.term, "DenDF"]), (
            row.term,
            row.df_den,
        )
        assert close(row.p, ref["anova_kenward_roger", row.term, "p"], atol=1e-12), row.term
    for row in result.fixed.itertuples():
        assert close(row.se, ref["fixed_kenward_roger", row.column, "se"]), row.column
        assert close(row.df, ref["fixed_kenward_roger", row.column, "df"]), row.column
        assert close(row.p, ref["fixed_kenward_roger", row.column, "p"], rtol=1e-4, atol=1e-12), (
            row.column
        )


def test_kenward_roger_differs_from_satterthwaite_where_it_should(fits, kr_fits):
    # balanced 2 x 3 within design: both methods give the classical df (9 and 18 here)
    sat = fits["textbook"].anova.set_index("term")["df_den"]
    kr = kr_fits["textbook"].anova.set_index("term")["df_den"]
    np.testing.assert_allclose(sat, kr, rtol=1e-6)
    # unbalanced with two random intercepts: the adjusted se are larger than the plain ones
    a = fits["fmrs_block_session"].fixed["se"].to_numpy()
    b = kr_fits["fmrs_block_session"].fixed["se"].to_numpy()
    assert np.all(b >= a) and np.any(b > a * (1 + 1e-4))
    # either method on request from the same fit
    res = fits["madrs"].contrast({"condition[naltrexone-placebo]": 1.0}, ddf="Kenward-Roger")
    assert res["df"] == pytest.approx(
        kr_fits["madrs"].fixed.set_index("column").loc["condition[naltrexone-placebo]", "df"]
    )
    with pytest.raises(LmmInputError, match="ddf"):
        fits["madrs"].contrast({"condition[naltrexone-placebo]": 1.0}, ddf="Wald")
    data, formula, levels = model_spec("madrs")
    with pytest.raises(LmmInputError, match="ddf"):
        fit_lmm(data, formula, levels=levels, ddf="kr")


def test_r_codings_agree():
    """lmerTest's type III anova is the same with contr.sum and with this module's coding."""
    for name in MODELS["name"]:
        # two separate R fits: they differ by lme4's optimiser tolerance only
        assert float(reference(name)["fit", "model", "anova_coding_max_rel_diff"]) < 1e-5


def test_paper_shaped_models_have_the_expected_df(fits):
    # participant intercept only: condition tested against the residual (paper: F(1, 253))
    assert fits["fmrs_block"].anova.set_index("term").loc["condition", "df_den"] > 150
    # with a participant:condition intercept the condition df drop to about n - 1 (README)
    assert 15 < fits["fmrs_block_session"].anova.set_index("term").loc["condition", "df_den"] < 25
    # 26 participants x 4 visits, one value missing: df just under 3 x 25 = 75 (paper: F(1, 74))
    madrs = fits["madrs"].anova.set_index("term")
    assert madrs.loc["condition:time", "df_num"] == 1
    assert 73.5 < madrs.loc["condition:time", "df_den"] < 75


def test_multi_df_basis_is_lmertest_s(fits):
    """Unbalanced 3 x 4 design: the multi-df Satterthwaite df depend on the basis of L; with
    lmerTest's basis they match R, with the plain term columns they are off by ~7e-5."""
    result, ref = fits["within_3x4_session"], reference("within_3x4_session")
    cols = result.term_columns["a:b"]
    L = np.zeros((len(cols), len(result.column_names)))
    L[np.arange(len(cols)), cols] = 1.0
    plain = result.f_test(L)
    expected = float(ref["anova", "a:b", "DenDF"])
    assert plain["F"] == pytest.approx(
        float(ref["anova", "a:b", "F"]), rel=1e-5
    )  # F does not depend on it
    assert abs(plain["df_den"] / expected - 1) > 3e-5
    assert result.anova.set_index("term").loc["a:b", "df_den"] == pytest.approx(expected, rel=5e-6)


# --- singular fits, missing data, contrasts --------------------------------------------------


def test_singular_fit_is_flagged_not_hidden(fits):
    result = fits["singular"]
    assert result.singular and result.converged
    vc = result.variance_components.set_index("name")
    assert vc.loc["participant_id", "variance"] == 0.0  # exactly on the boundary
    assert "singular" in result.optimizer_message
    assert np.isfinite(result.anova["df_den"]).all()


def test_missing_rows_are_counted_and_not_filled():
    data, formula, levels = model_spec("fmrs_block")
    assert data["ratio"].isna().sum() == 4
    base = fit_lmm(data, formula, levels=levels)
    assert (base.n_observations, base.n_dropped_missing) == (221, 4)
    more = data.copy()
    more.loc[more.index[:3], "block"] = np.nan  # a missing factor value also drops the row
    more.loc[more.index[5], "participant_id"] = None
    again = fit_lmm(more, formula, levels=levels)
    assert (again.n_observations, again.n_dropped_missing) == (217, 8)
    assert data["ratio"].isna().sum() == 4  # input untouched


def test_interaction_contrast_equals_difference_of_cell_means(fits):
    result = fits["madrs"]
    w = result.mean_weights
    cell = {
        (c, t): w({"condition": c, "time": t})
        for c in ("placebo", "naltrexone")
        for t in ("pre", "day1")
    }
    L = (cell["naltrexone", "day1"] - cell["naltrexone", "pre"]) - (
        cell["placebo", "day1"] - cell["placebo", "pre"]
    )
    res = result.contrast(L)
    row = result.anova.set_index("term").loc["condition:time"]
    assert res["estimate"] == pytest.approx(row["estimate"], rel=1e-12)
    assert res["df"] == pytest.approx(row["df_den"], rel=1e-10)
    assert res["t"] ** 2 == pytest.approx(row["F"], rel=1e-10)
    # dict form, by column name, gives the same test
    by_name = result.contrast({"condition[naltrexone-placebo]:time[day1-pre]": 1.0})
    assert by_name["p"] == pytest.approx(res["p"], rel=1e-10)
    # simple effect: condition at day 1 is the condition effect plus half the interaction
    simple = result.contrast(cell["naltrexone", "day1"] - cell["placebo", "day1"])
    beta = result.fixed.set_index("column")["estimate"]
    assert simple["estimate"] == pytest.approx(
        beta["condition[naltrexone-placebo]"]
        + 0.5 * beta["condition[naltrexone-placebo]:time[day1-pre]"]
    )


def test_f_test_of_term_columns_reproduces_anova_row(fits):
    result = fits["fmrs_block"]
    cols = result.term_columns["condition:block"]
    L = np.zeros((len(cols), len(result.column_names)))
    L[np.arange(len(cols)), cols] = 1.0
    res = result.f_test(L)
    row = result.anova.set_index("term").loc["condition:block"]
    assert res["F"] == pytest.approx(row["F"], rel=1e-10)
    assert res["df_num"] == 5
    # another basis of the same hypothesis changes the multi-df Satterthwaite df only slightly
    assert res["df_den"] == pytest.approx(row["df_den"], rel=1e-3)


@pytest.mark.parametrize("bad", [np.ones(3), np.ones((2, 2)), np.ones((1, 40))])
def test_contrast_of_wrong_shape_raises(fits, bad):
    result = fits["madrs"]
    with pytest.raises(LmmInputError, match="weights|columns"):
        if bad.ndim == 1:
            result.contrast(bad)
        else:
            result.f_test(bad)
    with pytest.raises(LmmInputError, match="column"):
        result.contrast({"no_such_column": 1.0})


# --- formula and input errors ----------------------------------------------------------------


def test_formula_terms_follow_r_order():
    f = parse_formula(
        "y ~ condition * time * sex + (1 | participant_id) + (1 | participant_id:condition)"
    )
    assert f.terms == (
        ("condition",),
        ("time",),
        ("sex",),
        ("condition", "time"),
        ("condition", "sex"),
        ("time", "sex"),
        ("condition", "time", "sex"),
    )
    assert f.groups == (("participant_id",), ("participant_id", "condition"))
    g = parse_formula("y ~ a:b + b + 1 + (1|g)")
    assert g.terms == (("b",), ("a", "b"))


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("y condition", "'~'"),
        ("y ~ condition", "random intercept"),
        ("y ~ condition + (time:x | g)", "or a column name left of"),
        ("y ~ condition + (1 | g) + (1 | g)", "each random coefficient once"),
        ("y ~ condition + (1 | g + h)", "grouping"),
        ("y ~ condition - 1 + (1|g)", "intercept"),
        ("y ~ a*b:c + (1|g)", "either"),
        ("y ~ condition + + (1|g)", "term"),
    ],
)
def test_bad_formula_raises_one_line(formula, fragment):
    with pytest.raises(LmmInputError, match=fragment) as err:
        parse_formula(formula, source="models.tsv")
    assert "models.tsv" in str(err.value) and "\n" not in str(err.value)


def madrs_data():
    data, formula, levels = model_spec("madrs")
    return data, formula, levels


def test_bad_data_raise_input_errors():
    data, formula, levels = madrs_data()
    with pytest.raises(LmmInputError, match="madrs.csv.*column 'visit'"):
        fit_lmm(data, formula.replace("time", "visit"), levels=levels, source="madrs.csv")
    text = data.astype({"madrs": object})
    text.loc[7, "madrs"] = "n/a"
    with pytest.raises(LmmInputError, match=r"row 7, column 'madrs': expected a number, got 'n/a'"):
        fit_lmm(text, formula, levels=levels, source="madrs.csv")
    inf = data.astype({"madrs": float})
    inf.loc[3, "madrs"] = np.inf
    with pytest.raises(LmmInputError, match="row 3.*finite"):
        fit_lmm(inf, formula, levels=levels)
    with pytest.raises(LmmInputError, match="column 'time': expected one of the levels"):
        fit_lmm(data, formula, levels={"time": ["pre", "day7"]})
    single = data[data["condition"] == "placebo"]
    with pytest.raises(LmmInputError, match="at least 2 levels"):
        fit_lmm(single, formula, levels=levels)
    with pytest.raises(LmmInputError, match="DataFrame"):
        fit_lmm(data.to_dict(), formula)


def test_empty_interaction_cell_is_refused_on_request_else_dropped():
    data, formula, levels = madrs_data()
    holed = data[~((data["condition"] == "naltrexone") & (data["time"] == "day1"))]
    with pytest.raises(LmmInputError, match="full-rank"):
        fit_lmm(holed, formula, levels=levels, rank_deficient="stop")
    # lme4's default: the aliased interaction column is dropped, the main effects are tested and
    # the interaction of a 2 x 2 design with an empty cell has no estimable hypothesis (NaN row)
    result = fit_lmm(holed, formula, levels=levels)
    assert len(result.dropped_columns) == 1 and result.dropped_columns[0].startswith("condition")
    assert result.anova["df_num"].tolist()[:2] == [1, 1]
    assert result.anova.iloc[2].drop("term").isna().all()
    with pytest.raises(LmmInputError, match="dropped columns"):
        result.mean_weights({"condition": "naltrexone"})


def test_levels_order_sets_reference_and_sign(fits):
    data, formula, _ = madrs_data()
    flipped = fit_lmm(
        data, formula, levels={"condition": ["naltrexone", "placebo"], "time": ["pre", "day1"]}
    )
    a = fits["madrs"].anova.set_index("term")
    b = flipped.anova.set_index("term")
    assert b.loc["condition", "estimate"] == pytest.approx(
        -a.loc["condition", "estimate"], rel=1e-8
    )
    assert b.loc["condition", "F"] == pytest.approx(a.loc["condition", "F"], rel=1e-8)
    assert "condition[placebo-naltrexone]" in flipped.column_names


# --- internals, speed, determinism -----------------------------------------------------------


def test_analytic_gradient_matches_finite_differences():
    data, formula, levels = model_spec("fmrs_block_session")
    design = build_design(data, parse_formula(formula), levels, "x")
    reml = BlockReml(design, Layout.of([block.term for block in design.random]))
    psi = np.array([2.0, 0.5])

    def deviance(x):
        return reml.evaluate(np.sqrt(x), gradient=False)[0]

    _, grad, _, _ = reml.evaluate(np.sqrt(psi), psi=True)
    h = 1e-4  # central differences: truncation ~h^2, rounding ~1e-13 * |deviance| / h
    numeric = [(deviance(psi + h * e) - deviance(psi - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)


def simulated_paper_design(seed=7):
    """26 participants x 2 conditions x 6 blocks (312 rows), 22 spectra lost."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"sub-{i:02d}", c, b)
        for i in range(26)
        for c in ("placebo", "naltrexone")
        for b in "123456"
    ]
    d = pd.DataFrame(rows, columns=["participant_id", "condition", "block"])
    pid = d["participant_id"].str[4:].astype(int).to_numpy()
    sess = 2 * pid + (d["condition"] == "naltrexone").to_numpy()
    d["ratio"] = (
        1.1
        + rng.normal(0, 0.08, 26)[pid]
        + rng.normal(0, 0.02, 52)[sess]
        + rng.normal(0, 0.04, len(d))
    )
    d.loc[rng.choice(len(d), 22, replace=False), "ratio"] = np.nan
    return d


def test_fit_of_paper_sized_model_is_deterministic():
    d = simulated_paper_design()
    formula = "ratio ~ condition * block + (1 | participant_id) + (1 | participant_id:condition)"
    first = fit_lmm(d, formula)
    second = fit_lmm(d, formula)  # speed: tools/benchmark_lmm.py
    assert first.n_observations == 290 and first.n_dropped_missing == 22
    pd.testing.assert_frame_equal(first.anova, second.anova, check_exact=True)
    pd.testing.assert_frame_equal(first.fixed, second.fixed, check_exact=True)
