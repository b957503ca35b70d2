"""The workflow end to end: runs, reruns nothing, is deterministic, reruns one figure alone,
and reruns only what depends on a changed QC threshold. Slow (Snakemake runs): marked workflow."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from benchmark_workflow import copy_workflow  # noqa: E402  (the benchmark copies the workflow the same way)

pytestmark = pytest.mark.workflow


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
    )


def planned_rules(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    counts, inside = {}, False
    for line in result.stdout.splitlines() + result.stderr.splitlines():
        fields = line.split()
        if fields[:2] == ["job", "count"]:
            inside = True
            continue
        if inside and len(fields) == 2 and fields[1].isdigit():
            if fields[0] == "total":
                break
            counts[fields[0]] = int(fields[1])
    return counts


def output_files(workdir: Path, folder: str = "results", runs: bool = False) -> dict[str, bytes]:
    """Every file of a results folder by its path; the logs and benchmarks of the runs (times)
    only with runs=True."""
    return {
        str(p.relative_to(workdir)): p.read_bytes()
        for p in sorted((workdir / folder).rglob("*"))
        if p.is_file() and (runs or p.relative_to(workdir / folder).parts[0] not in RUN_FILES)
    }


RUN_FILES = {"logs", "benchmarks"}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    workdir = copy_workflow(tmp_path_factory.mktemp("run") / "a")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_full_run_writes_every_target(first_run):
    for name in [
        "results/paper_comparison.tsv",
        "results/paper_comparison.md",
        "results/stats/glx_lmm.tsv",
        "results/stats/participant_flow.tsv",
        "results/figures/glx_timecourse.png",
        "results/figures/glx_timecourse.svg",
        "results/figures/glx_timecourse.tsv",
    ]:
        assert (first_run / name).stat().st_size > 0, name


def test_the_default_run_reproduces_every_published_result(first_run):
    """The calibrated embedded study: every published number agrees at its published precision;
    the sex claim is only "direction only", since the interaction is not significant at n = 26;
    and the classical condition x phase rm-ANOVA keeps the participants."""
    comparison = pd.read_csv(
        first_run / "results/paper_comparison.tsv", sep="\t", keep_default_na=False
    ).set_index("id")
    # six published results, the session sensitivity beside the Glx test, MADRS by sex
    assert len(comparison) == 8
    verdicts = comparison["verdict"].to_dict()
    assert verdicts.pop("glx_sex") == "direction only"
    assert "P = 0.6" in comparison.loc["glx_sex", "reason"]  # the interaction's P, not the sexes'
    assert verdicts.pop("madrs_sex") == "not testable"
    assert set(verdicts.values()) == {"agrees"}, comparison[["reproduced", "reason"]]
    assert not (comparison["numbers_agree"].astype(str) == "False").any()
    assert "n_pairs" in (first_run / "results/stats/attenuation.tsv").read_text()
    rm = pd.read_csv(first_run / "results/stats/glx_rm_anova.tsv", sep="\t")
    assert rm.loc[rm["analysis"] == "glx_rm_anova_phase", "n_participants"].min() >= 24
    assert "CALIBRATED SYNTHETIC DATA" in (first_run / "results/paper_comparison.md").read_text()


def test_second_run_has_nothing_to_do(first_run):
    result = snakemake(first_run, "-n")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_two_runs_from_scratch_are_byte_identical(first_run, tmp_path):
    second = copy_workflow(tmp_path / "b")
    result = snakemake(second)
    assert result.returncode == 0, result.stderr[-3000:]
    first_files, second_files = output_files(first_run), output_files(second)
    assert sorted(first_files) == sorted(second_files)
    differing = [name for name in first_files if first_files[name] != second_files[name]]
    assert differing == []


def test_forcing_one_figure_reruns_exactly_one_job(first_run):
    result = snakemake(
        first_run,
        "-n",
        "--forcerun",
        "figure_glx_timecourse",
        "--",
        "results/figures/glx_timecourse.png",
    )
    assert planned_rules(result) == {"figure_glx_timecourse": 1}, result.stdout
    (first_run / "results/figures/madrs_timecourse.png").unlink()
    result = snakemake(first_run, "results/figures/madrs_timecourse.png")
    assert result.returncode == 0 and "1 of 1 steps (100%) done" in result.stderr


def test_a_changed_qc_threshold_reruns_only_what_depends_on_it(first_run, tmp_path):
    config = yaml.safe_load((first_run / "config.yaml").read_text())
    config["qc"]["mrs"]["max_fwhm_ppm"] = 0.09
    changed = tmp_path / "config.yaml"
    changed.write_text(yaml.safe_dump(config, sort_keys=False))
    planned = planned_rules(snakemake(first_run, "-n", "--configfile", str(changed)))
    assert "qc_mrs" in planned and "stats_glx" in planned and "participant_flow" in planned
    assert "figure_glx_timecourse" in planned and "paper_comparison" in planned
    untouched = {
        "ingest_mrs",
        "ingest_clinical",
        "ingest_participants",
        "qc_clinical",
        "stats_clinical",
        "stats_attenuation",
        "figure_madrs_timecourse",
        "figure_secondary_scales",
        "figure_sex_madrs",
    }
    assert untouched.isdisjoint(planned), planned


def test_files_no_reader_reads_change_nothing(first_run):
    """The data folder's README and a stray file are inputs of no rule: nothing to rerun."""
    data = first_run / "data" / "synthetic"
    with open(data / "README.md", "a") as readme:
        readme.write("A note added by a user.\n")
    (data / "notes.txt").write_text("unrelated\n")
    (data / "sub-01" / "ses-placebo" / "mrs" / "scanner_log.txt").write_text("unrelated\n")
    result = snakemake(first_run, "-n")
    assert result.returncode == 0 and "Nothing to be done" in result.stdout + result.stderr, (
        result.stdout
    )


def test_report_shows_each_figure_once(first_run):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--report", "results/report.html"],
        cwd=first_run,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    html = (first_run / "results" / "report.html").read_text()
    items = re.findall(r'"(results/[^"]+)": \{"name"', html)
    figure_items = [item for item in items if "figures/" in item]
    drawn = sorted((first_run / "results" / "figures").glob("*.png"))
    assert "participant_flow.png" in [path.name for path in drawn]
    expected = sorted(f"results/report/figures/{path.stem}.html" for path in drawn)
    assert sorted(figure_items) == expected  # every figure the run drew, once
    assert len(items) == len(set(items))


def test_lint_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT, capture_output=True, text=True
    )
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_editing_a_package_module_reruns_the_jobs_that_use_it(first_run):
    module = first_run / "src" / "crossover_fmrs" / "stats" / "comparison.py"
    module.write_text(
        module.read_text() + "# an edit\n"
    )  # Snakemake compares content, not only mtime
    planned = planned_rules(snakemake(first_run, "-n"))
    assert planned == {"paper_comparison": 1, "report_table_paper_comparison": 1, "all": 1}, planned


def test_editing_a_module_of_lmmkit_reruns_the_model_jobs(first_run):
    module = first_run / "src" / "lmmkit" / "type3.py"
    module.write_text(module.read_text() + "# an edit\n")
    planned = planned_rules(snakemake(first_run, "-n"))
    models = {"stats_glx", "stats_clinical", "stats_sex", "stats_crossover"}
    assert models <= set(planned), planned
    assert not [rule for rule in planned if rule.startswith(("ingest_", "qc_", "figure_qc"))]


def test_the_second_study_fixture_is_what_its_generator_writes(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "second_study"))
    from make_study import make

    make(tmp_path / "data")
    committed = ROOT / "tests" / "fixtures" / "second_study" / "data"
    written = {
        p.relative_to(tmp_path / "data"): p.read_bytes()
        for p in (tmp_path / "data").rglob("*")
        if p.is_file()
    }
    assert written == {
        p.relative_to(committed): p.read_bytes() for p in committed.rglob("*") if p.is_file()
    }


def test_a_second_study_shape_runs_with_only_its_config(first_run, tmp_path):
    """Three conditions, Glu/tCr from FSL-MRS, MADRS at three time points, no sex claim, no
    paper; into its own results folder, beside the first study's, which it leaves as it was."""
    fixture = first_run / "tests" / "fixtures" / "second_study"
    if not fixture.exists():
        shutil.copytree(ROOT / "tests" / "fixtures" / "second_study", fixture)
    first = output_files(first_run, runs=True)
    # into the first study's folder: one line naming the folder and the setting, nothing written
    config = ["--configfile", "tests/fixtures/second_study/config.yaml"]
    result = snakemake(first_run, *config)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "error: results/ holds the results of another study (data_dir data/synthetic, "
        "study.json); run this study into its own folder with --config results_dir=<folder> "
        "(or remove results/)"
    ), result.stderr
    assert output_files(first_run, runs=True) == first
    second = tmp_path / "second"
    result = snakemake(first_run, *config, "--config", f"results_dir={second}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert output_files(first_run, runs=True) == first  # nothing of the second in the first's
    record = json.loads((second / "study.json").read_text())
    assert record["data_dir"] == "tests/fixtures/second_study/data"
    # no dataset_description.json: the config's synthetic: true labels it, not calibrated
    assert (record["synthetic"], record["calibrated"]) == (True, False)
    glx = pd.read_csv(second / "stats/glx_lmm.tsv", sep="\t").set_index("term")
    assert set(glx["outcome"]) == {"Glu/tCr"}
    assert glx.loc["condition", "df_num"] == 2 and glx.loc["block", "df_num"] == 3
    assert set(glx["df_method"]) == {"Kenward-Roger"}  # the config's other df method
    clinical = pd.read_csv(second / "stats/clinical_lmm.tsv", sep="\t")
    madrs = clinical[clinical["outcome"] == "MADRS"].set_index("term")
    assert madrs.loc["timepoint", "df_num"] == 2 and madrs.loc["condition:timepoint", "df_num"] == 4
    assert set(clinical["outcome"]) == {"MADRS", "CADSS"}
    attenuation = pd.read_csv(second / "stats/attenuation.tsv", sep="\t")
    assert set(attenuation["condition"]) == {"lowdose", "highdose"}
    mrs = pd.read_csv(second / "tidy/mrs_long.tsv", sep="\t")
    assert set(mrs["source_tool"]) == {"FSL-MRS"}
    spectra = pd.read_csv(second / "qc/mrs_spectra.tsv", sep="\t")
    assert (~spectra["included"]).sum() == 1  # the one broad-line spectrum the generator wrote
    assert not (second / "stats/sex_stratified.tsv").exists()
    assert not (second / "paper_comparison.tsv").exists()
    assert not (second / "figures/sex_glx.png").exists()
    assert (second / "figures/glx_timecourse.png").exists()
    assert (second / "logs").is_dir() and (second / "benchmarks").is_dir()
    # The second study's figures say what its own config says, nothing of this trial's drugs.
    for svg in (second / "figures").glob("*.svg"):
        text = svg.read_text()
        assert "ketamine" not in text and "naltrexone" not in text, svg.name
    assert "day 7" in (second / "figures/madrs_timecourse.svg").read_text()


def test_every_result_table_has_its_sidecar(first_run):
    results = first_run / "results"
    tables = [
        p
        for folder in ("tidy", "qc", "stats")
        for p in (results / folder).rglob("*")
        if p.suffix in {".tsv", ".parquet"}
    ] + [results / "paper_comparison.tsv"]
    missing = [str(p.relative_to(results)) for p in tables if not p.with_suffix(".json").is_file()]
    assert missing == []
    sidecar = json.loads((results / "stats" / "glx_lmm.json").read_text())
    assert (sidecar["synthetic"], sidecar["calibrated"]) == (True, True)
    assert sidecar["data_dir"] == "data/synthetic"
    record = json.loads((results / "study.json").read_text())
    assert sidecar["raw_inputs_sha256"] == record["raw_inputs_sha256"]
    assert list(sidecar["tables"]) == ["glx_lmm.tsv"]


def labelled_run(workdir: Path, data: Path, results: Path) -> subprocess.CompletedProcess:
    """Table 1 and its report page of the study in data, with config synthetic: false."""
    return snakemake(
        workdir,
        "--config",
        f"data_dir={data}",
        f"results_dir={results}",
        "synthetic=False",
        "--",
        str(results / "stats" / "baseline_characteristics.tsv"),
        str(results / "report" / "tables" / "baseline_characteristics.html"),
    )


def test_the_labels_travel_with_the_data_not_its_path(first_run, tmp_path):
    """The simulated study copied to a folder without 'synthetic' in its path is still labelled
    synthetic and calibrated; without its dataset_description.json it is labelled neither."""
    data = tmp_path / "study"
    shutil.copytree(first_run / "data" / "synthetic", data)
    assert "synthetic" not in str(data)
    labelled = tmp_path / "labelled"
    result = labelled_run(first_run, data, labelled)
    assert result.returncode == 0, result.stderr[-3000:]
    sidecar = json.loads((labelled / "stats" / "baseline_characteristics.json").read_text())
    assert (sidecar["synthetic"], sidecar["calibrated"]) == (True, True)
    assert sidecar["data_dir"] == str(data)
    assert (
        "SYNTHETIC DATA" in (labelled / "report/tables/baseline_characteristics.html").read_text()
    )

    (data / "dataset_description.json").unlink()
    result = labelled_run(first_run, data, labelled)  # other raw files: another study
    assert result.returncode != 0 and "holds the results of another study (other raw files" in (
        result.stderr
    )
    unlabelled = tmp_path / "unlabelled"
    result = labelled_run(first_run, data, unlabelled)
    assert result.returncode == 0, result.stderr[-3000:]
    sidecar = json.loads((unlabelled / "stats" / "baseline_characteristics.json").read_text())
    assert (sidecar["synthetic"], sidecar["calibrated"]) == (False, False)
    page = (unlabelled / "report/tables/baseline_characteristics.html").read_text()
    assert "SYNTHETIC" not in page


def test_a_pooled_study_gets_site_effects_and_a_single_site_study_none(first_run, tmp_path):
    """The embedded study with a site column (3 sites): site intercepts in the models, the
    per-site and pooled effects, the forest plot, sites counted in Table 1 and the flow."""
    assert not (first_run / "results/stats/site_effects.tsv").exists()
    assert "(1 | site)" not in (first_run / "results/stats/glx_lmm.tsv").read_text()
    workdir = copy_workflow(tmp_path / "pooled")
    participants = workdir / "data" / "synthetic" / "participants.tsv"
    lines = participants.read_text().splitlines()
    sites = ["King's", "Oxford", "Oxford", "Leeds"]
    participants.write_text(
        "\n".join(
            [lines[0] + "\tsite"]
            + [f"{line}\t{sites[i % len(sites)]}" for i, line in enumerate(lines[1:])]
        )
        + "\n"
    )
    targets = [
        "results/stats/site_effects.tsv",
        "results/figures/site_forest.png",
        "results/stats/baseline_characteristics.tsv",
        "results/stats/participant_flow.tsv",
        "results/stats/glx_lmm.tsv",
    ]
    result = snakemake(workdir, *targets)
    assert result.returncode == 0, result.stderr[-3000:]
    effects = pd.read_csv(workdir / targets[0], sep="\t")
    assert effects["site"].tolist() == ["King's", "Leeds", "Oxford", "all", "all"]
    assert effects["n_participants"].tolist()[:3] == [7, 6, 13]
    assert effects[effects["level"] == "site"]["estimate"].notna().all()
    glx = pd.read_csv(workdir / "results/stats/glx_lmm.tsv", sep="\t")
    assert set(glx["model"]) == {"ratio ~ condition * block + (1 | participant_id) + (1 | site)"}
    table1 = pd.read_csv(workdir / targets[2], sep="\t", keep_default_na=False)
    assert table1[table1["characteristic"] == "site"]["level"].tolist() == [
        "King's",
        "Leeds",
        "Oxford",
    ]
    flow = pd.read_csv(workdir / targets[3], sep="\t", keep_default_na=False)
    randomised = flow.set_index("stage").loc["Randomised"]
    assert randomised["note"] == "per site: King's 7, Leeds 6, Oxford 13"


# Stages in the order data flow through them; a rule's stage is the rule file that defines it.
STAGE_ORDER = {
    "ingest": 0,
    "qc": 1,
    "stats": 2,
    "power": 2,
    "compare": 3,
    "figures": 3,
    "report": 4,
}


def rule_stages() -> dict[str, str]:
    """Rule name -> stage (its rules/<stage>.smk), for rules named in place (`rule x:`) and for
    those a loop names (`name: f"figure_{name}"`, by their prefix)."""
    stages, prefixes = {}, {}
    for path in (ROOT / "rules").glob("*.smk"):
        text = path.read_text()
        for name in re.findall(r"^\s*rule (\w+):", text, flags=re.M):
            stages[name] = path.stem
        for prefix in re.findall(r'^\s*f"(\w+?)\{\w+\}"\s*$', text, flags=re.M):
            prefixes[prefix] = path.stem
    return stages | {"__prefix__" + p: s for p, s in prefixes.items()}


def stage_of(rule: str, stages: dict[str, str]) -> str:
    if rule in stages:
        return stages[rule]
    return next(
        s for key, s in stages.items() if key.startswith("__prefix__") and rule.startswith(key[10:])
    )


def backwards_reads(rows: list[dict], stages: dict[str, str]) -> list[tuple[str, str, str]]:
    """(rule, input, the rule that made it) for each input made by a later stage."""
    producer = {row["output_file"]: row["rule"] for row in rows}
    backwards = set()
    for row in rows:
        consumer = stage_of(row["rule"], stages)
        for path in row["input-file(s)"].split(","):
            if path in producer and consumer in STAGE_ORDER:
                if STAGE_ORDER[stage_of(producer[path], stages)] > STAGE_ORDER[consumer]:
                    backwards.add((row["rule"], path, producer[path]))
    return sorted(backwards)


def test_the_stage_check_sees_a_qc_rule_reading_a_stats_table():
    rows = [
        {"output_file": "results/stats/glx_rm_anova.tsv", "rule": "stats_glx", "input-file(s)": ""},
        {
            "output_file": "results/qc/flow.tsv",
            "rule": "qc_mrs",
            "input-file(s)": "results/stats/glx_rm_anova.tsv",
        },
    ]
    assert backwards_reads(rows, rule_stages()) == [
        ("qc_mrs", "results/stats/glx_rm_anova.tsv", "stats_glx")
    ]


def test_data_flow_one_way_through_the_stages(first_run):
    """ingest -> qc -> stats -> compare/figures -> report: no rule reads a later stage's output."""
    summary = snakemake(first_run, "--detailed-summary").stdout.splitlines()
    header = summary[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in summary[1:] if line]
    assert len(rows) > 50
    assert backwards_reads(rows, rule_stages()) == []
