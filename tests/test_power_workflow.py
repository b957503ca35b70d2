"""The power rules end to end on a tiny grid: the table does not depend on the chunk size or the
cores, a killed run resumes with only the missing chunks, and (marked slurm) a run through a real
SLURM cluster writes the same table byte for byte."""

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from benchmark_workflow import copy_workflow  # noqa: E402  (the benchmark copies the workflow the same way)
from slurm_cluster import slurm_skip_reason, snakemake  # noqa: E402

TINY = {
    "n_participants": [12, 16],
    "effects": [0, 1],
    "planning_effect": 1,
    "session_sd": [0.02],
    "replicates": 6,
}


def grid(workdir: Path, chunk_size: int) -> Path:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["power"].update(TINY, chunk_size=chunk_size)
    path = workdir / "tiny_power.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_power(tmp_path: Path, name: str, chunk_size: int, *args: str) -> Path:
    workdir = copy_workflow(tmp_path / name)
    result = snakemake(workdir, "power", *args, "--configfile", str(grid(workdir, chunk_size)))
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


@pytest.mark.workflow
def test_power_table_is_the_same_for_any_chunking_and_cores_and_a_run_resumes(tmp_path):
    one = run_power(tmp_path, "one", 2, "--cores", "1")
    two = run_power(tmp_path, "two", 6, "--cores", "2")
    for name in ("power.tsv", "sample_size.tsv", "replicates.tsv", "summary.md"):
        assert (one / "results/power" / name).read_bytes() == (
            two / "results/power" / name
        ).read_bytes(), name
    power = (one / "results/power/power.tsv").read_text().splitlines()
    assert power[0].startswith(
        "test\teffect\tsession_sd\tn_participants\treplicates\trejections\tpower\tci_low"
    )
    # tests x effects x sizes, then the session cell (no effect, n = 26): 3 tests + session model
    assert len(power) == 1 + 3 * 2 * 2 + 4
    summary = (one / "results/power/summary.md").read_text()
    assert "| 0.02 | 26 | glx_condition_session_model |" in summary
    # A run killed before its last chunk: that chunk and everything gathered are missing. Only they
    # are planned again, the finished chunks stay.
    (one / "results/power/chunks/n12_effect1.0_session0.0_chunk1.tsv").unlink()
    for gathered in (one / "results/power").glob("*.*"):
        gathered.unlink()
    planned = snakemake(
        one, "power", "--cores", "1", "-n", "--configfile", str(one / "tiny_power.yaml")
    )
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", planned.stdout + planned.stderr, flags=re.M))
    assert counts.get("power_chunk") == "1" and counts.get("total") == "4", counts


@pytest.mark.slurm
def test_a_power_grid_through_slurm_writes_the_local_table(tmp_path):
    reason = slurm_skip_reason()
    if reason:
        pytest.skip(reason)
    local = run_power(tmp_path, "local", 3, "--cores", "2")
    cluster = run_power(
        tmp_path, "cluster", 3, "--profile", str(ROOT / "profiles" / "slurm"), "--jobs", "8"
    )
    log = "\n".join(path.read_text() for path in (cluster / ".snakemake" / "log").glob("*.log"))
    assert (
        len(re.findall(r"submitted with SLURM jobid \d+", log)) >= 8
    )  # every chunk went through SLURM
    for name in ("power.tsv", "sample_size.tsv", "replicates.tsv"):
        assert (local / "results/power" / name).read_bytes() == (
            cluster / "results/power" / name
        ).read_bytes(), name
