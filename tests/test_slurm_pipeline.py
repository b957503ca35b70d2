"""The whole default target of a pooled multi-site study on a real SLURM cluster (marked slurm;
skips where none runs: tools/slurm_local.sh starts one): every scattered job is its own SLURM
job, and the results are byte for byte those of a local run."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from benchmark_workflow import copy_workflow  # noqa: E402  (the benchmark copies the workflow the same way)
from slurm_cluster import slurm_skip_reason, snakemake  # noqa: E402

PARTICIPANTS = 200
SITES = 4
BATCH_SIZE = 50  # 4 ingest and 4 QC batches: the scatter is visible on the cluster


def simulated_study(folder: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "crossover_fmrs.simulate",
            "--out",
            str(folder),
            "--participants",
            str(PARTICIPANTS),
            "--sites",
            str(SITES),
            "--seed",
            "20261206",
            "--no-calibrate",
        ],
        check=True,
        capture_output=True,
    )
    return folder


def run(tmp_path: Path, name: str, study: Path, *args: str) -> Path:
    workdir = copy_workflow(tmp_path / name)
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["data_dir"] = str(study)
    config["scale"]["batch_size"] = BATCH_SIZE
    (workdir / "pooled.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake(workdir, "--configfile", "pooled.yaml", *args, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def result_files(workdir: Path) -> dict[str, bytes]:
    """Every result file except run records (logs, benchmarks), which hold times and hosts."""
    folder = workdir / "results"
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not {"logs", "benchmarks"} & set(path.relative_to(folder).parts)
    }


@pytest.mark.slurm
def test_pipeline_on_slurm(tmp_path):
    reason = slurm_skip_reason()
    if reason:
        pytest.skip(reason)
    study = simulated_study(tmp_path / "pooled_study")
    local = run(tmp_path, "local", study, "--cores", "2")
    cluster = run(tmp_path, "cluster", study, "--profile", str(ROOT / "profiles" / "slurm"))
    log = "\n".join(path.read_text() for path in (cluster / ".snakemake" / "log").glob("*.log"))
    # the plugin logs each job's SLURM log file under slurm_logs/rule_<rule>/
    submitted = re.findall(r"submitted with SLURM jobid \d+ \(log: \S*/slurm_logs/rule_(\w+)/", log)
    # the scattered batches ran as SLURM jobs of their own, and so did the rest
    assert submitted.count("ingest_mrs_batch") == PARTICIPANTS // BATCH_SIZE, submitted
    assert submitted.count("qc_mrs_batch") == PARTICIPANTS // BATCH_SIZE, submitted
    assert {"stats_glx", "stats_sites", "figure_site_forest"} <= set(submitted), submitted
    local_files, cluster_files = result_files(local), result_files(cluster)
    assert "stats/site_effects.tsv" in local_files
    assert sorted(local_files) == sorted(cluster_files)
    differ = [name for name in local_files if local_files[name] != cluster_files[name]]
    assert not differ, differ
