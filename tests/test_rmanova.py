"""crossover_fmrs.stats.rmanova against R afex 1.2-1 (aov_ez, type 3, GG, pes and ges), values
stored in tests/fixtures/stats/reference by make_reference.R (see the README there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.stats.rmanova import RM_ANOVA_COLUMNS, complete_case_participants, rm_anova

FIXTURES = Path(__file__).parent / "fixtures" / "stats"
DESIGNS = pd.read_csv(FIXTURES / "rm_designs.tsv", sep="\t", keep_default_na=False, dtype=str)


def design(name: str):
    row = DESIGNS.set_index("name").loc[name]
    within = row["within"].split(",")
    data = pd.read_csv(FIXTURES / row["data"], dtype={c: str for c in [*within, row["subject"]]})
    if row["subset"]:
        column, value = row["subset"].split("==")
        data = data[data[column].astype(str) == value]
    return data, row["dv"], within, row["subject"]


def number(text: str) -> float:
    return np.nan if text == "NA" else float(text)


def reference(name: str) -> pd.Series:
    ref = pd.read_csv(
        FIXTURES / "reference" / f"afex_{name}.tsv", sep="\t", keep_default_na=False, dtype=str
    )
    return ref.set_index(["section", "name", "quantity"])["value"]


@pytest.mark.parametrize("name", list(DESIGNS["name"]))
def test_rm_anova_matches_afex(name):
    data, dv, within, subject = design(name)
    table = rm_anova(data, dv, within if len(within) > 1 else within[0], subject, source=name)
    ref = reference(name)
    assert list(table.columns) == RM_ANOVA_COLUMNS
    assert list(table["term"]) == [t for (s, t, q) in ref.index if s == "anova" and q == "F"]
    for row in table.itertuples():
        r = {
            q: number(ref["anova", row.term, q])
            for q in ("F", "num_df", "den_df", "p", "p_gg", "eps_gg", "pes", "ges", "num_df_gg")
        }
        assert row.F == pytest.approx(r["F"], rel=1e-8), row.term
        assert (row.df_num, row.df_den) == (r["num_df"], r["den_df"])
        assert row.p == pytest.approx(r["p"], rel=1e-6, abs=1e-14), row.term
        assert row.epsilon_gg == pytest.approx(r["eps_gg"], rel=1e-8, nan_ok=True), row.term
        assert row.p_gg == pytest.approx(r["p_gg"], rel=1e-6, abs=1e-14, nan_ok=True), row.term
        if not np.isnan(r["eps_gg"]):
            assert row.epsilon_gg * row.df_num == pytest.approx(r["num_df_gg"], rel=1e-8)
        assert row.np2 == pytest.approx(r["pes"], rel=1e-8), row.term
        assert row.ges == pytest.approx(r["ges"], rel=1e-8), row.term
    assert (table["n_participants"] == int(float(ref["participants", "used", "n"]))).all()
    assert (table["participants_dropped"] == ref["participants", "dropped", "ids"]).all()


def test_incomplete_participants_are_dropped_and_listed():
    data, dv, within, subject = design("fmrs_rm")
    used, dropped = complete_case_participants(data, dv, within, subject)
    assert len(used) == 6 and len(dropped) == 14
    assert dropped[:3] == ["sub-02", "sub-03", "sub-07"]
    table = rm_anova(data, dv, within, subject)
    assert (table["n_participants"] == 6).all() and (table["n_participants_dropped"] == 14).all()
    # a NaN outcome counts as a missing cell, like an absent row
    madrs, dv2, within2, subject2 = design("madrs_rm")
    assert complete_case_participants(madrs, dv2, within2, subject2)[1] == ["sub-17"]
    nan = madrs.copy()
    nan.loc[nan.index[0], dv2] = np.nan
    assert complete_case_participants(nan, dv2, within2, subject2)[1] == ["sub-01", "sub-17"]


def test_two_level_one_way_design_reports_epsilon_one():
    data, dv, within, subject = design("madrs_rm_day1")
    table = rm_anova(data, dv, within[0], subject)
    assert table.loc[0, "epsilon_gg"] == 1.0
    assert table.loc[0, "p_gg"] == table.loc[0, "p"]
    assert table.loc[0, "df_den"] == 24  # 25 complete participants


def test_epsilon_is_not_reported_where_r_cannot_estimate_it():
    data, dv, within, subject = design("within_3x4_rm")
    few = data[data[subject].isin(["sub-04", "sub-05", "sub-06", "sub-07", "sub-08"])]
    table = rm_anova(few, dv, within, subject).set_index("term")
    # 5 participants: a (2 df) and b (3 df) have an epsilon, a:b (6 df) has none
    assert np.isfinite(table.loc[["a", "b"], "epsilon_gg"]).all()
    assert np.isnan(table.loc["a:b", "epsilon_gg"]) and np.isnan(table.loc["a:b", "p_gg"])
    assert np.isfinite(table.loc["a:b", "p"])


def test_duplicate_rows_in_a_cell_raise():
    data, dv, within, subject = design("madrs_rm")
    doubled = pd.concat([data, data.iloc[[4]]])
    with pytest.raises(
        InputError, match=r"madrs.csv, participant sub-02.*one row per participant and cell.*2 rows"
    ):
        rm_anova(doubled, dv, within, subject, source="madrs.csv")


def test_bad_input_raises_input_error():
    data, dv, within, subject = design("madrs_rm")
    with pytest.raises(InputError, match="column 'visit'"):
        rm_anova(data, dv, ["condition", "visit"], subject)
    with pytest.raises(InputError, match="one or two"):
        rm_anova(data, dv, ["condition", "time", "period"], subject)
    gap = data.copy()
    gap.loc[gap.index[2], "time"] = None
    with pytest.raises(InputError, match="column 'time': expected a value"):
        rm_anova(gap, dv, within, subject)
    text = data.astype({dv: object})
    text.loc[text.index[1], dv] = "twelve"
    with pytest.raises(InputError, match="expected a number, got 'twelve'"):
        rm_anova(text, dv, within, subject)
    with pytest.raises(InputError, match="at least 2 participants"):
        rm_anova(data[data[subject].isin(["sub-01"])], dv, within, subject)


def test_input_is_not_modified_and_output_is_deterministic():
    data, dv, within, subject = design("textbook_rm")
    before = data.copy()
    shuffled = data.sample(frac=1.0, random_state=np.random.RandomState(3))
    a = rm_anova(data, dv, within, subject)
    b = rm_anova(shuffled, dv, within, subject)
    pd.testing.assert_frame_equal(data, before)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
