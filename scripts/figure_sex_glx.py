"""Figure: Glx/tNAA time course by condition, males and females in separate panels."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import participants_schema, read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.mrs import sex_glx
from crossover_fmrs.figures.style import Labels, write_figure


def main(io):
    conditions = io.params["conditions"]
    figure, table = sex_glx(
        read_checked(io.input["spectra"], spectra_schema(conditions)),
        read_checked(io.input["participants"], participants_schema(conditions)),
        conditions,
        infusion_window=io.params["infusion_window_min"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
