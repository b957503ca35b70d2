"""Report missing items, absent assessments, visits outside their windows and missing conditions."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import clinical_scores_schema, participants_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.qc.clinical import clinical_checks, missing_conditions


def main(io):
    p = io.params
    participants = read_checked(io.input["participants"], participants_schema(p["conditions"]))
    scores = read_checked(io.input["scores"], clinical_scores_schema(p["conditions"], p["scales"]))
    checks = clinical_checks(scores, participants, p["scales"], p["conditions"], p["windows"])
    write_tsv(checks, io.output["checks"])
    write_tsv(
        missing_conditions(scores, participants, p["conditions"]), io.output["missing_conditions"]
    )


run_step(main, globals().get("snakemake"))
