"""lmmkit.lmer: the lme4/lmerTest-style interface over the engine checked in test_lmm*.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lmmkit
from lmmkit import LmmInputError, fit_lmm

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stats"
SLEEP = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def sleep():
    return pd.read_csv(FIXTURES / "sleepstudy.csv")


@pytest.fixture(scope="module")
def madrs():
    return pd.read_csv(FIXTURES / "madrs_2x2.csv")


def test_anova_is_the_engine_type_iii_table_with_lmertest_columns(madrs):
    formula = "madrs ~ condition * time + (1 | participant_id)"
    levels = {"condition": ["placebo", "naltrexone"], "time": ["pre", "day1"]}
    fit = lmmkit.lmer(formula, madrs, levels=levels)
    for ddf in ("Satterthwaite", "Kenward-Roger"):
        table = fit.anova(ddf=ddf)
        engine = fit_lmm(madrs, formula, levels=levels, ddf=ddf).anova
        assert list(table.columns) == lmmkit.api.ANOVA_TABLE_COLUMNS
        assert table["term"].tolist() == engine["term"].tolist()
        np.testing.assert_allclose(table["F"], engine["F"], rtol=1e-12)
        np.testing.assert_allclose(table["den_df"], engine["df_den"], rtol=1e-12)
        if ddf == "Satterthwaite":  # Kenward-Roger: before the scaling of F (test_lmmkit_reference)
            np.testing.assert_allclose(table["mean_sq"], table["F"] * fit.sigma**2, rtol=1e-12)
        np.testing.assert_allclose(table["sum_sq"], table["mean_sq"] * table["num_df"])
    assert fit.anova(ddf="kenward-roger").equals(fit.anova(ddf="Kenward-Roger"))


def test_sleepstudy_matches_lmertest(sleep):
    """R 4.2.2, lme4 1.1-31, lmerTest 3.1-3: anova(lmer(Reaction ~ Days + (Days | Subject)));
    ranef(fit)$Subject[c("308", "309"), ]; REMLcrit."""
    fit = lmmkit.lmer(SLEEP, sleep, data_name="sleepstudy")
    row = fit.anova().iloc[0]
    assert row["sum_sq"] == pytest.approx(30031.0, rel=1e-4)
    assert row["F"] == pytest.approx(45.853, rel=1e-4)
    assert fit.reml_criterion == pytest.approx(1743.6, abs=0.05)
    assert fit.loglik == pytest.approx(-fit.reml_criterion / 2)
    ranef = fit.ranef["Subject"]
    assert list(ranef.columns) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(
        ranef.loc[["308", "309"]].to_numpy(),
        [[2.258551, 9.198976], [-40.398738, -8.619681]],
        rtol=1e-4,
    )
    assert fit.converged and not fit.singular and fit.messages == []
    vc = fit.varcorr
    assert list(vc.columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert vc["vcov"].iloc[0] == pytest.approx(612.09, rel=1e-4)
    assert vc["sdcor"].iloc[2] == pytest.approx(0.0656, abs=1e-3)  # the correlation
    assert vc["grp"].iloc[-1] == "Residual"
    text = str(fit.summary())
    assert "REML criterion at convergence: 1743.6" in text
    assert "Number of obs: 180, groups:  Subject, 18" in text
    assert "Days" in text.split("Fixed effects:")[1]


def test_random_intercepts_are_the_shrunken_group_means():
    """Balanced one-way design: b_g = s2_b / (s2_b + s2_e / n) x (mean of the group - mu)."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"g": np.repeat(np.arange(8), 5)})
    data["y"] = rng.normal(size=8)[data["g"]] + rng.normal(size=40)
    fit = lmmkit.lmer("y ~ 1 + (1 | g)", data)
    s2_b, s2_e = fit.varcorr["vcov"].to_numpy()
    shrink = s2_b / (s2_b + s2_e / 5)
    expected = shrink * (data.groupby("g")["y"].mean() - fit.fixef["(Intercept)"])
    np.testing.assert_allclose(fit.ranef["g"]["(Intercept)"], expected.to_numpy(), rtol=1e-8)


def test_singular_fits_say_which_variance_or_correlation():
    intercept = lmmkit.lmer(
        "score ~ condition * time + (1 | participant_id)", pd.read_csv(FIXTURES / "singular.csv")
    )
    assert intercept.singular and intercept.converged
    assert "variance of participant_id estimated as 0" in intercept.messages[0]
    slope = lmmkit.lmer(
        "ratio ~ condition * minutes + (1 + minutes | participant_id)",
        pd.read_csv(FIXTURES / "singular_slope.csv"),
    )
    assert slope.singular
    assert (
        "correlation of participant_id ((Intercept), minutes) estimated as +1"
        in (slope.messages[0])
    )
    assert "variance" not in slope.messages[0]


def test_what_is_not_offered_is_refused_by_name(sleep):
    fit = lmmkit.lmer(SLEEP, sleep)
    with pytest.raises(LmmInputError, match="type"):
        fit.anova(type=2)
    with pytest.raises(LmmInputError, match="ddf"):
        fit.anova(ddf="Wald")
