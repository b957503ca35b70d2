"""Figure: forest plot of the per-site Glx/tNAA condition effects and the pooled estimates."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import read_checked, site_effects_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.sites import site_forest
from crossover_fmrs.figures.style import write_figure


def main(io):
    figure, table = site_forest(
        read_checked(io.input["effects"], site_effects_schema()),
        io.params["ratio_label"],
        synthetic=io.params["synthetic"],
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
