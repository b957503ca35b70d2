"""Table 1: characteristics of the sample and the pre-infusion primary outcome per condition."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.stats.analyses import baseline_characteristics


def main(io):
    p = io.params
    table = baseline_characteristics(
        read_table(io.input["participants"]),
        read_table(io.input["scores"]),
        p["primary_outcome"],
        p["before"],
    )
    write_tsv(table, io.output["table"])


run_step(main, globals().get("snakemake"))
