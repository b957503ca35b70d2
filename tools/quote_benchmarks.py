"""Write the speed tables the docs quote from the benchmark files, so no number is typed by hand.

    python tools/quote_benchmarks.py # after tools/benchmark_workflow.py or tools/benchmark_power.py

README.md ("## Speed") quotes tools/benchmark_workflow.tsv; docs/power.md ("## Speed") quotes
tools/benchmark_power.tsv. tests/test_docs.py checks that the quoted tables are those of the files.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rows(path: Path) -> list[dict]:
    with path.open() as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


def workflow_table() -> str:
    measured = {row["measure"]: row for row in rows(ROOT / "tools" / "benchmark_workflow.tsv")}
    cold = measured["cold full run"]
    floor = float(measured["floor: one-rule Snakefile no-op"]["median_s"])

    def median(name: str) -> float:
        return float(measured[name]["median_s"])

    return (
        "Measured here by `python tools/benchmark_workflow.py "
        f"--repeats {cold['repeats']}` (medians in\n"
        f"`tools/benchmark_workflow.tsv`; machine with {cold['machine_cpus']} CPUs, "
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
        f"| floor: one-rule Snakefile no-op | {floor:.2f} s | |\n"
        f"| floor: python importing pandas and matplotlib | "
        f"{median('floor: python importing pandas and matplotlib'):.2f} s | |\n"
    )


def power_table() -> str:
    measured = rows(ROOT / "tools" / "benchmark_power.tsv")
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
    replace_section(ROOT / "README.md", workflow_table())
    replace_section(ROOT / "docs" / "power.md", power_table())


if __name__ == "__main__":
    main()
