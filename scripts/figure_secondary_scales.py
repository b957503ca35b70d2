"""Figure: one panel per secondary outcome, mean and within-participant CI by condition."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import clinical_scores_schema, read_checked
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.clinical import secondary_scales
from crossover_fmrs.figures.style import Labels, write_figure


def main(io):
    schema = clinical_scores_schema(io.params["conditions"], io.params["scales"])
    figure, table = secondary_scales(
        read_checked(io.input["scores"], schema),
        io.params["conditions"],
        io.params["scales"],
        primary=io.params["primary"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
