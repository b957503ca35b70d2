"""Figure: map of every spectrum's Glx/tNAA by participant, condition and block, exclusions coded."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.figures.data import read_spectra
from crossover_fmrs.figures.qc import qc_ratio_by_participant
from crossover_fmrs.figures.style import save_figure
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    figure, table = qc_ratio_by_participant(read_spectra(io.input["spectra"]), io.params["conditions"],
                                            synthetic=io.params["synthetic"])
    save_figure(figure, io.output["png"], io.output["svg"], dpi=io.params["dpi"])
    write_tsv(table, io.output["tsv"])


run_step(main, globals().get("snakemake"))
