"""Figure: MADRS at each time point and its change by condition (means with within-participant
CIs), with individual lines."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import clinical_scores_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.clinical import madrs_timecourse
from crossover_fmrs.figures.style import Labels, write_figure


def main(io):
    schema = clinical_scores_schema(io.params["conditions"], io.params["scales"])
    figure, table = madrs_timecourse(
        read_checked(io.input["scores"], schema),
        io.params["conditions"],
        io.params["scales"],
        outcome=io.params["outcome"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
