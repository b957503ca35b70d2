"""Flag every spectrum against the configured QC criteria and decide which enter the statistics."""

import _package  # noqa: F401  (puts src/ on the import path)

import pandas as pd

from crossover_fmrs.qc_mrs import apply_qc, qc_flags, spectrum_table
from crossover_fmrs.step import run_step, write_tsv


def main(io):
    mrs = pd.read_csv(io.input["mrs"], sep="\t", dtype={"participant_id": str, "condition": str})
    spectra = spectrum_table(mrs, io.params["ratio"]["numerator"], io.params["ratio"]["denominator"])
    flags = qc_flags(spectra, io.params["thresholds"])
    write_tsv(apply_qc(spectra, flags, io.params["thresholds"]["exclude_on"]), io.output["spectra"])
    write_tsv(flags, io.output["flags"])


run_step(main, globals().get("snakemake"))
