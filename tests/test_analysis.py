import numpy as np
import pandas as pd
import pytest

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.stats.analyses import (
    STATS_COLUMNS,
    attenuation,
    impute_missing,
    phase_cell_means,
    rm_anova_rows,
    run_models,
)
from crossover_fmrs.stats.comparison import compare, to_markdown


def madrs_frame(pre_pbo, d1_pbo, pre_ntx, d1_ntx):
    rows = []
    for i, values in enumerate(zip(pre_pbo, d1_pbo, pre_ntx, d1_ntx)):
        pid = f"sub-{i + 1:02d}"
        for (condition, timepoint), value in zip(
            [
                ("placebo", "pre"),
                ("placebo", "day1"),
                ("naltrexone", "pre"),
                ("naltrexone", "day1"),
            ],
            values,
        ):
            rows.append(
                {
                    "participant_id": pid,
                    "condition": condition,
                    "timepoint": timepoint,
                    "value": value,
                }
            )
    return pd.DataFrame(rows)


def test_attenuation_is_one_minus_ratio_of_mean_reductions():
    # Reductions: placebo 10 and 14 (mean 12); naltrexone 9 and 6 (mean 7.5) -> 1 - 7.5/12 = 37.5 %.
    data = madrs_frame([30, 32], [20, 18], [31, 29], [22, 23])
    table = attenuation(data, "placebo", "naltrexone", "pre", "day1", 200, 0.95, 1).set_index(
        "term"
    )
    assert table.loc["attenuation_percent", "estimate"] == pytest.approx(37.5)
    assert table.loc["mean reduction placebo", "estimate"] == pytest.approx(12.0)
    low, high = table.loc["attenuation_percent", ["ci_low", "ci_high"]]
    assert low <= 37.5 <= high


def test_attenuation_uses_the_participants_with_both_reductions_and_never_fills():
    # the third participant has no placebo day-1 rating: out of both means, not filled
    data = madrs_frame([30, 32, 28], [20, 18, np.nan], [31, 29, 30], [22, 23, 20])
    table = attenuation(data, "placebo", "naltrexone", "pre", "day1", 200, 0.95, 1).set_index(
        "term"
    )
    assert (table["n_pairs"] == 2).all() and (table["n_excluded"] == 1).all()
    assert table.loc["mean reduction naltrexone", "estimate"] == pytest.approx(7.5)  # not 8.33
    assert table.loc["attenuation_percent", "estimate"] == pytest.approx(37.5)


def test_attenuation_warns_when_its_interval_says_little():
    # placebo reductions around 0: the denominator's CI includes 0 and the ratio's CI is huge
    data = madrs_frame([30, 32, 28, 30], [31, 30, 29, 29], [31, 29, 30, 30], [22, 23, 20, 30])
    table = attenuation(data, "placebo", "naltrexone", "pre", "day1", 500, 0.95, 1).set_index(
        "term"
    )
    warning = table.loc["attenuation_percent", "warning"]
    assert "CI includes 0" in warning and "percentage points" in warning
    steady = madrs_frame([30, 32, 31, 33], [20, 18, 21, 19], [31, 29, 30, 30], [22, 23, 20, 21])
    calm = attenuation(steady, "placebo", "naltrexone", "pre", "day1", 500, 0.95, 1)
    assert (calm["warning"] == "").all()


def test_impute_pre_other_condition_and_log():
    scores = pd.DataFrame(
        {
            "participant_id": ["sub-01"] * 4,
            "condition": ["placebo", "placebo", "naltrexone", "naltrexone"],
            "timepoint": ["pre", "day1", "pre", "day1"],
            "outcome": ["TEPS_A"] * 4,
            "value": [np.nan, 40.0, 35.0, 41.0],
        }
    )
    filled, log = impute_missing(scores, ["TEPS_A"], "pre", "other_condition")
    assert filled.loc[0, "value"] == 35.0
    assert len(log) == 1 and log.loc[0, "condition"] == "placebo"
    untouched, none_log = impute_missing(scores, ["TEPS_A"], "pre", "none")
    assert np.isnan(untouched.loc[0, "value"]) and none_log.empty
    with pytest.raises(ValueError, match="impute_missing"):
        impute_missing(scores, ["TEPS_A"], "pre", "zero")
    by_mean, _ = impute_missing(scores, ["TEPS_A"], "pre", "sample_mean")
    assert np.isnan(by_mean.loc[0, "value"])  # no observed placebo pre value to average: stays NaN


def simulated_madrs(seed=3, n=16):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        base = 30 + rng.normal(0, 4)
        sex = "M" if i % 2 else "F"
        for condition, drop in (("placebo", 10), ("naltrexone", 6)):
            for timepoint in ("pre", "day1"):
                value = base - (drop if timepoint == "day1" else 0) + rng.normal(0, 3)
                rows.append(
                    {
                        "participant_id": f"sub-{i + 1:02d}",
                        "condition": condition,
                        "timepoint": timepoint,
                        "sex": sex,
                        "value": value,
                    }
                )
    data = pd.DataFrame(rows)
    data["timepoint"] = pd.Categorical(data["timepoint"], categories=["pre", "day1"])
    return data


def test_run_models_layout_and_coding():
    data = simulated_madrs()
    tests, models = run_models(
        data,
        "value ~ condition * timepoint + (1 | participant_id)",
        "clinical_lmm",
        "MADRS",
        ["placebo", "naltrexone"],
        "placebo",
    )
    assert list(tests.columns) == STATS_COLUMNS
    interaction = tests.set_index("term").loc["condition:timepoint"]
    # Coding -0.5/+0.5: the estimate is the difference of changes (naltrexone - placebo), ~ +4.
    assert 0 < interaction["estimate"] < 8
    assert interaction["df_num"] == 1 and interaction["n_participants"] == 16
    assert interaction["effect_size"] == pytest.approx(
        interaction["F"] / (interaction["F"] + interaction["df_den"])
    )
    assert set(models["component"]) == {"participant_id", "Residual"}


def test_rm_anova_rows_say_why_they_differ():
    data = simulated_madrs()
    data.loc[1, "value"] = np.nan
    table = rm_anova_rows(data, "value", ["condition", "timepoint"], "clinical_rm_anova", "MADRS")
    row = table.set_index("term").loc["condition:timepoint"]
    assert row["n_participants"] == 15 and row["df_den"] == 14
    assert "complete cases only (15 of 16 participants" in row["note"]


def _published(id_, result, fields, **common):
    return [
        {
            "id": id_,
            "result": result,
            "field": field,
            "published": value,
            "source": "",
            "location": "Abstract",
            **common,
        }
        for field, value in fields.items()
    ]


def test_comparison_puts_a_tests_numbers_in_one_row_at_published_precision():
    published = pd.DataFrame(
        _published(
            "madrs_cond_x_time",
            "MADRS condition x time",
            {"F": "5.39", "df_num": "1", "df_den": "74", "p": "0.023"},
            table="clinical_lmm",
            outcome="MADRS",
            subset="all",
            term="condition:timepoint",
            expected_sign="positive",
            published_significant="yes",
        )
        + _published(
            "glx_sex",
            "Glx by sex",
            {"estimate": "larger in males"},
            table="sex_stratified",
            outcome="Glx/tNAA",
            subset="male;female",
            term="condition",
            expected_sign="male_larger",
            published_significant="",
        )
    )
    tables = {
        "clinical_lmm": pd.DataFrame(
            [
                {
                    "outcome": "MADRS",
                    "subset": "all",
                    "term": "condition:timepoint",
                    "estimate": 3.1,
                    "F": 5.3949,
                    "df_num": 1,
                    "df_den": 74.08,
                    "p": 0.02297,
                    "n_observations": 103,
                    "n_participants": 26,
                }
            ]
        ),
        "sex_stratified": pd.DataFrame(
            [
                {
                    "outcome": "Glx/tNAA",
                    "subset": "female",
                    "term": "condition",
                    "estimate": -0.01,
                    "p": 0.5,
                },
                {
                    "outcome": "Glx/tNAA",
                    "subset": "male",
                    "term": "condition",
                    "estimate": -0.03,
                    "p": 0.01,
                },
            ]
        ),
        "sex_interaction": pd.DataFrame(
            [
                {
                    "outcome": "Glx/tNAA",
                    "subset": "all",
                    "term": "condition:sex",
                    "estimate": -0.02,
                    "p": 0.04,
                }
            ]
        ),
    }
    table = compare(published, tables, synthetic=True, calibrated=True).set_index("id")
    madrs = table.loc["madrs_cond_x_time"]
    assert madrs["published"] == "F(1,74) = 5.39, P = 0.023"
    assert madrs["reproduced"] == "F(1,74) = 5.39, P = 0.023"
    assert madrs["numbers_agree"] and madrs["conclusion_agrees"]
    assert madrs["note"] == ""  # nothing to add where everything agrees
    assert (
        table.loc["glx_sex", "direction_agrees"]
        and "condition × sex -0.02" in table.loc["glx_sex", "reproduced"]
    )
    markdown = to_markdown(table.reset_index(), synthetic=True, calibrated=True)
    assert (
        "CALIBRATED SYNTHETIC DATA" in markdown and "not that the trial's finding holds" in markdown
    )
    assert (
        "| F(1,74) = 5.39, P = 0.023 | F(1,74) = 5.39, P = 0.023 | **agrees** | the numbers, the "
        "direction and the significance as published | yes | yes | yes | yes |" in markdown
    )
    # the sex claim agrees only with a significant interaction (here P = 0.04) ...
    assert table.loc["glx_sex", "verdict"] == "agrees"
    # ... and is "direction only" without one
    tables["sex_interaction"].loc[0, "p"] = 0.61
    weak = compare(published, tables, synthetic=True, calibrated=True).set_index("id")
    assert weak.loc["glx_sex", "verdict"] == "direction only"
    assert "P = 0.61" in weak.loc["glx_sex", "reason"]
    assert not weak.loc["glx_sex", "conclusion_agrees"]
    tables["sex_interaction"].loc[0, "p"] = 0.04
    # F = 5.3849 rounds to 5.38: not the published 5.39.
    tables["clinical_lmm"].loc[0, "F"] = 5.3849
    assert (
        not compare(published, tables, synthetic=True)
        .set_index("id")
        .loc["madrs_cond_x_time", "numbers_agree"]
    )
    # A plain random draw keeps the note on how unusual its F is (F = 4 with a published 5.39: 37%).
    tables["clinical_lmm"].loc[0, ["F", "p"]] = [4.0, 0.049]
    plain = compare(published, tables, synthetic=True, calibrated=False).set_index("id")
    assert "F is at most this in 37% of studies" in plain.loc["madrs_cond_x_time", "note"]
    assert "one random draw" in to_markdown(plain.reset_index(), synthetic=True)
    tables["clinical_lmm"].loc[0, "p"] = 0.2
    again = compare(published, tables, synthetic=False).set_index("id")
    assert not again.loc["madrs_cond_x_time", "significance_agrees"]
    assert not again.loc["madrs_cond_x_time", "conclusion_agrees"]
    assert again.loc["madrs_cond_x_time", "verdict"] == "not significant here"
    tables["clinical_lmm"].loc[0, "estimate"] = -3.1
    assert (
        compare(published, tables, synthetic=False)
        .set_index("id")
        .loc["madrs_cond_x_time", "verdict"]
        == "disagrees"
    )


def test_comparison_puts_the_session_sensitivity_beside_the_published_glx_test():
    published = pd.DataFrame(
        _published(
            "glx_condition",
            "Glx/tNAA condition",
            {"F": "4.83", "df_num": "1", "df_den": "253", "p": "0.029"},
            table="glx_lmm",
            outcome="Glx/tNAA",
            subset="all",
            term="condition",
            expected_sign="negative",
            published_significant="yes",
        )
    )
    primary = "ratio ~ condition * block + (1 | participant_id)"
    session = primary + " + (1 | participant_id:condition)"

    def test_row(f, df_den, p, model):
        return pd.DataFrame(
            [
                {
                    "outcome": "Glx/tNAA",
                    "subset": "all",
                    "term": "condition",
                    "estimate": -0.015,
                    "F": f,
                    "df_num": 1,
                    "df_den": df_den,
                    "p": p,
                    "model": model,
                    "n_observations": 290,
                    "n_participants": 26,
                }
            ]
        )

    components = pd.DataFrame(
        {
            "component": ["participant_id", "participant_id:condition", "Residual"],
            "variance": [0.012, 0.0004, 0.0033],
        }
    )
    tables = {
        "glx_lmm": test_row(4.8301, 253.04, 0.0289, primary),
        "glx_lmm_sensitivity": test_row(1.9, 24.6, 0.18, session),
        "glx_sensitivity_models": components,
    }
    table = compare(published, tables, synthetic=False).set_index("id")
    row = table.loc["glx_condition_session_sensitivity"]
    assert row["published"] == "F(1,253) = 4.83, P = 0.029"
    assert row["reproduced"] == "F(1,24.6) = 1.90, P = 0.18"
    assert pd.isna(row["numbers_agree"]) and row["direction_agrees"]
    assert not row["significance_agrees"] and not row["conclusion_agrees"]
    assert "session variance 0.0004" in row["note"] and "singular" not in row["note"]
    assert list(table.index) == ["glx_condition", "glx_condition_session_sensitivity"]
    components.loc[1, "variance"] = 0.0
    tables["glx_lmm_sensitivity"] = test_row(4.83, 253.1, 0.029, session)
    row = (
        compare(published, tables, synthetic=False)
        .set_index("id")
        .loc["glx_condition_session_sensitivity"]
    )
    assert row["conclusion_agrees"] and "singular fit" in row["note"]


def test_comparison_refuses_a_row_without_a_reproduced_value():
    published = pd.DataFrame(
        _published(
            "x",
            "a test",
            {"F": "1"},
            table="t",
            outcome="MADRS",
            subset="all",
            term="condition",
            expected_sign="",
            published_significant="",
        )
    )
    tables = {
        "t": pd.DataFrame([{"outcome": "MADRS", "subset": "all", "term": "timepoint", "F": 1.0}])
    }
    with pytest.raises(ValueError, match="no reproduced row for x"):
        compare(published, tables, synthetic=False)


def test_baseline_characteristics_table():
    from crossover_fmrs.stats.analyses import baseline_characteristics

    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-03"],
            "sex": ["M", "F", "F"],
            "age": [20.0, 30.0, 40.0],
        }
    )
    scores = madrs_frame([30, 20, 25], [20, 18, 20], [28, 22, 26], [22, 23, 20])
    scores["outcome"] = "MADRS"
    table = baseline_characteristics(participants, scores, "MADRS", "pre").set_index(
        ["characteristic", "level"]
    )
    assert (
        table.loc[("age", ""), "value"] == "30.0 (10.0)"
        and table.loc[("age", ""), "range"] == "20 to 40"
    )
    assert table.loc[("sex", "F"), "value"] == "2 (67%)"
    assert table.loc[("MADRS pre, placebo", ""), "value"] == "25.0 (5.0)"
    assert table.loc[("MADRS pre, naltrexone", ""), "value"] == "25.3 (3.1)"


def test_a_constant_outcome_is_a_one_line_error_not_a_meaningless_f():
    data = pd.DataFrame(
        {
            "participant_id": [f"sub-{i:02d}" for i in range(1, 7) for _ in range(2)],
            "condition": ["placebo", "naltrexone"] * 6,
            "ratio": 1.25,
        }
    )
    with pytest.raises(
        InputError,
        match=r"column 'ratio': expected values that vary .*got 'all 12 values equal to 1.25'",
    ):
        run_models(
            data,
            "ratio ~ condition + (1 | participant_id)",
            "glx_lmm",
            "Glx/tNAA",
            ["placebo", "naltrexone"],
            "placebo",
        )


def test_a_response_the_model_explains_exactly_is_a_one_line_error_naming_the_table():
    """Participant and condition effects with no noise: the residual variance collapses, and
    lmmkit would otherwise give an F of about 1e10 with p = 0."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "participant_id": np.repeat([f"sub-{i:02d}" for i in range(12)], 4),
            "condition": np.tile(["placebo", "placebo", "naltrexone", "naltrexone"], 12),
        }
    )
    data["ratio"] = (
        1.0 + np.repeat(rng.normal(size=12), 4) + 0.1 * (data["condition"] == "naltrexone")
    )
    with pytest.raises(InputError) as err:
        run_models(
            data,
            "ratio ~ condition + (1 | participant_id)",
            "glx_lmm",
            "Glx/tNAA",
            ["placebo", "naltrexone"],
            "placebo",
        )
    message = str(err.value)
    assert message.startswith("glx_lmm (Glx/tNAA, all), column 'ratio': expected a response")
    assert "residual variance" in message and "\n" not in message


def test_an_rm_anova_it_cannot_estimate_is_marked_so_and_does_not_raise():
    data = pd.DataFrame(
        {
            "participant_id": ["sub-01"] * 4 + ["sub-02"] * 3,
            "condition": [
                "placebo",
                "placebo",
                "naltrexone",
                "naltrexone",
                "placebo",
                "placebo",
                "naltrexone",
            ],
            "phase": ["baseline", "infusion"] * 3 + ["baseline"],
            "ratio": [1.2, 1.3, 1.25, 1.28, 1.1, 1.2, 1.15],
        }
    )
    rows = rm_anova_rows(data, "ratio", ["condition", "phase"], "glx_rm_anova_phase", "Glx/tNAA")
    assert rows["term"].tolist() == ["condition", "phase", "condition:phase"]
    assert rows["F"].isna().all() and (rows["n_participants"] == 0).all()
    assert (
        rows["note"]
        .str.contains("not estimable: at least 2 participants with a value in every cell")
        .all()
    )


def test_phase_cell_means_average_the_included_spectra_of_each_cell():
    data = pd.DataFrame(
        {
            "participant_id": ["sub-01"] * 4,
            "condition": ["placebo"] * 4,
            "phase": ["baseline", "infusion", "infusion", "infusion"],
            "ratio": [1.0, 1.2, 1.4, None],
        }
    )
    means = phase_cell_means(data)
    assert means["phase"].tolist() == ["baseline", "infusion"] and means["n_spectra"].tolist() == [
        1,
        2,
    ]
    assert means["ratio"].tolist() == pytest.approx([1.0, 1.3])
