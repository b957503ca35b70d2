"""Figure: each participant's Glx/tNAA per block in both conditions, excluded spectra marked."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.figures.data import read_spectra
from crossover_fmrs.figures.mrs import glx_individual
from crossover_fmrs.figures.style import save_figure
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    figure, table = glx_individual(read_spectra(io.input["spectra"]), io.params["conditions"],
                                   infusion_window=io.params["infusion_window_min"],
                                   synthetic=io.params["synthetic"])
    save_figure(figure, io.output["png"], io.output["svg"], dpi=io.params["dpi"])
    write_tsv(table, io.output["tsv"])


run_step(main, globals().get("snakemake"))
