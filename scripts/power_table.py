"""Power per test, effect and n with Monte Carlo CIs; the smallest n reaching each target; a
summary."""

import pandas as pd

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import atomic_write_text, read_table, write_tsv
from crossover_fmrs.power.replicates import check_chunk, chunk_replicates
from crossover_fmrs.power.summary import power_table, smallest_n, summary_markdown


def main(io):
    p = io.params
    chunks = io.input["chunks"] if isinstance(io.input["chunks"], list) else [io.input["chunks"]]
    tables = []
    for path, cell in zip(chunks, p["cells"], strict=True):
        table = read_table(path)
        expected = chunk_replicates(cell["chunk"], p["chunk_size"], p["replicates"])
        check_chunk(table, path, cell, expected)
        tables.append(table)
    replicates = pd.concat(tables, ignore_index=True).sort_values(
        ["test", "effect", "session_sd", "n_participants", "replicate"], kind="stable"
    )
    power = power_table(replicates, p["alpha"])
    sizes = smallest_n(power, p["targets"])
    published = pd.read_csv(io.input["published"], sep="\t", dtype=str, keep_default_na=False)
    write_tsv(replicates, io.output["replicates"])
    write_tsv(power, io.output["power"])
    write_tsv(sizes, io.output["sample_size"])
    atomic_write_text(
        io.output["summary"],
        summary_markdown(
            power, sizes, published, p["observed_n"], p["synthetic"], p["planning_effect"]
        ),
    )


run_step(main, globals().get("snakemake"))
