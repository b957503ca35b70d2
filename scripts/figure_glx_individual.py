"""Figure: each participant's Glx/tNAA per block in both conditions, excluded spectra marked."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.mrs import glx_individual
from crossover_fmrs.figures.style import Labels, Sizes, write_figure


def main(io):
    figure, table = glx_individual(
        read_checked(io.input["spectra"], spectra_schema(io.params["conditions"])),
        io.params["conditions"],
        infusion_window=io.params["infusion_window_min"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
        sizes=Sizes.from_params(io.params),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
