"""Wall time of the workflow beside the floor of the same machine, measured in one run.

Pipeline: a cold full run, a no-op rerun and one figure's rerun, each in a fresh copy of the
workflow. Floor: a one-rule Snakefile's no-op (what any Snakemake invocation costs) and a Python
start that imports pandas and matplotlib (what any job of this workflow costs at least). Each is
timed --repeats times and reported as the median, with CPU seconds of the children for the cold
run. With --with-tests, the test suite (`python -m pytest`, the README's test command) is timed
once in the same run. Not a test: run by hand; it writes an untracked TSV, and
`python tools/quote_benchmarks.py --take workflow` puts it in the README ("Speed").

    python tools/benchmark_workflow.py [--repeats N] [--cores N] [--with-tests]
        [--output benchmarks/workflow.tsv]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model, load_1min  # tools/, the script's own folder

ROOT = Path(__file__).resolve().parents[1]
PARTS = [
    "Snakefile",
    "config.yaml",
    "envs",
    "rules",
    "scripts",
    "src",
    "schemas",
    "resources",
    "report",
    "data",
]
FIGURE_RULE = "figure_glx_timecourse"
FIGURE_TARGET = "results/figures/glx_timecourse.png"
ONE_RULE = (
    'rule all:\n    input: "a.txt"\n\n'
    'rule a:\n    output: "a.txt"\n    shell: "echo a > {output}"\n'
)


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


def timed(workdir: Path, command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child processes) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:  # a failed command has no time worth keeping: say why, stop
        sys.exit(
            f"{' '.join(command)} failed (exit {done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-3000:]}"
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def snakemake(cores: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", *args]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=4)
    parser.add_argument("--with-tests", action="store_true", help="also time the test suite once")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "workflow.tsv")
    args = parser.parse_args()
    wall: dict[str, list[float]] = {
        name: []
        for name in (
            "cold full run",
            "no-op rerun",
            "one figure rerun",
            "floor: one-rule Snakefile no-op",
            "floor: python importing pandas and matplotlib",
        )
    }
    cpu: list[float] = []
    load = load_1min()
    with tempfile.TemporaryDirectory() as scratch:
        floor = Path(scratch) / "floor"
        floor.mkdir()
        (floor / "Snakefile").write_text(ONE_RULE)
        subprocess.run(snakemake(1), cwd=floor, check=True, capture_output=True)
        for repeat in range(args.repeats):
            print(f"repeat {repeat + 1} of {args.repeats}", file=sys.stderr, flush=True)
            workdir = copy_workflow(Path(tempfile.mkdtemp(dir=scratch)))
            seconds, cpu_seconds = timed(workdir, snakemake(args.cores))
            wall["cold full run"].append(seconds)
            cpu.append(cpu_seconds)
            wall["no-op rerun"].append(timed(workdir, snakemake(args.cores))[0])
            wall["one figure rerun"].append(
                timed(
                    workdir, snakemake(args.cores, "--forcerun", FIGURE_RULE, "--", FIGURE_TARGET)
                )[0]
            )
            wall["floor: one-rule Snakefile no-op"].append(timed(floor, snakemake(1))[0])
            wall["floor: python importing pandas and matplotlib"].append(
                timed(floor, [sys.executable, "-c", "import pandas, matplotlib.figure"])[0]
            )
    if args.with_tests:
        print("test suite", file=sys.stderr, flush=True)
        wall["test suite (python -m pytest)"] = [
            timed(ROOT, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])[0]
        ]
    lines = [
        "measure\tmedian_s\truns_s\tcpu_s\trepeats\tcores\tmachine_cpus\tpython"
        "\tcpu_model\tload_1min_at_start"
    ]
    for name, values in wall.items():
        cpu_text = f"{statistics.median(cpu):.2f}" if name == "cold full run" else "NA"
        lines.append(
            "\t".join(
                [
                    name,
                    f"{statistics.median(values):.2f}",
                    ",".join(f"{v:.2f}" for v in values),
                    cpu_text,
                    str(len(values)),
                    str(args.cores),
                    str(os.cpu_count()),
                    platform.python_version(),
                    cpu_model(),
                    load,
                ]
            )
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
