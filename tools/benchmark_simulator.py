"""How long the simulator takes to write a study of each size: runs the command line
`python -m crossover_fmrs.simulate` (plain draws, no calibration) into a scratch folder and
records wall time, CPU seconds, peak memory and the files written, with the machine.

    python tools/benchmark_simulator.py [--sizes 26 2000 10000] [--sites 1] [--repeats 1]
        [--output benchmarks/simulator.tsv]

The TSV goes to benchmarks/ (not tracked); docs/simulator.md quotes a run.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from machine import cpu_model  # noqa: E402  (tools/, beside this script)

COLUMNS = [
    "participants",
    "sites",
    "repeat",
    "files",
    "megabytes",
    "wall_s",
    "cpu_s",
    "peak_mb",
    "machine_cpus",
    "cpu_model",
    "load_1min_before",
    "python",
]


def run_one(n: int, sites: int, scratch: Path) -> dict:
    out = scratch / f"study_{n}"
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "crossover_fmrs.simulate", "--out", str(out)]
    command += ["--participants", str(n), "--sites", str(sites), "--no-calibrate"]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=environment, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    files = [path for path in out.rglob("*") if path.is_file()]
    size = sum(path.stat().st_size for path in files)
    return {
        "participants": n,
        "sites": sites,
        "files": len(files),
        "megabytes": f"{size / 1e6:.1f}",
        "wall_s": f"{wall:.2f}",
        "cpu_s": f"{(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime):.2f}",
        # ru_maxrss of the children is the largest child so far (kB on Linux)
        "peak_mb": f"{after.ru_maxrss / 1024:.0f}",
        "machine_cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_1min_before": f"{load:.2f}",
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[26, 2000, 10000])
    parser.add_argument("--sites", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "simulator.tsv")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="benchmark_simulator_") as scratch:
        for n in args.sizes:
            for repeat in range(1, args.repeats + 1):
                print(f"[benchmark_simulator] {n} participants, run {repeat}", file=sys.stderr)
                rows.append({**run_one(n, args.sites, Path(scratch)), "repeat": repeat})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print("\t".join(str(row[c]) for c in COLUMNS[:8]))
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
