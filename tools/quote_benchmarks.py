"""Write the speed tables the docs quote from the benchmark files, so no number is typed by hand.

    python tools/quote_benchmarks.py [--take workflow power scale]

The benchmarks write untracked files under benchmarks/ (tools/benchmark_workflow.py ->
workflow.tsv, tools/benchmark_power.py -> power.tsv, tools/benchmark_scale.py -> scale.tsv).
tools/benchmark_lmm.py -> lmm.tsv (or --out benchmarks/lmm_crossed.tsv for the crossed cases).
--take copies the named ones into docs/evidence/benchmarks/, the tracked record the docs quote;
then the tables are rewritten from that record: README.md ("## Speed") from workflow.tsv,
docs/power.md ("## Speed") from power.tsv, docs/performance.md ("## Speed") from scale.tsv.
tests/test_docs.py checks that the quoted tables are those of the record.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "benchmarks"
EVIDENCE = ROOT / "docs" / "evidence" / "benchmarks"


def rows(path: Path) -> list[dict]:
    with path.open() as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


def machine(row: dict) -> str:
    """Where a run was measured, from its own record (older records lack the CPU model)."""
    if row.get("cpu_model"):
        return (
            f"{row['cpu_model']}, {row['machine_cpus']} CPUs, 1-minute load "
            f"{row['load_1min_at_start']} at the start"
        )
    return f"machine with {row['machine_cpus']} CPUs"


def workflow_table() -> str:
    measured = {row["measure"]: row for row in rows(EVIDENCE / "workflow.tsv")}
    cold = measured["cold full run"]
    floor = float(measured["floor: one-rule Snakefile no-op"]["median_s"])

    def median(name: str) -> float:
        return float(measured[name]["median_s"])

    table = (
        "Measured here by `python tools/benchmark_workflow.py "
        f"--repeats {cold['repeats']}"
        + (" --with-tests" if "test suite (python -m pytest)" in measured else "")
        + "` (medians in\n"
        f"`docs/evidence/benchmarks/workflow.tsv`; {machine(cold)}, "
        f"`--cores {cold['cores']}`), beside the floor measured in\n"
        "the same run: what any Snakemake call costs (a one-rule Snakefile's no-op) "
        "and what any job of\n"
        "this workflow costs (a Python start that imports pandas and matplotlib).\n\n"
        "| measure | median | ratio to its floor |\n|---|---|---|\n"
        f"| cold full run | {median('cold full run'):.2f} s "
        f"({float(cold['cpu_s']):.1f} CPU-s) | |\n"
        f"| no-op rerun | {median('no-op rerun'):.2f} s | "
        f"{median('no-op rerun') / floor:.1f} × one-rule no-op |\n"
        f"| one figure rerun | {median('one figure rerun'):.2f} s | "
        f"{median('one figure rerun') / floor:.1f} × one-rule no-op |\n"
    )
    if "test suite (python -m pytest)" in measured:
        suite = median("test suite (python -m pytest)")
        table += (
            f"| test suite (python -m pytest) | {suite:.2f} s | "
            f"{suite / median('cold full run'):.1f} × cold full run |\n"
        )
    return table + (
        f"| floor: one-rule Snakefile no-op | {floor:.2f} s | |\n"
        f"| floor: python importing pandas and matplotlib | "
        f"{median('floor: python importing pandas and matplotlib'):.2f} s | |\n"
    )


def scale_table() -> str:
    measured = rows(EVIDENCE / "scale.tsv")
    lines = [
        "Measured by `python tools/benchmark_scale.py"
        + (" --with-10000" if any(r["participants"] == "10000" for r in measured) else "")
        + f"` (`docs/evidence/benchmarks/scale.tsv`; {machine_of_scale(measured[0])}, "
        f"`--cores {measured[0]['cores']}`); each size is a plain draw of the simulator at "
        f"{measured[0].get('sites', '1')} sites, run through the default target in a fresh copy "
        "of the workflow. The ratio is to the 26-participant run of the same session; the "
        "largest job is named by its benchmark file.",
        "",
        "| participants | jobs | wall | CPU | CPU ratio to 26 | largest peak memory of a job |",
        "|---|---|---|---|---|---|",
    ]
    for row in measured:
        lines.append(
            f"| {int(row['participants']):,} | {row['jobs']} | {float(row['wall_s']):.0f} s | "
            f"{float(row['cpu_s']):.0f} CPU-s | {row['cpu_ratio_to_26']} × | "
            f"{float(row['largest_job_peak_mb']):,.0f} MB "
            f"({row['largest_job'].removesuffix('.tsv')}) |"
        )
    return "\n".join(lines) + "\n"


def machine_of_scale(row: dict) -> str:
    return (
        f"{row['cpu_model']}, {row['machine_cpus']} CPUs, 1-minute load "
        f"{row['load_1min_before']} before the first run"
    )


def power_table() -> str:
    measured = rows(EVIDENCE / "power.tsv")
    sizes = [row for row in measured if row["n_participants"] != "all"]
    total = {row["workers"]: row for row in measured if row["n_participants"] == "all"}
    machine = (
        f"{sizes[0]['cpu_model']}, {sizes[0]['machine_cpus']} CPUs, 1-minute load "
        f"{sizes[0]['load_1min_at_start']} at the start"
        if "cpu_model" in sizes[0]
        else f"{sizes[0]['machine_cpus']} CPUs"
    )
    lines = [
        f"Measured on this project's machine ({machine}; other processes running slow every "
        "column alike; the ratio of the two columns is the machine's own):",
        "",
        "| participants | replicates/s, 1 worker | replicates/s, 2 workers |",
        "|---|---|---|",
    ]
    for n in dict.fromkeys(row["n_participants"] for row in sizes):
        one = next(row for row in sizes if row["n_participants"] == n and row["workers"] == "1")
        two = next(row for row in sizes if row["n_participants"] == n and row["workers"] == "2")
        lines.append(f"| {n} | {one['replicates_per_s']} | {two['replicates_per_s']} |")
    lines += [
        "",
        f"The default grid ({total['1']['grid_replicates']} replicates, 3 tests each, besides "
        "the few cells with varying sessions) "
        "is projected to take "
        f"{int(total['1']['projected_s']) / 60:.1f} min on 1 core and "
        f"{int(total['2']['projected_s']) / 60:.1f} min on 2.",
    ]
    return "\n".join(lines) + "\n"


def replace_section(path: Path, table: str) -> None:
    text = path.read_text()
    head, rest = text.split("## Speed\n", 1)
    after = rest.lstrip("\n").split("\n## ", 1)
    intro = after[0].split("\n\n")[0] if path.name == "power.md" else ""
    body = (intro + "\n\n" if intro else "") + table
    path.write_text(head + "## Speed\n\n" + body + ("\n## " + after[1] if len(after) > 1 else ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--take",
        nargs="+",
        default=[],
        choices=["workflow", "power", "scale", "lmm", "lmm_crossed"],
        help="copy benchmarks/NAME.tsv (a new measurement) into docs/evidence/benchmarks first",
    )
    for name in parser.parse_args().take:
        source = MEASURED / f"{name}.tsv"
        if not source.is_file():
            tool = name.split("_")[0]
            raise SystemExit(f"{source}: no measurement to take; run tools/benchmark_{tool}.py")
        EVIDENCE.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, EVIDENCE / f"{name}.tsv")
    replace_section(ROOT / "README.md", workflow_table())
    replace_section(ROOT / "docs" / "power.md", power_table())
    if (EVIDENCE / "scale.tsv").is_file():
        replace_section(ROOT / "docs" / "performance.md", scale_table())


if __name__ == "__main__":
    main()
