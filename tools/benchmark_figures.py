"""Cost of every figure as the study grows: CPU seconds, peak memory and the PNG's pixel size.

Builds synthetic tables of the shape the figure scripts read (results/qc/mrs_spectra.tsv,
results/qc/mrs_qc_flags.tsv, results/tidy/clinical_scores.tsv, results/tidy/participants.tsv,
results/stats/participant_flow.tsv, results/stats/site_effects.tsv) at 26, 500 and 2,000
participants (10,000 with --large): 2 sessions x 6 fMRS blocks per participant, 7 clinical outcomes
at 2 time points per session, one site per 50 participants. Each figure then runs in its own Python
process, as a Snakemake job would: read its tables, draw, write PNG + SVG + TSV at the configured
dpi with the config's size settings. CPU seconds are the child's (read, draw, write; imports
excluded), peak memory its maximum resident set; also the PNG's pixels and the SVG's size. Not a
test: run by hand; the TSV it writes is untracked.

    python tools/benchmark_figures.py [--large] [--sizes 26 500] [--figures glx_individual]
        [--output benchmarks/figures.tsv]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SIZES = [26, 500, 2000]
LARGE = 10_000
CONDITIONS = ["placebo", "naltrexone"]
BLOCKS = {1: (-8.0, 0.0), 2: (0.0, 6.0), 3: (6.0, 12.0), 4: (12.0, 18.0), 5: (18.0, 24.0)}
BLOCKS[6] = (24.0, 30.0)
SCALES = {
    "MADRS": ["pre", "day1"],
    "QIDS_SR16": ["pre", "day1"],
    "SHAPS": ["pre", "day1"],
    "TEPS": ["pre", "day1"],
    "CADSS": ["pre", "post"],
}
OUTCOMES = {"TEPS": ["TEPS_A", "TEPS_C"]}
HOURS = {"pre": -1.0, "post": 2.0, "day1": 24.0}
PARTICIPANTS_PER_SITE = 50
FIGURES = [
    "glx_timecourse",
    "glx_individual",
    "madrs_timecourse",
    "secondary_scales",
    "sex_glx",
    "sex_madrs",
    "qc_spectral_quality",
    "qc_ratio_by_participant",
    "participant_flow",
    "site_forest",
]
COLUMNS = [
    "figure",
    "participants",
    "spectra",
    "cpu_s",
    "peak_rss_mb",
    "png_width",
    "png_height",
    "svg_mb",
]


def participant_ids(n: int) -> list[str]:
    return [f"sub-{i:05d}" for i in range(1, n + 1)]


def spectra_table(n: int, rng):
    """results/qc/mrs_spectra.tsv: every spectrum with its quality, ratio and QC decision (about 7%
    excluded, 1% without a ratio), whole-number %SD as LCModel writes it."""
    import numpy as np
    import pandas as pd

    ids = participant_ids(n)
    blocks = list(BLOCKS)
    rows = len(ids) * len(CONDITIONS) * len(blocks)
    frame = pd.DataFrame(
        {
            "participant_id": np.repeat(ids, len(CONDITIONS) * len(blocks)),
            "condition": np.tile(np.repeat(CONDITIONS, len(blocks)), len(ids)),
            "block": np.tile(blocks, len(ids) * len(CONDITIONS)),
        }
    )
    frame["onset_min"] = frame["block"].map({b: t[0] for b, t in BLOCKS.items()})
    frame["offset_min"] = frame["block"].map({b: t[1] for b, t in BLOCKS.items()})
    frame["phase"] = np.where(frame["offset_min"] <= 0, "baseline", "infusion")
    frame["fwhm_ppm"] = np.round(rng.normal(0.056, 0.009, rows), 4)
    frame["snr"] = np.round(rng.normal(25, 5, rows))
    frame["numerator_crlb_percent"] = np.clip(np.round(rng.normal(6, 2, rows)), 1, None)
    frame["denominator_crlb_percent"] = np.clip(np.round(rng.normal(2.5, 1, rows)), 1, None)
    frame["numerator"], frame["denominator"] = "Glx", "tNAA"
    person = np.repeat(rng.normal(0, 0.1, len(ids)), len(CONDITIONS) * len(blocks))
    frame["ratio"] = np.round(1.3 + person + rng.normal(0, 0.06, rows), 4)
    reason = rng.choice(
        ["", "fwhm", "snr", "crlb", "undetermined"], rows, p=[0.92, 0.02, 0.02, 0.02, 0.02]
    )
    undetermined = reason == "undetermined"
    frame.loc[undetermined, "ratio"] = np.nan
    frame.loc[undetermined, "numerator_crlb_percent"] = np.nan
    frame["flags"] = reason
    frame["excluded_by"] = reason
    frame["included"] = (reason == "") & frame["ratio"].notna()
    return frame


def scores_table(n: int, rng):
    """results/tidy/clinical_scores.tsv: every outcome at its time points per session, about 1%
    missing."""
    import numpy as np
    import pandas as pd

    parts = []
    ids = participant_ids(n)
    for scale, timepoints in SCALES.items():
        for outcome in OUTCOMES.get(scale, [scale]):
            for condition in CONDITIONS:
                for k, timepoint in enumerate(timepoints):
                    value = np.round(rng.normal(30 - 8 * k, 6, n))
                    value[rng.random(n) < 0.01] = np.nan
                    parts.append(
                        pd.DataFrame(
                            {
                                "participant_id": ids,
                                "condition": condition,
                                "timepoint": timepoint,
                                "hours_from_infusion": HOURS[timepoint],
                                "scale": scale,
                                "outcome": outcome,
                                "value": np.clip(value, 0, 60),
                            }
                        )
                    )
    return pd.concat(parts, ignore_index=True)


def participants_table(n: int):
    import pandas as pd

    ids = participant_ids(n)
    return pd.DataFrame(
        {
            "participant_id": ids,
            "sex": ["M" if i % 2 else "F" for i in range(n)],
            "age": [20 + i % 45 for i in range(n)],
            "order": ["-".join(CONDITIONS[:: 1 if i % 2 else -1]) for i in range(n)],
            "site": [f"site{i // PARTICIPANTS_PER_SITE + 1:03d}" for i in range(n)],
        }
    )


def flow_table(n: int):
    """results/stats/participant_flow.tsv of a crossover with a count per site in its first box."""
    import pandas as pd

    sites = participants_table(n)["site"].value_counts().sort_index()
    note = "per site: " + ", ".join(f"{s} {k}" for s, k in sites.items()) if len(sites) > 1 else ""
    half = n // 2
    pn, np_ = "placebo-naltrexone", "naltrexone-placebo"
    on = "Glx/tNAA: {n} participants, {s} spectra; MADRS: {n} participants, {r} ratings"
    rows = [
        (1, 1, "all", "Enrolled", "all", n, None, "", "all randomised"),
        (2, 2, "all", "Randomised", "all", n, None, "", note),
        (3, 3, pn, "Allocated to placebo → naltrexone", "all", half, None, "", ""),
        (4, 3, np_, "Allocated to naltrexone → placebo", "all", n - half, None, "", ""),
        (5, 4, pn, "Period 1: placebo", "placebo", half, None, "", "none missed"),
        (6, 4, np_, "Period 1: naltrexone", "naltrexone", n - half, None, "", "none missed"),
        (7, 5, pn, "Period 2: naltrexone", "naltrexone", half, None, "", "none missed"),
        (8, 5, np_, "Period 2: placebo", "placebo", n - half, None, "", "none missed"),
        *(
            (9 + k, 6, c, f"Analysed on {c}", c, n, None, "", on.format(n=n, s=6 * n, r=2 * n))
            for k, c in enumerate(CONDITIONS)
        ),
        (11, 7, "all", "Analysed, Glx/tNAA (mixed model)", "all", n, 12 * n, "spectra", ""),
        (12, 7, "all", "Analysed, MADRS (mixed model)", "all", n, 4 * n, "ratings", ""),
    ]
    columns = ["step", "tier", "arm", "stage", "condition", "n_participants", "n_observations"]
    return pd.DataFrame(rows, columns=columns + ["unit", "note"])


def site_effects_table(n: int, rng):
    """results/stats/site_effects.tsv: each site's estimate and the two pooled rows."""
    import numpy as np
    import pandas as pd

    sites = participants_table(n)["site"].value_counts().sort_index()
    k = len(sites)
    estimate = rng.normal(-0.03, 0.02, k)
    se = np.full(k, 0.015)
    frame = pd.DataFrame(
        {
            "level": "site",
            "site": sites.index,
            "n_participants": sites.to_numpy(),
            "estimate": estimate,
            "se": se,
            "ci_low": estimate - 1.96 * se,
            "ci_high": estimate + 1.96 * se,
        }
    )
    pooled = pd.DataFrame(
        {
            "level": ["pooled_model", "meta_analysis"],
            "site": "all",
            "n_participants": n,
            "estimate": -0.03,
            "se": 0.003,
            "ci_low": -0.036,
            "ci_high": -0.024,
            "tau2": [np.nan, 0.0001],
            "i2_percent": [np.nan, 20.0],
            "q": [np.nan, 1.25 * max(k - 1, 1)],
            "q_df": [np.nan, max(k - 1, 1)],
        }
    )
    return pd.concat([frame, pooled], ignore_index=True)


def flags_table(spectra, thresholds: dict | None = None):
    """results/qc/mrs_qc_flags.tsv of `spectra`, made by the QC stage's own qc_flags (thresholds
    of config.yaml unless given)."""
    import yaml

    from crossover_fmrs.qc.mrs import qc_flags

    if thresholds is None:
        thresholds = yaml.safe_load((ROOT / "config.yaml").read_text())["qc"]["mrs"]
    undetermined = spectra["ratio"].isna() | spectra["numerator_crlb_percent"].isna()
    return qc_flags(spectra.assign(undetermined=undetermined), thresholds)


def write_tables(n: int, folder: Path) -> None:
    import numpy as np

    from crossover_fmrs.common.tables import write_tsv

    rng = np.random.default_rng(n)
    folder.mkdir(parents=True, exist_ok=True)
    spectra = spectra_table(n, rng)
    write_tsv(spectra, folder / "mrs_spectra.tsv")
    write_tsv(flags_table(spectra), folder / "mrs_qc_flags.tsv")
    write_tsv(scores_table(n, rng), folder / "clinical_scores.tsv")
    write_tsv(participants_table(n), folder / "participants.tsv")
    write_tsv(flow_table(n), folder / "participant_flow.tsv")
    write_tsv(site_effects_table(n, rng), folder / "site_effects.tsv")


def run_one(name: str, folder: Path, out: Path) -> dict:
    """In the child process: one figure as its script runs it, timed."""
    import resource
    import time

    import yaml

    from crossover_fmrs.common import schemas
    from crossover_fmrs.common.schemas import read_checked
    from crossover_fmrs.figures import clinical, flow, mrs, qc, sites, style

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    fig = config["figures"]
    labels = style.Labels.from_config(fig["labels"])
    sizes = style.Sizes.from_params(fig)
    scales = {s["name"]: {"timepoints": s["timepoints"]} for s in config["clinical"]["scales"]}
    scales = {s: scales[s] for s in SCALES}
    window = fig["infusion_window_min"]
    start = time.process_time()
    spectra = lambda: read_checked(  # noqa: E731
        folder / "mrs_spectra.tsv", schemas.spectra_schema(CONDITIONS)
    )
    scores = lambda: read_checked(  # noqa: E731
        folder / "clinical_scores.tsv", schemas.clinical_scores_schema(CONDITIONS, scales)
    )
    people = lambda: read_checked(  # noqa: E731
        folder / "participants.tsv", schemas.participants_schema(CONDITIONS)
    )
    common = {"synthetic": True, "labels": labels}
    draw = {
        "glx_timecourse": lambda: mrs.glx_timecourse(
            spectra(), CONDITIONS, infusion_window=window, **common
        ),
        "glx_individual": lambda: mrs.glx_individual(
            spectra(), CONDITIONS, infusion_window=window, sizes=sizes, **common
        ),
        "madrs_timecourse": lambda: clinical.madrs_timecourse(
            scores(), CONDITIONS, scales, **common
        ),
        "secondary_scales": lambda: clinical.secondary_scales(
            scores(), CONDITIONS, scales, **common
        ),
        "sex_glx": lambda: mrs.sex_glx(
            spectra(), people(), CONDITIONS, infusion_window=window, **common
        ),
        "sex_madrs": lambda: clinical.sex_madrs(scores(), people(), CONDITIONS, scales, **common),
        "qc_spectral_quality": lambda: qc.qc_spectral_quality(
            spectra(),
            read_checked(folder / "mrs_qc_flags.tsv", schemas.qc_flags_schema(CONDITIONS)),
            CONDITIONS,
            sizes=sizes,
            **common,
        ),
        "qc_ratio_by_participant": lambda: qc.qc_ratio_by_participant(
            spectra(), CONDITIONS, sizes=sizes, **common
        ),
        "participant_flow": lambda: flow.participant_flow(
            read_checked(folder / "participant_flow.tsv", schemas.flow_schema()),
            CONDITIONS,
            synthetic=True,
        ),
        "site_forest": lambda: sites.site_forest(
            read_checked(folder / "site_effects.tsv", schemas.site_effects_schema()),
            "Glx/tNAA",
            synthetic=True,
        ),
    }[name]
    figure, table = draw()
    output = {kind: out / f"{name}.{kind}" for kind in ("png", "svg", "tsv")}
    style.write_figure(figure, table, output, dpi=fig["dpi"], max_side_px=fig["max_side_px"])
    cpu = time.process_time() - start
    png = output["png"].read_bytes()[16:24]  # IHDR: width and height, big-endian
    return {
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "png_width": int.from_bytes(png[:4], "big"),
        "png_height": int.from_bytes(png[4:], "big"),
        "svg_mb": round(output["svg"].stat().st_size / 1e6, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help=f"also {LARGE:,} participants")
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="participants (instead of the default)"
    )
    parser.add_argument("--figures", nargs="+", choices=FIGURES, default=FIGURES)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "figures.tsv")
    parser.add_argument(
        "--one", nargs=3, metavar=("FIGURE", "TABLES", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.one:
        name, folder, out = args.one
        print(json.dumps(run_one(name, Path(folder), Path(out))))
        return
    sizes = args.sizes or SIZES + ([LARGE] if args.large else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / str(n)
            print(f"{n} participants: writing the tables", file=sys.stderr, flush=True)
            write_tables(n, folder)
            for name in args.figures:
                print(f"{n} participants: {name}", file=sys.stderr, flush=True)
                child = subprocess.run(
                    [sys.executable, __file__, "--one", name, str(folder), str(folder)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                measured = json.loads(child.stdout.strip().splitlines()[-1])
                rows.append({"figure": name, "participants": n, "spectra": 12 * n, **measured})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(COLUMNS)] + ["\t".join(str(row[c]) for c in COLUMNS) for row in rows]
    machine = platform.processor() or platform.machine()
    note = f"# {platform.node()}, {machine}, Python {platform.python_version()}"
    args.output.write_text("\n".join([note] + lines) + "\n")
    print("\n".join([note] + lines))
    print(ratios(rows, sizes))


def ratios(rows: list[dict], sizes: list[int]) -> str:
    """CPU-s ratios between successive sizes per figure (linear: about the ratio of the sizes)."""
    cpu = {(row["figure"], row["participants"]): row["cpu_s"] for row in rows}
    pairs = [(sizes[0], sizes[-2] if len(sizes) > 2 and sizes[-1] == LARGE else sizes[-1])]
    if len(sizes) > 2 and sizes[-1] == LARGE:
        pairs.append((sizes[-2], LARGE))
    out = [f"CPU-s ratio {b}/{a} (sizes x{b / a:.0f})" for a, b in pairs]
    figures = list(dict.fromkeys(row["figure"] for row in rows))
    lines = ["figure\t" + "\t".join(out)]
    for name in figures:
        values = [cpu.get((name, b), 0) / max(cpu.get((name, a), 0), 0.01) for a, b in pairs]
        lines.append(name + "\t" + "\t".join(f"{v:.1f}" for v in values))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
