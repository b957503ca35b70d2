"""Figure: MADRS change (day 1 - pre) by condition, males vs females."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import (
    clinical_scores_schema,
    participants_schema,
    read_checked,
)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.clinical import sex_madrs
from crossover_fmrs.figures.style import Labels, write_figure


def main(io):
    conditions = io.params["conditions"]
    figure, table = sex_madrs(
        read_checked(io.input["scores"], clinical_scores_schema(conditions, io.params["scales"])),
        read_checked(io.input["participants"], participants_schema(conditions)),
        conditions,
        io.params["scales"],
        outcome=io.params["outcome"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
