"""The embedded study's primary tests agree with R (lmerTest, afex) to 4 significant digits.

The model data R fitted are stored in tests/fixtures/stats/embedded_*.csv; the first test makes
sure they are still what the pipeline builds from data/synthetic, so the reference values
belong to the embedded dataset and not to a stale copy.
"""

from pathlib import Path

import pandas as pd
import pytest

from crossover_fmrs.stats.analyses import rm_anova_rows, run_models
from embedded import embedded_model_data

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "stats"
CONDITIONS = ["placebo", "naltrexone"]


@pytest.fixture(scope="module")
def model_data():
    return embedded_model_data(ROOT)


def r_reference(name: str, section: str) -> pd.DataFrame:
    table = pd.read_csv(
        FIXTURES / "reference" / f"{name}.tsv", sep="\t", keep_default_na=False, dtype=str
    )
    table = table[table["section"] == section]
    wide = table.pivot(index="name", columns="quantity", values="value")
    return wide.replace("NA", "nan").astype(
        float
    )  # R's NA: GG epsilon undefined with too few participants


def test_stored_model_data_is_what_the_pipeline_builds(model_data):
    for name, frame in model_data.items():
        text = frame.to_csv(index=False, na_rep="NA", float_format="%.10g", lineterminator="\n")
        assert text == (FIXTURES / f"embedded_{name}.csv").read_text(), name


@pytest.mark.parametrize(
    "reference, data, formula",
    [
        ("lmer_embedded_glx", "glx", "ratio ~ condition * block + (1 | participant_id)"),
        ("lmer_embedded_glx_sex", "glx", "ratio ~ condition * block * sex + (1 | participant_id)"),
        (
            "lmer_embedded_glx_crossover",
            "glx",
            "ratio ~ condition * block + period + order + (1 | participant_id)",
        ),
        (
            "lmer_embedded_glx_session",
            "glx",
            "ratio ~ condition * block + (1 | participant_id) + (1 | participant_id:condition)",
        ),
        ("lmer_embedded_madrs", "madrs", "value ~ condition * timepoint + (1 | participant_id)"),
        (
            "lmer_embedded_madrs_sex",
            "madrs",
            "value ~ condition * timepoint * sex + (1 | participant_id)",
        ),
        ("lmer_embedded_qids", "qids_sr16", "value ~ condition * timepoint + (1 | participant_id)"),
    ],
)
def test_pipeline_mixed_models_match_lmertest(model_data, reference, data, formula):
    tests, _ = run_models(model_data[data], formula, "check", "check", CONDITIONS, "placebo")
    ours = tests.set_index("term")
    theirs = r_reference(reference, "anova")
    assert sorted(ours.index) == sorted(theirs.index)
    for term in theirs.index:
        for column, quantity in (("F", "F"), ("df_num", "NumDF"), ("df_den", "DenDF"), ("p", "p")):
            assert ours.loc[term, column] == pytest.approx(theirs.loc[term, quantity], rel=1e-4), (
                term,
                column,
            )


def test_the_two_primary_tests_have_the_papers_structure(model_data):
    glx, _ = run_models(
        model_data["glx"],
        "ratio ~ condition * block + (1 | participant_id)",
        "g",
        "g",
        CONDITIONS,
        "placebo",
    )
    madrs, _ = run_models(
        model_data["madrs"],
        "value ~ condition * timepoint + (1 | participant_id)",
        "m",
        "m",
        CONDITIONS,
        "placebo",
    )
    assert glx.set_index("term").loc["condition", "df_den"] == pytest.approx(253, abs=3)
    assert madrs.set_index("term").loc["condition:timepoint", "df_den"] == pytest.approx(
        74, abs=0.5
    )


@pytest.mark.parametrize(
    "reference, data, dv, within",
    [
        ("afex_embedded_glx_rm", "glx", "ratio", ["condition", "block"]),
        ("afex_embedded_madrs_rm", "madrs", "value", ["condition", "timepoint"]),
    ],
)
def test_pipeline_rm_anova_matches_afex(model_data, reference, data, dv, within):
    ours = rm_anova_rows(model_data[data], dv, within, "check", "check").set_index("term")
    theirs = r_reference(reference, "anova")
    assert sorted(ours.index) == sorted(theirs.index)
    pairs = [
        ("F", "F"),
        ("df_num", "num_df"),
        ("df_den", "den_df"),
        ("p", "p"),
        ("p_gg", "p_gg"),
        ("epsilon_gg", "eps_gg"),
        ("effect_size", "pes"),
        ("ges", "ges"),
    ]
    for term in theirs.index:
        for column, quantity in pairs:
            assert ours.loc[term, column] == pytest.approx(
                theirs.loc[term, quantity], rel=1e-4, nan_ok=True
            ), (term, column)
