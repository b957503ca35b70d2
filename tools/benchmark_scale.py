"""How the whole pipeline grows with the study: simulate a study of each size, run the default
target on it, and record wall time, CPU seconds and the largest peak memory of any job (from the
rules' own benchmark files), beside the 26-participant run of the same session (the ratios).

    python tools/benchmark_scale.py [--sizes 26 500 2000] [--with-10000] [--cores 2]
        [--output benchmarks/scale.tsv]   (and each job's row in benchmarks/scale_jobs.tsv)

Each study is a plain draw of the project's simulator (simulation.calibrate off) with the
embedded study's design (half males, 7% of spectra failing QC), written to a scratch folder;
the workflow is copied beside it and run with `--configfile` (nothing of this checkout is
touched). The TSV goes to benchmarks/ (not tracked); docs/performance.md quotes a run.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

from benchmark_workflow import copy_workflow  # noqa: E402  (after the path insert)
from crossover_fmrs.ingest.clinical import scale_specs  # noqa: E402
from crossover_fmrs.simulate.study import (  # noqa: E402
    simulate_files,
    study_settings,
    write_study,
)
from machine import cpu_model, load_1min  # noqa: E402

COLUMNS = [
    "participants",
    "sites",
    "jobs",
    "wall_s",
    "cpu_s",
    "cpu_ratio_to_26",
    "largest_job_peak_mb",
    "largest_job",
    "simulate_s",
    "cores",
    "machine_cpus",
    "load_1min_before",
    "cpu_model",
    "python",
]


def progress(message: str) -> None:
    print(f"[benchmark_scale] {message}", file=sys.stderr, flush=True)


def simulate(config: dict, n: int, sites: int, out: Path) -> float:
    """Write a plain draw of n participants at `sites` sites to out; returns its CPU seconds."""
    # The command line's settings: the embedded design's shares (half males, 22 of 312 spectra
    # failing QC) at n participants, effects in natural units.
    settings = study_settings(
        config["simulation"], n_participants=n, n_sites=sites, calibrate=False
    )
    scales = scale_specs(config["clinical"]["scales"])
    start = time.process_time()
    files = simulate_files(
        settings,
        config["study"]["conditions"],
        scales=scales,
        reference=config["study"]["reference_condition"],
        qc_thresholds=config["qc"]["mrs"],
    )
    write_study(files, out)
    return time.process_time() - start


def job_benchmarks(workdir: Path) -> list[dict]:
    rows = []
    folder = workdir / "results" / "benchmarks"  # the run's benchmark files (results_dir)
    for path in sorted(folder.rglob("*.tsv")):
        with path.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                rows.append({"job": str(path.relative_to(folder)), **row})
    return rows


def run_size(config: dict, n: int, sites: int, cores: int, scratch: Path) -> dict:
    study = scratch / f"study_{n}"
    progress(f"{n} participants: simulating")
    simulate_s = simulate(config, n, sites, study)
    workdir = copy_workflow(scratch / f"workflow_{n}")
    run_config = {**config, "data_dir": str(study), "synthetic": True}
    (workdir / "scale.yaml").write_text(yaml.safe_dump(run_config, sort_keys=False))
    progress(f"{n} participants: running the default target with --cores {cores}")
    load = load_1min()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all"]
        + ["--configfile", "scale.yaml"],
        cwd=workdir,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    jobs = job_benchmarks(workdir)
    largest = max(jobs, key=lambda row: float(row["max_rss"] or 0))
    per_job = [
        {
            "participants": n,
            "job": row["job"],
            "cpu_s": row["cpu_time"],
            "max_rss_mb": row["max_rss"],
        }
        for row in jobs
    ]
    return per_job, {
        "participants": n,
        "sites": sites,
        "jobs": len(jobs),
        "wall_s": f"{wall:.1f}",
        "cpu_s": f"{(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime):.1f}",
        "largest_job_peak_mb": f"{float(largest['max_rss']):.0f}",
        "largest_job": largest["job"],
        "simulate_s": f"{simulate_s:.1f}",
        "cores": cores,
        "machine_cpus": os.cpu_count(),
        "load_1min_before": load,
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[26, 500, 2000])
    parser.add_argument("--with-10000", action="store_true", help="also 10,000 participants")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--sites", type=int, default=4, help="sites of every study (a pooled study; default 4)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "scale.tsv")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes) | {26} | ({10000} if args.with_10000 else set()))
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    results, jobs = [], []
    with tempfile.TemporaryDirectory(prefix="benchmark_scale_") as scratch:
        for n in sizes:
            per_job, row = run_size(config, n, args.sites, args.cores, Path(scratch))
            results.append(row)
            jobs += per_job
            progress(f"{n} participants: {row['cpu_s']} CPU-s")
    floor = float(next(row["cpu_s"] for row in results if row["participants"] == 26))
    for row in results:
        row["cpu_ratio_to_26"] = f"{float(row['cpu_s']) / floor:.2f}"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(COLUMNS)] + [
        "\t".join(str(row[column]) for column in COLUMNS) for row in results
    ]
    args.output.write_text("\n".join(lines) + "\n")
    # each job's CPU time and peak memory, to see which rules grow
    job_lines = ["participants\tjob\tcpu_s\tmax_rss_mb"] + [
        f"{row['participants']}\t{row['job']}\t{row['cpu_s']}\t{row['max_rss_mb']}" for row in jobs
    ]
    args.output.with_name(args.output.stem + "_jobs.tsv").write_text("\n".join(job_lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
