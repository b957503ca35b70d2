"""Figure: Glx/tNAA mean and within-participant CI per block by condition over the infusion."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.schemas import read_checked, spectra_schema
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.mrs import glx_timecourse
from crossover_fmrs.figures.style import Labels, write_figure


def main(io):
    figure, table = glx_timecourse(
        read_checked(io.input["spectra"], spectra_schema(io.params["conditions"])),
        io.params["conditions"],
        infusion_window=io.params["infusion_window_min"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
