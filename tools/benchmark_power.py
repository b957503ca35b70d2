"""Speed of the power simulation: replicates per second on 1 and on 2 cores for each sample size
of the configured grid, and the projected time of the whole default grid.

Each measurement runs a few replicates per sample size (the grid's own replicates: the same code
as `snakemake power`) in 1 or 2 worker processes and takes the wall time. Writes an untracked TSV;
`python tools/quote_benchmarks.py --take power` puts it in docs/power.md.

    python tools/benchmark_power.py [--replicates 20] [--output benchmarks/power.tsv]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crossover_fmrs.power.replicates import Formulas, run_chunk  # noqa: E402  (after the path insert)
from crossover_fmrs.simulate.replicate import Design  # noqa: E402
from machine import cpu_model, load_1min  # noqa: E402  (tools/, the script's own folder)


def replicates_of(n: int, first: int, count: int) -> int:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    power, stats = config["power"], config["stats"]
    design = Design(
        n, **{key: power[key] for key in ("male_fraction", "qc_failure_rate", "missing_visit_rate")}
    )
    settings = {
        **config["simulation"],
        "reference_condition": config["study"]["reference_condition"],
    }
    formulas = Formulas(
        stats["glx_formula"],
        stats["clinical_formula"],
        stats["glx_sex_formula"],
        stats["glx_session_formula"],
    )
    run_chunk(
        settings,
        config["study"]["conditions"],
        config["study"]["reference_condition"],
        formulas,
        design,
        1.0,
        power["seed"],
        range(first, first + count),
    )
    return count


def rate(n: int, replicates: int, workers: int) -> float:
    """Replicates per second with `workers` processes sharing `replicates` replicates."""
    share = math.ceil(replicates / workers)
    with ProcessPoolExecutor(workers) as pool:
        list(
            pool.map(
                replicates_of, [n] * workers, [k * share for k in range(workers)], [1] * workers
            )
        )  # warm up
        start = time.perf_counter()
        done = sum(
            pool.map(
                replicates_of, [n] * workers, [k * share for k in range(workers)], [share] * workers
            )
        )
        return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "power.tsv")
    args = parser.parse_args()
    power = yaml.safe_load((ROOT / "config.yaml").read_text())["power"]
    per_size = power["replicates"] * len(power["effects"])
    lines = [
        "n_participants\tworkers\treplicates_per_s\tgrid_replicates\tprojected_s\tmachine_cpus\tpython"
        "\tcpu_model\tload_1min_at_start"
    ]
    machine = f"\t{cpu_model()}\t{load_1min()}"
    totals = {1: 0.0, 2: 0.0}
    for n in power["n_participants"]:
        for workers in (1, 2):
            print(f"n = {n}, {workers} worker(s)", file=sys.stderr, flush=True)
            speed = rate(n, args.replicates, workers)
            totals[workers] += per_size / speed
            lines.append(
                f"{n}\t{workers}\t{speed:.2f}\t{per_size}\t{per_size / speed:.0f}\t"
                f"{os.cpu_count()}\t"
                f"{platform.python_version()}{machine}"
            )
    for workers, seconds in totals.items():
        lines.append(
            f"all\t{workers}\tNA\t{per_size * len(power['n_participants'])}\t{seconds:.0f}\t"
            f"{os.cpu_count()}\t"
            f"{platform.python_version()}{machine}"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
