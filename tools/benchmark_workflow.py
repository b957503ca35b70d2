"""Wall time of the workflow: a cold full run, a no-op rerun and one figure's rerun.

Each is timed several times in a fresh copy of the workflow and reported as the median, so a
slow outlier (another process on the machine) does not decide the number. Not a test: run by
hand, e.g. `python tools/benchmark_workflow.py --repeats 5`, and quote the file it writes.

    python tools/benchmark_workflow.py [--repeats N] [--cores N] [--output tools/benchmark_workflow.tsv]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = ["Snakefile", "config.yaml", "envs", "rules", "scripts", "src", "schemas", "resources", "report", "data"]
FIGURE_RULE = "figure_glx_timecourse"
FIGURE_TARGET = "results/figures/glx_timecourse.png"


def copy_workflow(target: Path) -> Path:
    """The files the workflow needs, copied into target (not results, logs or .snakemake)."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    return target


def timed(workdir: Path, cores: int, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "all", *args],
                   cwd=workdir, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=4)
    parser.add_argument("--output", type=Path, default=ROOT / "tools" / "benchmark_workflow.tsv")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"cold full run": [], "no-op rerun": [], "one figure rerun": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):
            workdir = copy_workflow(Path(tempfile.mkdtemp(dir=scratch)))
            runs["cold full run"].append(timed(workdir, args.cores))
            runs["no-op rerun"].append(timed(workdir, args.cores))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--quiet",
                            "--forcerun", FIGURE_RULE, "--", FIGURE_TARGET], cwd=workdir, check=True,
                           capture_output=True)
            runs["one figure rerun"].append(time.perf_counter() - start)
    lines = ["measure\tmedian_s\truns_s\trepeats\tcores\tmachine_cpus\tpython"]
    for name, values in runs.items():
        lines.append("\t".join([name, f"{statistics.median(values):.2f}", ",".join(f"{v:.2f}" for v in values),
                                str(args.repeats), str(args.cores), str(os.cpu_count()), platform.python_version()]))
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
