"""A second independent check of the REML fit: statsmodels' MixedLM gives the same fixed effects
and variance components (it has no Satterthwaite df, which is why the pipeline does not use it)."""

from pathlib import Path

import pandas as pd
import pytest
import statsmodels.formula.api as smf

from lmmkit import fit_lmm

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stats"


@pytest.mark.parametrize(
    "csv, outcome, factors",
    [
        ("embedded_glx.csv", "ratio", ["condition", "block"]),
        ("embedded_madrs.csv", "value", ["condition", "timepoint"]),
    ],
)
def test_reml_fit_agrees_with_statsmodels_mixedlm(csv, outcome, factors):
    data = pd.read_csv(FIXTURES / csv, dtype={"block": str}).dropna(subset=[outcome])
    levels = {"condition": ["placebo", "naltrexone"]}
    if "timepoint" in factors:
        levels["timepoint"] = ["pre", "day1"]
    ours = fit_lmm(
        data, f"{outcome} ~ {factors[0]} * {factors[1]} + (1 | participant_id)", levels=levels
    )
    # The same model in statsmodels: sum (deviation) coding, so the intercept is the grand mean of
    # cells.
    coded = " * ".join(f"C({f}, Sum)" for f in factors)
    theirs = smf.mixedlm(f"{outcome} ~ {coded}", data, groups=data["participant_id"]).fit(
        reml=True, method="lbfgs"
    )
    variance = ours.variance_components.set_index("name")["variance"]
    assert variance["participant_id"] == pytest.approx(float(theirs.cov_re.iloc[0, 0]), rel=1e-3)
    assert variance["Residual"] == pytest.approx(theirs.scale, rel=1e-3)
    assert ours.beta[0] == pytest.approx(theirs.fe_params.iloc[0], rel=1e-6)
    # The Wald statistic of the 2-level condition term does not depend on the coding: F = z^2.
    name = next(
        n for n in theirs.params.index if n.startswith("C(condition, Sum)") and ":" not in n
    )
    condition = ours.anova.set_index("term").loc["condition", "F"]
    assert condition == pytest.approx(float(theirs.tvalues[name]) ** 2, rel=1e-3)
