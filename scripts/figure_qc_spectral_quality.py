"""Figure: FWHM, S/N and %SD of the ratio's metabolites by condition against the QC thresholds."""

import _package  # noqa: F401  (puts src/ on the import path)

from crossover_fmrs.figures.data import read_spectra
from crossover_fmrs.figures.qc import qc_spectral_quality
from crossover_fmrs.figures.style import save_figure
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    figure, table = qc_spectral_quality(read_spectra(io.input["spectra"]), io.params["conditions"],
                                        io.params["thresholds"], synthetic=io.params["synthetic"])
    save_figure(figure, io.output["png"], io.output["svg"], dpi=io.params["dpi"])
    write_tsv(table, io.output["tsv"])


run_step(main, globals().get("snakemake"))
