"""The calibrated embedded study: the pipeline's own functions, run on data/synthetic, reproduce
every published number at its published precision; and the search finds the committed values."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from crossover_fmrs.common.errors import InputError
from crossover_fmrs.simulate import calibrate
from crossover_fmrs.simulate.calibrate import (
    calibration_tsv,
    decimals,
    lands,
    read_calibration,
    targets,
)
from crossover_fmrs.stats.analyses import attenuation, run_models, sex_subsets
from embedded import embedded_model_data
from test_simulate_study import committed_config, simulate

ROOT = Path(__file__).resolve().parents[1]
CONDITIONS = ["placebo", "naltrexone"]
PUBLISHED = pd.read_csv(
    ROOT / "resources" / "published_results.tsv", sep="\t", dtype=str, keep_default_na=False
)


def published(identifier: str, field: str) -> str:
    """A published number as written in resources/published_results.tsv (its text gives the
    precision)."""
    return PUBLISHED[(PUBLISHED["id"] == identifier) & (PUBLISHED["field"] == field)][
        "published"
    ].iloc[0]


def rounds_to(value: float, text: str) -> bool:
    places = len(text.split(".")[1]) if "." in text else 0
    return f"{value:.{places}f}" == text


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.fixture(scope="module")
def data(config):
    return embedded_model_data(ROOT, config)


def term(table: pd.DataFrame, name: str, subset: str = "all") -> pd.Series:
    return table[(table["term"] == name) & (table["subset"] == subset)].iloc[0]


def test_glx_condition_is_the_published_test(config, data):
    tests, _ = run_models(
        data["glx"], config["stats"]["glx_formula"], "glx_lmm", "Glx/tNAA", CONDITIONS, "placebo"
    )
    row = term(tests, "condition")
    assert rounds_to(row["F"], published("glx_condition", "F"))
    assert rounds_to(row["df_den"], published("glx_condition", "df_den"))
    assert rounds_to(row["p"], published("glx_condition", "p"))
    assert row["df_num"] == 1 and row["estimate"] < 0
    assert row["n_participants"] == int(published("n_analysed", "n_participants")) == 26


def test_madrs_condition_by_time_and_attenuation_are_the_published_ones(config, data):
    tests, _ = run_models(
        data["madrs"],
        config["stats"]["clinical_formula"],
        "clinical_lmm",
        "MADRS",
        CONDITIONS,
        "placebo",
    )
    row = term(tests, "condition:timepoint")
    assert rounds_to(row["F"], published("madrs_cond_x_time", "F"))
    assert rounds_to(row["df_den"], published("madrs_cond_x_time", "df_den"))
    assert rounds_to(row["p"], published("madrs_cond_x_time", "p"))
    settings = config["stats"]["attenuation"]
    table = attenuation(
        data["madrs"], "placebo", "naltrexone", settings["before"], settings["after"], 10, 0.95, 1
    )
    percent = table.set_index("term").loc["attenuation_percent", "estimate"]
    assert rounds_to(percent, published("madrs_attenuation", "estimate"))


def test_naltrexone_lowers_glx_more_in_males(config, data):
    glx = data["glx"]
    common = dict(conditions=CONDITIONS, reference="placebo")
    by_sex, _ = run_models(
        glx,
        config["stats"]["glx_formula"],
        "sex_stratified",
        "Glx/tNAA",
        subsets=sex_subsets(glx),
        **common,
    )
    male, female = (
        term(by_sex, "condition", "male")["estimate"],
        term(by_sex, "condition", "female")["estimate"],
    )
    assert male < female < 0
    interaction, _ = run_models(
        glx, config["stats"]["glx_sex_formula"], "sex_interaction", "Glx/tNAA", **common
    )
    # sex levels F, M: the coefficient is male - female, negative when males lose more of the rise
    assert term(interaction, "condition:sex")["estimate"] < 0


def test_self_rated_improvement_is_smaller_under_naltrexone_and_not_significant(config, data):
    tests, _ = run_models(
        data["qids_sr16"],
        config["stats"]["clinical_formula"],
        "clinical_lmm",
        "QIDS_SR16",
        CONDITIONS,
        "placebo",
    )
    row = term(tests, "condition:timepoint")
    assert row["estimate"] > 0 and row["p"] >= 0.05


def test_targets_come_from_the_simulation_settings_at_their_written_precision(config):
    wanted = targets(config["simulation"])
    assert wanted == {
        "glx_F": 4.83,
        "glx_df": 253,
        "glx_p": 0.029,
        "madrs_F": 5.39,
        "madrs_df": 74,
        "madrs_p": 0.023,
        "madrs_attenuation_percent": 28,
    }
    assert [decimals(x) for x in (4.83, 253, 0.029, 28, 28.0)] == [2, 0, 3, 0, 0]
    assert (
        lands(4.8349, 4.83)
        and lands(4.825, 4.83)
        and not lands(4.8351, 4.83)
        and not lands(4.82, 4.83)
    )
    assert lands(252.6, 253) and not lands(253.5, 253)


def test_the_calibration_reads_the_files_as_the_pipeline_does(config):
    assert config["mrs"]["format"] == calibrate.MRS_FORMAT
    assert config["mrs"]["baseline_blocks"] == calibrate.BASELINE_BLOCKS


def test_the_calibration_asks_for_the_studys_models_and_thresholds(config):
    settings = {**config["simulation"], "qc_thresholds": config["qc"]["mrs"]}
    with pytest.raises(InputError, match="no formulas"):
        calibrate.calibrate(settings, ["placebo", "naltrexone"], {}, dict, dict)


def test_calibration_file_round_trips(config):
    committed = (ROOT / config["simulation"]["output_dir"] / "calibration.tsv").read_bytes()
    found = read_calibration(committed)
    assert set(found) - {"item_changes"} <= set(calibrate.SEARCHED)
    assert calibration_tsv(found) == committed
    example = {
        "glx_naltrexone_minus_placebo": -0.0155,
        "item_changes": [("MADRS", "sub-01", "placebo", "pre", "madrs_02", -1)],
    }
    assert read_calibration(calibration_tsv(example)) == example


def test_no_pipeline_stage_reads_the_calibration_file():
    for folder in (
        "src/crossover_fmrs/ingest",
        "src/crossover_fmrs/qc",
        "src/crossover_fmrs/stats",
        "src/crossover_fmrs/figures",
        "scripts",
        "rules",
    ):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".smk"}:
                assert "calibration" not in path.read_text(), path


@pytest.mark.workflow
def test_the_search_finds_the_committed_values():
    config = committed_config()
    files = simulate(config)  # no calibration given: the search runs
    assert (
        files["calibration.tsv"]
        == (ROOT / config["simulation"]["output_dir"] / "calibration.tsv").read_bytes()
    )


def test_an_item_change_moves_exactly_one_item_by_its_change():
    config = committed_config()
    found = read_calibration(
        (ROOT / config["simulation"]["output_dir"] / "calibration.tsv").read_bytes()
    )
    before = simulate(config, found)["clinical/madrs.tsv"].decode().splitlines()
    header = before[0].split("\t")
    row = next(i for i, line in enumerate(before) if line.startswith("sub-03\tplacebo\tpre\t"))
    column = next(
        c
        for c in header
        if c.startswith("madrs_") and before[row].split("\t")[header.index(c)] not in ("", "6")
    )
    extra = {
        **found,
        "item_changes": [
            *found.get("item_changes", []),
            ("MADRS", "sub-03", "placebo", "pre", column, 1),
        ],
    }
    after = simulate(config, extra)["clinical/madrs.tsv"].decode().splitlines()
    changed = [
        (i, j)
        for i, (a, b) in enumerate(zip(before, after))
        for j, (x, y) in enumerate(zip(a.split("\t"), b.split("\t")))
        if x != y
    ]
    assert changed == [(row, header.index(column))]
    assert (
        int(after[row].split("\t")[header.index(column)])
        == int(before[row].split("\t")[header.index(column)]) + 1
    )


def test_glx_search_finds_the_root_and_moves_the_ratio_until_the_sex_direction_holds():
    settings = {
        "mrs": {"published_condition_F": 4.83},
        "clinical": {"published_interaction_F": 5.39, "published_attenuation": 0.28},
        "male_to_female_effect_ratio": 2.0,
    }

    def evaluate(a, ratio):  # a toy chain: F grows with a; males ahead only from a ratio of 3
        return {
            "F": (10 * a) ** 2,
            "estimate": -a,
            "df": 253.0,
            "p": 0.03,
            "n": 26,
            "n_all": 26,
            "male": -a * ratio / 4,
            "female": -0.7 * a,
            "condition_x_sex": -1.0,
        }

    found = calibrate.search_glx(settings, evaluate, 0.1)
    assert found["glx_male_to_female_ratio"] == 3.0  # 2 x 1.5, the first step with males ahead
    # the size a is the root; the stored difference is -a
    assert found["glx_naltrexone_minus_placebo"] == pytest.approx(-(4.83**0.5) / 10, abs=1e-6)


def test_a_search_that_cannot_land_says_so():
    settings = {"clinical": {"secondary": {}}}
    with pytest.raises(calibrate.CalibrationError, match="QIDS-SR16"):
        calibrate.search_qids(settings, lambda a: {"QIDS_SR16": {"estimate": 1.0, "p": 0.01}}, 0.2)
