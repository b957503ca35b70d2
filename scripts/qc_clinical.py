"""Report missing items, absent assessments, visits outside their windows and missing conditions."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import read_table, write_tsv
from crossover_fmrs.qc.clinical import clinical_checks, missing_conditions


def main(io):
    participants, scores = read_table(io.input["participants"]), read_table(io.input["scores"])
    checks = clinical_checks(
        scores, participants, io.params["scales"], io.params["conditions"], io.params["windows"]
    )
    write_tsv(checks, io.output["checks"])
    write_tsv(
        missing_conditions(scores, participants, io.params["conditions"]),
        io.output["missing_conditions"],
    )


run_step(main, globals().get("snakemake"))
