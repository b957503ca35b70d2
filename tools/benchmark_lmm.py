"""Benchmark: this engine against R lmerTest on the same data and models.

    python tools/benchmark_lmm.py [--sizes 26,260,2600,10000,100000] [--out benchmarks/lmm.tsv]

Data: N participants x 2 conditions x 6 blocks, about 8% of rows missing (seeded). Models:
``ratio ~ condition * block + (1 | participant_id)`` (intercept) and the same with
``(1 + minutes | participant_id)`` (slopes); plus one crossed design (subjects x items).
Each measurement runs in its own subprocess: the time of fit + type III table (Satterthwaite),
minimum over repeats, excluding imports and reading the data; peak memory is the subprocess's
ru_maxrss (whole process, imports included), R's measured the same way around Rscript. R's
time is taken inside R with system.time() around lmer() + anova(type = 3) (wall and CPU: user +
system), ours with perf_counter and process_time. Crossed cases (--crossed-cases): a synthetic
design of the shape of lme4's InstEval (simulate_insteval_shape, seeded; InstEval itself is never
stored) with y ~ service + (1 | s) + (1 | d), and 25 subjects x 15 items with a random slope.
R runs with its default optimiser settings, as a user runs it; the F and df columns say how
close the two are. Writes a TSV with the ratios engine / R; the machine (nproc, CPU model, load)
is printed for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    "intercept": "ratio ~ condition * block + (1 | participant_id)",
    "slopes": "ratio ~ condition * block + (1 + minutes | participant_id)",
    "crossed": "rt ~ condition + (1 | subject) + (1 | item)",
    "insteval_shape": "y ~ service + (1 | s) + (1 | d)",
    "crossed_slope": "y ~ x + (1 + x | subject) + (1 | item)",
}

PY_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import pandas as pd
from lmmkit import fit_lmm
data = pd.read_csv(sys.argv[2], sep="\t", dtype={"block": str})
formula, repeats = sys.argv[3], int(sys.argv[4])
times, cpu = [], []
for _ in range(repeats):
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fit_lmm(data, formula, levels={"condition": ["placebo", "naltrexone"]}
                     if "condition" in data else None)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
print(json.dumps({"seconds": min(times), "cpu_seconds": min(cpu),
                  "converged": bool(result.converged),
                  "F": result.anova["F"].tolist(), "df": result.anova["df_den"].tolist(),
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

R_CHILD = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.delim(args[1], colClasses = c(block = "character"))
for (v in intersect(c("condition", "block"), names(d))) {
  d[[v]] <- factor(d[[v]], levels = if (v == "condition") c("placebo", "naltrexone")
                   else sort(unique(d[[v]])))
  contrasts(d[[v]]) <- contr.sum(nlevels(d[[v]]))
}
f <- as.formula(args[2])
best <- Inf
best_cpu <- Inf
for (i in seq_len(as.integer(args[3]))) {
  t <- system.time({m <- lmer(f, data = d, REML = TRUE); a <- anova(m, type = 3)})
  best <- min(best, t[["elapsed"]])
  best_cpu <- min(best_cpu, t[["user.self"]] + t[["sys.self"]])
}
cat(sprintf('{"seconds": %.6f, "cpu_seconds": %.6f, "F": [%s], "df": [%s]}\n', best, best_cpu,
            paste(sprintf("%.10g", a[["F value"]]), collapse = ","),
            paste(sprintf("%.10g", a[["DenDF"]]), collapse = ",")))
"""

# Runs a command and reports its peak RSS: RUSAGE_CHILDREN of a process with one child.
WRAPPER = r"""
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(out.stderr)
print(out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def simulate(n_part: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_part), 12)
    condition = np.tile(np.repeat(["placebo", "naltrexone"], 6), n_part)
    block = np.tile(np.arange(1, 7), 2 * n_part)
    minutes = (block - 3.5) * 10
    u0 = rng.normal(0, 0.08, n_part)
    u1 = rng.normal(0, 0.003, n_part)
    session = rng.normal(0, 0.02, 2 * n_part)[2 * pid + (condition == "naltrexone")]
    ratio = (
        1.1
        + u0[pid]
        + u1[pid] * minutes
        + session
        + np.where(condition == "naltrexone", -0.0006, 0.0008) * minutes
        + rng.normal(0, 0.04, pid.size)
    )
    d = pd.DataFrame(
        {
            "participant_id": [f"sub-{i:06d}" for i in pid],
            "condition": condition,
            "block": block.astype(str),
            "minutes": minutes,
            "ratio": np.round(ratio, 6),
        }
    )
    return d.drop(index=rng.choice(len(d), round(0.08 * len(d)), replace=False)).reset_index(
        drop=True
    )


def simulate_crossed(n_subject: int, n_item: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s, i = np.meshgrid(np.arange(n_subject), np.arange(n_item), indexing="ij")
    s, i = s.ravel(), i.ravel()
    condition = np.where((s + i) % 2 == 0, "placebo", "naltrexone")
    rt = (
        500
        + rng.normal(0, 30, n_subject)[s]
        + rng.normal(0, 20, n_item)[i]
        + 25 * (condition == "naltrexone")
    )
    d = pd.DataFrame(
        {
            "subject": [f"s{k}" for k in s],
            "item": [f"i{k}" for k in i],
            "condition": condition,
            "rt": np.round(rt + rng.normal(0, 50, s.size), 3),
        }
    )
    return d.drop(index=rng.choice(len(d), round(0.08 * len(d)), replace=False)).reset_index(
        drop=True
    )


def simulate_insteval_shape(seed: int) -> pd.DataFrame:
    """A design of the shape of lme4's InstEval: 73,421 ratings, 2,972 students (s) crossed with
    1,128 lecturers (d), each student rating ~25 lecturers of very unequal popularity, and a
    two-level service factor; y = intercept + student + lecturer + service + noise with InstEval's
    variances (0.106, 0.268, residual 1.38)."""
    rng = np.random.default_rng(seed)
    n_rows, n_s, n_d = 73_421, 2_972, 1_128
    popularity = rng.gamma(0.8, 1.0, n_d)
    # every student and lecturer at least once, the other rows at random
    s = np.concatenate([np.arange(n_s), rng.integers(0, n_s, n_rows - n_s)])
    d = np.concatenate(
        [
            np.arange(n_d),
            rng.choice(n_d, n_rows - n_d, p=popularity / popularity.sum()),
        ]
    )
    rng.shuffle(d)
    service = rng.random(n_rows) < 0.42
    y = (
        3.2
        + rng.normal(0, np.sqrt(0.106), n_s)[s]
        + rng.normal(0, np.sqrt(0.268), n_d)[d]
        - 0.07 * service
        + rng.normal(0, np.sqrt(1.38), n_rows)
    )
    return pd.DataFrame(
        {
            "s": [f"s{k}" for k in s],
            "d": [f"d{k}" for k in d],
            "service": np.where(service, "yes", "no"),
            "y": np.round(y, 3),
        }
    )


def simulate_crossed_slope(n_subject: int, n_item: int, seed: int) -> pd.DataFrame:
    """Subjects crossed with items, a numeric within-subject x with a correlated random slope
    per subject (the shape of issue 19's D5: 25 x 15 = 375 rows)."""
    rng = np.random.default_rng(seed)
    s, i = np.meshgrid(np.arange(n_subject), np.arange(n_item), indexing="ij")
    s, i = s.ravel(), i.ravel()
    x = np.round(rng.uniform(0, 10, s.size), 3)
    z = rng.normal(size=(n_subject, 2))
    u0, u1 = 40 * z[:, 0], 3 * (0.3 * z[:, 0] + np.sqrt(0.91) * z[:, 1])
    y = 500 + u0[s] + (4 + u1[s]) * x + rng.normal(0, 25, n_item)[i] + rng.normal(0, 30, s.size)
    return pd.DataFrame(
        {
            "subject": [f"s{k:02d}" for k in s],
            "item": [f"i{k:02d}" for k in i],
            "x": x,
            "y": np.round(y, 4),
        }
    )


def measure(command: list[str], timeout: float) -> dict:
    try:
        out = subprocess.run(
            [sys.executable, "-c", WRAPPER, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    except subprocess.TimeoutExpired:
        return {"seconds": float("nan"), "error": f"timeout {timeout:.0f} s"}
    lines = out.stdout.strip().splitlines()
    if out.returncode or len(lines) < 2:
        return {
            "seconds": float("nan"),
            "error": (out.stderr.strip().splitlines() or ["failed"])[-1],
        }
    result = (
        json.loads(lines[-2])
        if lines[-2] != "{}"
        else {"seconds": float("nan"), "error": out.stderr[-200:]}
    )
    result["peak_mb"] = float(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="26,260,2600,10000,100000")
    parser.add_argument("--models", default="intercept,slopes")
    parser.add_argument(
        "--crossed", default="200x50", help="subjects x items of the crossed design ('' to skip)"
    )
    parser.add_argument(
        "--crossed-cases",
        default="insteval_shape,crossed_slope",
        help="InstEval's shape (73,421 rows, 2,972 s x 1,128 d) and a crossed design with a "
        "random slope (25 subjects x 15 items), comma-separated ('' to skip)",
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "lmm.tsv"))
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    rscript = None if args.no_r else shutil.which("Rscript")
    model_name = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    print(f"machine: {os.cpu_count()} CPUs ({model_name}), load {os.getloadavg()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for size in [int(s) for s in args.sizes.split(",") if s]:
            path = Path(tmp) / f"n{size}.tsv"
            simulate(size, 1000 + size).to_csv(path, sep="\t", index=False)
            jobs.extend((size, model, path) for model in args.models.split(","))
        if args.crossed:
            n_subject, n_item = (int(v) for v in args.crossed.split("x"))
            path = Path(tmp) / "crossed.tsv"
            simulate_crossed(n_subject, n_item, 7).to_csv(path, sep="\t", index=False)
            jobs.append((f"{n_subject}x{n_item}", "crossed", path))
        for case in [c for c in args.crossed_cases.split(",") if c]:
            path = Path(tmp) / f"{case}.tsv"
            if case == "insteval_shape":
                simulate_insteval_shape(19).to_csv(path, sep="\t", index=False)
                jobs.append(("2972x1128", case, path))
            elif case == "crossed_slope":
                simulate_crossed_slope(25, 15, 5).to_csv(path, sep="\t", index=False)
                jobs.append(("25x15", case, path))
            else:
                parser.error(
                    f"--crossed-cases: expected insteval_shape or crossed_slope, got {case}"
                )
        for size, model, path in jobs:
            n_obs = sum(1 for _ in open(path)) - 1
            repeats = 3 if n_obs < 50_000 else (2 if n_obs < 200_000 else 1)
            ours = measure(
                [
                    sys.executable,
                    "-c",
                    PY_CHILD,
                    str(ROOT / "src"),
                    str(path),
                    MODELS[model],
                    str(repeats),
                ],
                args.timeout,
            )
            theirs = {"seconds": float("nan"), "peak_mb": float("nan")}
            if rscript:
                theirs = measure(
                    [rscript, "-e", R_CHILD, str(path), MODELS[model], str(repeats)], args.timeout
                )
            agree = f_agree = float("nan")
            if "F" in ours and "F" in theirs:
                agree = float(np.max(np.abs(np.array(ours["df"]) / np.array(theirs["df"]) - 1)))
                f_agree = float(np.max(np.abs(np.array(ours["F"]) / np.array(theirs["F"]) - 1)))
            row = {
                "participants": size,
                "model": model,
                "observations": n_obs,
                "repeats": repeats,
                "engine_s": ours["seconds"],
                "engine_peak_mb": ours.get("peak_mb", float("nan")),
                "r_s": theirs["seconds"],
                "r_peak_mb": theirs.get("peak_mb", float("nan")),
                "time_ratio": ours["seconds"] / theirs["seconds"],
                "engine_cpu_s": ours.get("cpu_seconds", float("nan")),
                "r_cpu_s": theirs.get("cpu_seconds", float("nan")),
                "cpu_ratio": ours.get("cpu_seconds", float("nan"))
                / theirs.get("cpu_seconds", float("nan")),
                "memory_ratio": ours.get("peak_mb", float("nan"))
                / theirs.get("peak_mb", float("nan")),
                "df_max_rel_diff": agree,
                "F_max_rel_diff": f_agree,
                "note": "; ".join(x for x in (ours.get("error", ""), theirs.get("error", "")) if x),
            }
            rows.append(row)
            print(
                "\t".join(str(v) if not isinstance(v, float) else f"{v:.4g}" for v in row.values()),
                flush=True,
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, sep="\t", index=False, float_format="%.4g")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
