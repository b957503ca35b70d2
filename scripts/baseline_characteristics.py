"""Table 1: characteristics of the sample and the pre-infusion primary outcome per condition."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import clinical_scores_schema, participants_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.common.tables import write_tsv
from crossover_fmrs.stats.analyses import baseline_characteristics


def main(io):
    p = io.params
    table = baseline_characteristics(
        # this step has no conditions setting: they were checked by the steps that wrote these
        read_checked(io.input["participants"], participants_schema()),
        read_checked(io.input["scores"], clinical_scores_schema()),
        p["primary_outcome"],
        p["before"],
    )
    write_tsv(table, io.output["table"])


run_step(main, globals().get("snakemake"))
