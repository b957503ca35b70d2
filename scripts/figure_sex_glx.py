"""Figure: Glx/tNAA time course by condition, males and females in separate panels."""

import _package  # noqa: F401  (puts src/ on the import path)
from crossover_fmrs.common.step import run_step
from crossover_fmrs.figures.data import read_participants, read_spectra
from crossover_fmrs.figures.mrs import sex_glx
from crossover_fmrs.figures.style import Labels, write_figure


def main(io):
    figure, table = sex_glx(
        read_spectra(io.input["spectra"]),
        read_participants(io.input["participants"]),
        io.params["conditions"],
        infusion_window=io.params["infusion_window_min"],
        synthetic=io.params["synthetic"],
        labels=Labels.from_config(io.params["labels"]),
    )
    write_figure(
        figure, table, io.output, dpi=io.params["dpi"], max_side_px=io.params["max_side_px"]
    )


run_step(main, globals().get("snakemake"))
