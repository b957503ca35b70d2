"""One chunk of power replicates of one grid cell (n participants x effect): simulate, test,
write p-values."""

import sys

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.power.replicates import Formulas, chunk_replicates, run_chunk
from crossover_fmrs.simulate.replicate import Design


def main(io):
    p = io.params
    cell = p["cell"]
    replicates = chunk_replicates(cell["chunk"], p["chunk_size"], p["replicates"])
    design = Design(
        n_participants=cell["n_participants"], session_sd=cell["session_sd"], **p["design"]
    )
    settings = {**p["simulation"], "reference_condition": p["reference"]}

    def progress(done, total):
        print(
            f"n = {cell['n_participants']}, effect {cell['effect']!r}, session SD "
            f"{cell['session_sd']!r}: replicate {done} of {total} done",
            file=sys.stderr,
            flush=True,
        )

    table = run_chunk(
        settings,
        p["conditions"],
        p["reference"],
        Formulas(**p["formulas"]),
        design,
        cell["effect"],
        p["seed"],
        replicates,
        progress,
    )
    write_tsv(table, io.output["replicates"])


run_step(main, globals().get("snakemake"))
